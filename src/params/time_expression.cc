// The $[...] time language: exact day arithmetic, calendar shifts and Java SimpleDateFormat
// patterns (see EvalTimeExpression in params.h). Hand-written: DolphinScheduler's dialect is its
// own (TimePlaceholderUtils) and no C++ library formats Java patterns. Only the evaluation of one
// expression lives here; scanning text for $[...] is in params.cc.
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "params/params.h"

namespace dsched::params {
namespace {

// Days are cut into hours and minutes by division (-1/24/60), so N is kept as an exact fraction;
// a double would make 1/24/60*86400 land on 59.999... seconds.
struct Rational {
  __int128 num = 0;
  __int128 den = 1;  // always > 0, gcd(num, den) == 1
};

constexpr __int128 kInt64Max = INT64_MAX;

// Normalizes and rejects values whose parts no longer fit in 64 bits, which keeps every
// intermediate product inside __int128.
std::optional<Rational> Make(__int128 num, __int128 den) {
  if (den < 0) num = -num, den = -den;
  __int128 a = num < 0 ? -num : num, b = den;
  while (b != 0) {
    __int128 t = a % b;
    a = b;
    b = t;
  }
  if (a > 1) num /= a, den /= a;
  if (num > kInt64Max || num < -kInt64Max || den > kInt64Max) return std::nullopt;
  return Rational{num, den};
}

// Recursive-descent parser and evaluator for N. Syntax errors and arithmetic errors are kept
// apart: the offset split in a pattern asks only "is this text an expression?", and a division
// by zero in a well-formed suffix must then be reported, not make the text a pattern.
//   expr := term (('+'|'-') term)*    term := unary (('*'|'/') unary)*
//   unary := ('+'|'-') unary | primary   primary := digits | '(' expr ')'
class ArithParser {
 public:
  explicit ArithParser(std::string_view s) : s_(s) {}

  // True when the whole text is one well-formed expression; then value() or math_error() holds.
  bool Parse() {
    Rational r = Expr(0);
    SkipSpaces();
    if (pos_ != s_.size()) Fail("unexpected '" + std::string(1, s_[pos_]) + "'");
    value_ = r;
    return syntax_error_.empty();
  }
  const Rational& value() const { return value_; }
  const std::string& syntax_error() const { return syntax_error_; }
  const std::string& math_error() const { return math_error_; }

 private:
  // Deep nesting is malformed input, not a reason to exhaust the stack.
  static constexpr int kMaxDepth = 64;

  void SkipSpaces() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  bool Eat(char c) {
    SkipSpaces();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void Fail(std::string why) {
    if (syntax_error_.empty()) syntax_error_ = std::move(why);
  }
  // After an arithmetic error parsing goes on with 0 so that syntax is still checked.
  Rational MathFail(std::string why) {
    if (math_error_.empty()) math_error_ = std::move(why);
    return Rational{};
  }
  Rational Combine(const Rational& a, const Rational& b, char op) {
    std::optional<Rational> r;
    switch (op) {
      case '+':
        r = Make(a.num * b.den + b.num * a.den, a.den * b.den);
        break;
      case '-':
        r = Make(a.num * b.den - b.num * a.den, a.den * b.den);
        break;
      case '*':
        r = Make(a.num * b.num, a.den * b.den);
        break;
      default:
        if (b.num == 0) return MathFail("division by zero");
        r = Make(a.num * b.den, a.den * b.num);
        break;
    }
    if (!r) return MathFail("number too large");
    return *r;
  }

  Rational Expr(int depth) {
    if (depth > kMaxDepth) {
      Fail("nested too deeply");
      return Rational{};
    }
    Rational r = Term(depth);
    while (syntax_error_.empty()) {
      if (Eat('+')) {
        r = Combine(r, Term(depth), '+');
      } else if (Eat('-')) {
        r = Combine(r, Term(depth), '-');
      } else {
        break;
      }
    }
    return r;
  }
  Rational Term(int depth) {
    Rational r = Unary(depth);
    while (syntax_error_.empty()) {
      if (Eat('*')) {
        r = Combine(r, Unary(depth), '*');
      } else if (Eat('/')) {
        r = Combine(r, Unary(depth), '/');
      } else {
        break;
      }
    }
    return r;
  }
  Rational Unary(int depth) {
    if (depth > kMaxDepth) {
      Fail("nested too deeply");
      return Rational{};
    }
    if (Eat('-')) {
      Rational r = Unary(depth + 1);
      r.num = -r.num;
      return r;
    }
    if (Eat('+')) return Unary(depth + 1);
    return Primary(depth);
  }
  Rational Primary(int depth) {
    SkipSpaces();
    if (Eat('(')) {
      Rational r = Expr(depth + 1);
      if (!Eat(')')) Fail("missing ')'");
      return r;
    }
    if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') {
      Fail(pos_ >= s_.size() ? "missing number" : "unexpected '" + std::string(1, s_[pos_]) + "'");
      return Rational{};
    }
    __int128 v = 0;
    bool too_big = false;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      v = v * 10 + (s_[pos_++] - '0');
      if (v > kInt64Max) too_big = true, v = 0;
    }
    if (too_big) return MathFail("number too large");
    return Rational{v, 1};
  }

  std::string_view s_;
  size_t pos_ = 0;
  Rational value_;
  std::string syntax_error_;
  std::string math_error_;
};

// Evaluates N of a function argument or an offset: InvalidArgument with the reason only, the
// caller adds the expression.
StatusOr<Rational> EvalNumber(std::string_view text) {
  ArithParser p(text);
  if (!p.Parse())
    return InvalidArgument("bad number '" + std::string(text) + "': " + p.syntax_error());
  if (!p.math_error().empty()) {
    return InvalidArgument("bad number '" + std::string(text) + "': " + p.math_error());
  }
  return p.value();
}

// Truncation toward zero, as Java's integer arithmetic does for N in DolphinScheduler.
int64_t Truncate(const Rational& r) { return static_cast<int64_t>(r.num / r.den); }

// Broken-down local time. Conversions go through the C library so the process TZ, including
// DST, applies the same way everywhere in dsched.
struct Civil {
  int64_t year = 1970;
  int month = 1;    // 1..12
  int64_t day = 1;  // may leave 1..31 before normalization by FromCivil
  int hour = 0, minute = 0, second = 0, millis = 0;
  int wday = 4;  // 0 = Sunday
  int yday = 0;  // 0-based
};

// Limits far beyond any schedule keep tm_year and tm_mday inside int.
constexpr int64_t kMaxDays = 10'000'000;
constexpr int64_t kMaxMonths = 300'000;

StatusOr<Civil> ToCivil(int64_t ms) {
  int64_t secs = ms / 1000, millis = ms % 1000;
  if (millis < 0) millis += 1000, secs -= 1;
  time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  if (localtime_r(&t, &tm) == nullptr) return InvalidArgument("time out of range");
  Civil c;
  c.year = tm.tm_year + 1900LL;
  c.month = tm.tm_mon + 1;
  c.day = tm.tm_mday;
  c.hour = tm.tm_hour;
  c.minute = tm.tm_min;
  c.second = tm.tm_sec;
  c.millis = static_cast<int>(millis);
  c.wday = tm.tm_wday;
  c.yday = tm.tm_yday;
  return c;
}

StatusOr<int64_t> FromCivil(const Civil& c) {
  if (c.year < -100'000 || c.year > 100'000 || c.day < -kMaxDays || c.day > kMaxDays) {
    return InvalidArgument("time out of range");
  }
  struct tm tm {};
  tm.tm_year = static_cast<int>(c.year - 1900);
  tm.tm_mon = c.month - 1;
  tm.tm_mday = static_cast<int>(c.day);
  tm.tm_hour = c.hour;
  tm.tm_min = c.minute;
  tm.tm_sec = c.second;
  tm.tm_isdst = -1;  // let the zone decide, as Java's Calendar does
  errno = 0;
  time_t t = mktime(&tm);
  // -1 is also 1969-12-31 23:59:59 UTC, so only errno tells failure apart.
  if (t == static_cast<time_t>(-1) && errno != 0) return InvalidArgument("time out of range");
  return static_cast<int64_t>(t) * 1000 + c.millis;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

StatusOr<int64_t> AddCalendarDays(int64_t ms, int64_t days) {
  if (days < -kMaxDays || days > kMaxDays) return InvalidArgument("offset too large");
  DSCHED_ASSIGN_OR_RETURN(Civil c, ToCivil(ms));
  c.day += days;
  return FromCivil(c);
}

// Adds N days given as a fraction: whole days by calendar, the rest as absolute seconds.
StatusOr<int64_t> AddDays(int64_t ms, const Rational& n) {
  if (n.num / n.den > kMaxDays || n.num / n.den < -kMaxDays) {
    return InvalidArgument("offset too large");
  }
  __int128 seconds = n.num * 86400 / n.den;  // C++ division truncates toward zero
  int64_t days = static_cast<int64_t>(seconds / 86400);
  int64_t rest = static_cast<int64_t>(seconds % 86400);
  DSCHED_ASSIGN_OR_RETURN(int64_t shifted, AddCalendarDays(ms, days));
  return shifted + rest * 1000;
}

StatusOr<int64_t> AddMonths(int64_t ms, int64_t months) {
  if (months < -kMaxMonths || months > kMaxMonths) return InvalidArgument("offset too large");
  DSCHED_ASSIGN_OR_RETURN(Civil c, ToCivil(ms));
  int64_t m0 = c.month - 1 + months;
  int64_t year_shift = m0 >= 0 ? m0 / 12 : -((-m0 + 11) / 12);
  c.year += year_shift;
  c.month = static_cast<int>(m0 - year_shift * 12) + 1;
  if (c.day > DaysInMonth(c.year, c.month)) c.day = DaysInMonth(c.year, c.month);
  return FromCivil(c);
}

// The finest calendar field a pattern prints; timestamp() truncates to it.
enum class Unit { kNone, kYear, kMonth, kDay, kHour, kMinute, kSecond, kMilli };

std::string Pad(int64_t v, int width) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  if (static_cast<int>(digits.size()) < width) digits.insert(0, width - digits.size(), '0');
  return v < 0 ? "-" + digits : digits;
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Formats like java.text.SimpleDateFormat in an English locale. Counts follow Java: numbers are
// zero-padded to the run length, "yy" is the two-digit year, 3 letters of M/E give the short
// name and 4 or more the full name.
StatusOr<std::string> FormatPattern(std::string_view p, const Civil& c, Unit* finest) {
  static constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
  static constexpr const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
  std::string out;
  Unit unit = Unit::kNone;
  auto saw = [&unit](Unit u) {
    if (u > unit) unit = u;
  };
  size_t i = 0;
  while (i < p.size()) {
    char ch = p[i];
    if (ch == '\'') {
      if (i + 1 < p.size() && p[i + 1] == '\'') {
        out += '\'';
        i += 2;
        continue;
      }
      size_t j = i + 1;
      while (true) {
        if (j >= p.size()) return InvalidArgument("unterminated quote");
        if (p[j] == '\'') {
          if (j + 1 < p.size() && p[j + 1] == '\'') {
            out += '\'';
            j += 2;
            continue;
          }
          break;
        }
        out += p[j++];
      }
      i = j + 1;
      continue;
    }
    if (!IsAsciiLetter(ch)) {
      out += ch;
      ++i;
      continue;
    }
    int n = 0;
    while (i < p.size() && p[i] == ch) ++i, ++n;
    switch (ch) {
      case 'y':
        out += n == 2 ? Pad(c.year % 100, 2) : Pad(c.year, n);
        saw(Unit::kYear);
        break;
      case 'M':
        if (n >= 4) {
          out += kMonths[c.month - 1];
        } else if (n == 3) {
          out += std::string(kMonths[c.month - 1], 3);
        } else {
          out += Pad(c.month, n);
        }
        saw(Unit::kMonth);
        break;
      case 'd':
        out += Pad(c.day, n);
        saw(Unit::kDay);
        break;
      case 'D':
        out += Pad(c.yday + 1, n);
        saw(Unit::kDay);
        break;
      case 'E':
        out += n >= 4 ? std::string(kDays[c.wday]) : std::string(kDays[c.wday], 3);
        saw(Unit::kDay);
        break;
      case 'u':
        out += Pad(c.wday == 0 ? 7 : c.wday, n);
        saw(Unit::kDay);
        break;
      case 'H':
        out += Pad(c.hour, n);
        saw(Unit::kHour);
        break;
      case 'k':
        out += Pad(c.hour == 0 ? 24 : c.hour, n);
        saw(Unit::kHour);
        break;
      case 'K':
        out += Pad(c.hour % 12, n);
        saw(Unit::kHour);
        break;
      case 'h':
        out += Pad(c.hour % 12 == 0 ? 12 : c.hour % 12, n);
        saw(Unit::kHour);
        break;
      case 'a':
        out += c.hour < 12 ? "AM" : "PM";
        saw(Unit::kHour);
        break;
      case 'm':
        out += Pad(c.minute, n);
        saw(Unit::kMinute);
        break;
      case 's':
        out += Pad(c.second, n);
        saw(Unit::kSecond);
        break;
      case 'S':
        out += Pad(c.millis, n);
        saw(Unit::kMilli);
        break;
      case 'G':
      case 'Y':
      case 'w':
      case 'W':
      case 'F':
      case 'L':
      case 'z':
      case 'Z':
      case 'X':
        return InvalidArgument(std::string("pattern letter '") + ch + "' is not supported");
      default:
        return InvalidArgument(std::string("illegal pattern letter '") + ch + "'");
    }
  }
  if (finest != nullptr) *finest = unit;
  return out;
}

// A time and the pattern to print it with: what every form except timestamp() produces.
struct Dated {
  int64_t ms;
  std::string_view pattern;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits "pattern+N" at the first sign outside quotes whose rest is a well-formed expression.
// The first rather than the last, so yyyyMMdd-1-2 is three days back and not "yyyyMMdd-1"
// printed two days back. A sign left in the pattern that looks like an attempted offset (before
// a digit, '(' or the end) is an error rather than literal text: Java would print it, but a
// user who wrote it meant arithmetic.
StatusOr<Dated> EvalOffset(std::string_view expr, int64_t base_ms) {
  std::string_view pattern = expr;
  std::optional<Rational> offset;
  bool quoted = false;
  for (size_t i = 0; i < expr.size(); ++i) {
    char ch = expr[i];
    if (ch == '\'') quoted = !quoted;
    if (quoted || (ch != '+' && ch != '-') || i == 0) continue;
    ArithParser p(expr.substr(i));
    if (!p.Parse()) continue;
    if (!p.math_error().empty()) {
      return InvalidArgument("bad day offset '" + std::string(expr.substr(i)) +
                             "': " + p.math_error());
    }
    pattern = expr.substr(0, i);
    offset = p.value();
    break;
  }
  quoted = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char ch = pattern[i];
    if (ch == '\'') quoted = !quoted;
    if (quoted || (ch != '+' && ch != '-')) continue;
    char next = i + 1 < pattern.size() ? pattern[i + 1] : '\0';
    if (next == '\0' || next == '(' || (next >= '0' && next <= '9')) {
      return InvalidArgument("bad day offset '" + std::string(expr.substr(i)) + "'");
    }
  }
  if (pattern.empty()) return InvalidArgument("missing date pattern");
  int64_t ms = base_ms;
  if (offset) {
    DSCHED_ASSIGN_OR_RETURN(ms, AddDays(base_ms, *offset));
  }
  return Dated{ms, pattern};
}

constexpr std::string_view kAddMonths = "add_months";
constexpr std::string_view kMonthBegin = "month_begin";
constexpr std::string_view kMonthEnd = "month_end";
constexpr std::string_view kWeekBegin = "week_begin";
constexpr std::string_view kWeekEnd = "week_end";
constexpr std::string_view kTimestamp = "timestamp";

// If expr is "name(args)" for one of the given function names, sets name/args.
// Returns false when expr is not a call; an opened call without its ')' is an error.
StatusOr<bool> AsCall(std::string_view expr, std::string_view* name, std::string_view* args) {
  for (std::string_view f :
       {kAddMonths, kMonthBegin, kMonthEnd, kWeekBegin, kWeekEnd, kTimestamp}) {
    if (expr.size() > f.size() && expr.substr(0, f.size()) == f && expr[f.size()] == '(') {
      if (expr.back() != ')') return InvalidArgument(std::string(f) + "(...) is missing ')'");
      *name = f;
      *args = expr.substr(f.size() + 1, expr.size() - f.size() - 2);
      return true;
    }
  }
  return false;
}

// Every form but timestamp(): a calendar function or pattern[+-N].
StatusOr<Dated> EvalDated(std::string_view expr, int64_t base_ms) {
  std::string_view name, args;
  DSCHED_ASSIGN_OR_RETURN(bool is_call, AsCall(expr, &name, &args));
  if (!is_call) return EvalOffset(expr, base_ms);
  if (name == kTimestamp) return InvalidArgument("timestamp(...) cannot be nested");

  // The pattern may itself contain a comma (quoted or literal) but N cannot.
  size_t comma = args.rfind(',');
  if (comma == std::string_view::npos) {
    return InvalidArgument(std::string(name) + " wants (pattern, N)");
  }
  std::string_view pattern = Trim(args.substr(0, comma));
  if (pattern.empty()) return InvalidArgument(std::string(name) + ": missing date pattern");
  DSCHED_ASSIGN_OR_RETURN(Rational n, EvalNumber(Trim(args.substr(comma + 1))));
  int64_t count = Truncate(n);

  if (name == kAddMonths) {
    DSCHED_ASSIGN_OR_RETURN(int64_t ms, AddMonths(base_ms, count));
    return Dated{ms, pattern};
  }
  DSCHED_ASSIGN_OR_RETURN(Civil c, ToCivil(base_ms));
  if (name == kMonthBegin) {
    c.day = 1;
  } else if (name == kMonthEnd) {
    c.day = DaysInMonth(c.year, c.month);
  } else if (name == kWeekBegin) {
    c.day -= (c.wday + 6) % 7;  // back to Monday
  } else {
    c.day += (7 - c.wday) % 7;  // forward to Sunday
  }
  DSCHED_ASSIGN_OR_RETURN(int64_t anchor, FromCivil(c));
  DSCHED_ASSIGN_OR_RETURN(int64_t ms, AddCalendarDays(anchor, count));
  return Dated{ms, pattern};
}

StatusOr<std::string> Eval(std::string_view expr, int64_t base_ms) {
  if (expr.empty()) return InvalidArgument("empty");
  std::string_view name, args;
  DSCHED_ASSIGN_OR_RETURN(bool is_call, AsCall(expr, &name, &args));
  if (is_call && name == kTimestamp) {
    DSCHED_ASSIGN_OR_RETURN(Dated d, EvalDated(Trim(args), base_ms));
    DSCHED_ASSIGN_OR_RETURN(Civil c, ToCivil(d.ms));
    Unit finest = Unit::kNone;
    DSCHED_RETURN_IF_ERROR(FormatPattern(d.pattern, c, &finest).status());
    if (finest == Unit::kNone) return InvalidArgument("timestamp(...) needs a date pattern");
    if (finest < Unit::kMonth) c.month = 1;
    if (finest < Unit::kDay) c.day = 1;
    if (finest < Unit::kHour) c.hour = 0;
    if (finest < Unit::kMinute) c.minute = 0;
    if (finest < Unit::kSecond) c.second = 0;
    c.millis = 0;
    DSCHED_ASSIGN_OR_RETURN(int64_t ms, FromCivil(c));
    return std::to_string(ms / 1000);  // exact: millis were zeroed
  }
  DSCHED_ASSIGN_OR_RETURN(Dated d, EvalDated(expr, base_ms));
  DSCHED_ASSIGN_OR_RETURN(Civil c, ToCivil(d.ms));
  return FormatPattern(d.pattern, c, nullptr);
}

}  // namespace

StatusOr<std::string> EvalTimeExpression(std::string_view expr, int64_t base_ms) {
  StatusOr<std::string> r = Eval(expr, base_ms);
  if (r.ok()) return r;
  return InvalidArgument("bad time expression '$[" + std::string(expr) +
                         "]': " + r.status().message());
}

}  // namespace dsched::params
