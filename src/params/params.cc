// Properties, builtins, ${}/$[] substitution, parameter precedence and var pools (params.h).
// Hand-written: DolphinScheduler's placeholder rules are its own, and a template engine would
// bring syntax (escapes, filters, recursion) that DolphinScheduler scripts do not expect.
// The $[...] evaluator itself is in time_expression.cc.
#include "params/params.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace dsched::params {
namespace {

constexpr std::string_view kDollarSetValue = "${setValue(";
constexpr std::string_view kHashSetValue = "#{setValue(";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// A decimal integer with an optional sign, as Java's Integer/Long.parseLong read it.
// Sets *overflow when the digits are fine but do not fit in [lo, hi].
bool ParseInteger(std::string_view s, int64_t lo, int64_t hi, bool* overflow) {
  *overflow = false;
  // from_chars takes a '-' but not a '+'; "+-5" stays invalid.
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s.front() == '-') return false;
  }
  if (s.empty()) return false;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ptr != s.data() + s.size()) return false;
  if (ec == std::errc::result_out_of_range || v < lo || v > hi) {
    *overflow = true;
    return false;
  }
  return ec == std::errc();
}

// [+-] digits [. digits] [e [+-] digits], also ".5" and "5.": the decimal forms Java's
// Double.parseDouble accepts (its hex and NaN/Infinity spellings are not worth supporting).
bool IsDecimalNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t whole = digits();
  size_t fraction = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    fraction = digits();
  }
  if (whole + fraction == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] - 'A' + 'a' : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

// Index of the ')' that ends a setValue body starting at `start`, or npos when there is none.
// DolphinScheduler ends the value at the first ")}"; dsched also lets a value contain balanced
// parentheses (k=f(x)). The balanced end is only looked for up to the end of the line holding
// the first ")}", so a stray '(' cannot swallow the rest of a long log.
size_t FindSetValueClose(std::string_view s, size_t start) {
  size_t first = s.find(")}", start);
  if (first == std::string_view::npos) return first;
  int depth = 0;
  for (size_t i = start; i < s.size(); ++i) {
    char c = s[i];
    if (i > first && c == '\n') break;
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (depth == 0 && i + 1 < s.size() && s[i + 1] == '}') return i;
      if (depth > 0) --depth;
    }
  }
  return first;
}

}  // namespace

Status ValidateProperty(const Property& p) {
  static const std::set<std::string, std::less<>> kTypes = {
      "VARCHAR", "INTEGER",   "LONG",    "FLOAT", "DOUBLE", "DATE",
      "TIME",    "TIMESTAMP", "BOOLEAN", "LIST",  "FILE"};
  auto bad = [&p](const std::string& why) {
    return InvalidArgument("param '" + p.prop + "': " + why);
  };
  if (p.prop.empty()) return bad("name is empty");
  if (p.direct != "IN" && p.direct != "OUT") {
    return bad("direct must be IN or OUT, got '" + p.direct + "'");
  }
  if (kTypes.find(p.type) == kTypes.end()) return bad("unknown type '" + p.type + "'");
  // Placeholders are checked after substitution, when the value exists.
  if (p.value.empty() || p.value.find("${") != std::string::npos ||
      p.value.find("$[") != std::string::npos) {
    return Status::Ok();
  }
  const std::string got = ", got '" + p.value + "'";
  bool overflow = false;
  if (p.type == "INTEGER" && !ParseInteger(p.value, std::numeric_limits<int32_t>::min(),
                                           std::numeric_limits<int32_t>::max(), &overflow)) {
    return bad(overflow ? "type INTEGER wants a 32-bit integer" + got
                        : "type INTEGER wants an integer" + got);
  }
  if (p.type == "LONG" && !ParseInteger(p.value, std::numeric_limits<int64_t>::min(),
                                        std::numeric_limits<int64_t>::max(), &overflow)) {
    return bad(overflow ? "type LONG wants a 64-bit integer" + got
                        : "type LONG wants an integer" + got);
  }
  if ((p.type == "FLOAT" || p.type == "DOUBLE") && !IsDecimalNumber(p.value)) {
    return bad("type " + p.type + " wants a number" + got);
  }
  if (p.type == "BOOLEAN" && !EqualsIgnoreCase(p.value, "true") &&
      !EqualsIgnoreCase(p.value, "false")) {
    return bad("type BOOLEAN wants true or false" + got);
  }
  return Status::Ok();
}

Vars Builtins(const BuiltinInputs& in) {
  Vars v;
  // These cannot fail for any time the C library represents; for one it cannot, the variables
  // are left out rather than invented.
  auto put_time = [&](const char* name, std::string_view expr) {
    StatusOr<std::string> r = EvalTimeExpression(expr, in.base_ms);
    if (r.ok()) v[name] = *r;
  };
  put_time("system.datetime", "yyyyMMddHHmmss");
  put_time("system.biz.date", "yyyyMMdd-1");
  put_time("system.biz.curdate", "yyyyMMdd");
  auto put_id = [&](const char* name, int64_t id) {
    if (id > 0) v[name] = std::to_string(id);
  };
  auto put_str = [&](const char* name, const std::string& s) {
    if (!s.empty()) v[name] = s;
  };
  put_id("system.task.instance.id", in.task_instance_id);
  put_id("system.workflow.instance.id", in.workflow_instance_id);
  put_str("system.project.name", in.project_name);
  put_id("system.project.code", in.project_code);
  put_str("system.workflow.definition.name", in.workflow_name);
  put_id("system.workflow.definition.code", in.workflow_code);
  put_str("system.task.definition.name", in.task_name);
  put_id("system.task.definition.code", in.task_code);
  put_str("system.task.execute.path", in.execute_path);
  return v;
}

StatusOr<std::string> Substitute(std::string_view text, const Vars& vars, int64_t base_ms) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$' || i + 1 >= text.size() || (text[i + 1] != '{' && text[i + 1] != '[')) {
      out += text[i++];
      continue;
    }
    if (text[i + 1] == '{') {
      if (text.substr(i, kDollarSetValue.size()) == kDollarSetValue) {
        size_t close = FindSetValueClose(text, i + kDollarSetValue.size());
        if (close != std::string_view::npos) {
          out.append(text.substr(i, close + 2 - i));
          i = close + 2;
          continue;
        }
      }
      size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        out.append(text.substr(i));
        break;
      }
      auto it = vars.find(std::string(text.substr(i + 2, close - i - 2)));
      if (it != vars.end()) {
        out += it->second;
      } else {
        out.append(text.substr(i, close + 1 - i));
      }
      i = close + 1;
      continue;
    }
    size_t close = text.find(']', i + 2);
    if (close == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    DSCHED_ASSIGN_OR_RETURN(std::string value,
                            EvalTimeExpression(text.substr(i + 2, close - i - 2), base_ms));
    out += value;
    i = close + 1;
  }
  return out;
}

StatusOr<Vars> ResolveTaskParams(const std::vector<Property>& global_params,
                                 const std::vector<Property>& upstream_var_pool,
                                 const std::vector<Property>& local_params,
                                 const Vars& startup_params, const Vars& builtins,
                                 int64_t base_ms) {
  auto resolve = [base_ms](const std::string& name, const std::string& value,
                           const Vars& context) -> StatusOr<std::string> {
    StatusOr<std::string> r = Substitute(value, context, base_ms);
    if (!r.ok()) return InvalidArgument("param '" + name + "': " + r.status().message());
    return r;
  };

  // Curing globals takes two passes so that a global may name another global whose own value
  // refers to builtins or $[] (g2 = "${g1}_x", g1 = "${system.biz.date}").
  Vars first_pass = builtins;
  for (const Property& g : global_params) {
    DSCHED_ASSIGN_OR_RETURN(first_pass[g.prop], resolve(g.prop, g.value, builtins));
  }
  Vars context = builtins;
  for (const Property& g : global_params) {
    DSCHED_ASSIGN_OR_RETURN(context[g.prop], resolve(g.prop, g.value, first_pass));
  }

  // Layers from lowest to highest precedence; each assignment overrides the ones before.
  Vars result = builtins;
  for (const Property& p : local_params) {
    // An OUT default is what the task sees before it sets the value itself; it must not hide
    // a value that reaches the task from anywhere else, so it sits just above the builtins.
    if (p.direct == "OUT" && !p.value.empty()) {
      DSCHED_ASSIGN_OR_RETURN(result[p.prop], resolve(p.prop, p.value, context));
    }
  }
  for (const Property& g : global_params) result[g.prop] = context[g.prop];
  for (const Property& p : upstream_var_pool) {
    DSCHED_ASSIGN_OR_RETURN(result[p.prop], resolve(p.prop, p.value, context));
  }
  for (const Property& p : local_params) {
    if (p.direct == "OUT")
      continue;  // anything else is IN, as DolphinScheduler reads a null direct
    DSCHED_ASSIGN_OR_RETURN(result[p.prop], resolve(p.prop, p.value, context));
  }
  for (const auto& [name, value] : startup_params) {
    DSCHED_ASSIGN_OR_RETURN(result[name], resolve(name, value, context));
  }
  return result;
}

std::vector<std::pair<std::string, std::string>> ParseSetValues(std::string_view output) {
  std::vector<std::pair<std::string, std::string>> found;
  size_t pos = 0;
  while (true) {
    size_t at = std::min(output.find(kDollarSetValue, pos), output.find(kHashSetValue, pos));
    if (at == std::string_view::npos) break;
    size_t body = at + kDollarSetValue.size();
    size_t close = FindSetValueClose(output, body);
    // No ")}" anywhere after: no later setValue can be closed either.
    if (close == std::string_view::npos) break;
    std::string_view kv = output.substr(body, close - body);
    pos = close + 2;
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = TrimSpace(kv.substr(0, eq));
    if (key.empty()) continue;
    found.emplace_back(std::string(key), std::string(kv.substr(eq + 1)));
  }
  return found;
}

std::vector<Property> BuildVarPool(
    const std::vector<Property>& local_params,
    const std::vector<std::pair<std::string, std::string>>& set_values) {
  std::vector<Property> pool;
  std::set<std::string> seen;
  for (const Property& p : local_params) {
    if (p.direct != "OUT" || !seen.insert(p.prop).second) continue;
    const std::string* set = nullptr;
    for (const auto& [key, value] : set_values) {
      if (key == p.prop) set = &value;
    }
    if (set != nullptr) {
      Property out = p;
      out.value = *set;
      pool.push_back(std::move(out));
    } else if (!p.value.empty()) {
      pool.push_back(p);
    }
  }
  return pool;
}

std::vector<Property> MergeVarPools(const std::vector<std::vector<Property>>& pools_by_end_time) {
  std::vector<Property> merged;
  std::map<std::string, size_t> index;
  for (const std::vector<Property>& pool : pools_by_end_time) {
    for (const Property& p : pool) {
      auto it = index.find(p.prop);
      if (it == index.end()) {
        index.emplace(p.prop, merged.size());
        merged.push_back(p);
        merged.back().direct = "IN";
      } else if (merged[it->second].value.empty() && !p.value.empty()) {
        merged[it->second] = p;
        merged[it->second].direct = "IN";
      }
    }
  }
  return merged;
}

}  // namespace dsched::params
