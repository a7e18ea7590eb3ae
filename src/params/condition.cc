#include "params/condition.h"

#include <cctype>
#include <cstdlib>
#include <string>
#include <variant>

namespace dsched::params {

namespace {

struct Value {
  std::string text;
  bool is_number = false;
  double number = 0;
  bool Truthy() const {
    if (is_number) return number != 0;
    return !text.empty() && text != "false";
  }
};

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  StatusOr<bool> Run() {
    auto v = Or();
    if (!v.ok()) return v.status();
    Skip();
    if (pos_ != s_.size()) return Error("unexpected '" + std::string(s_.substr(pos_)) + "'");
    return v->Truthy();
  }

 private:
  Status Error(const std::string& why) const {
    return InvalidArgument("switch condition '" + std::string(s_) + "': " + why);
  }
  void Skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool Eat(std::string_view tok) {
    Skip();
    if (s_.substr(pos_, tok.size()) == tok) {
      pos_ += tok.size();
      return true;
    }
    return false;
  }
  static Value Bool(bool b) { return Value{b ? "true" : "false", true, b ? 1.0 : 0.0}; }

  StatusOr<Value> Or() {
    auto l = And();
    if (!l.ok()) return l;
    while (Eat("||")) {
      auto r = And();
      if (!r.ok()) return r;
      l = Bool(l->Truthy() || r->Truthy());
    }
    return l;
  }
  StatusOr<Value> And() {
    auto l = Compare();
    if (!l.ok()) return l;
    while (Eat("&&")) {
      auto r = Compare();
      if (!r.ok()) return r;
      l = Bool(l->Truthy() && r->Truthy());
    }
    return l;
  }
  StatusOr<Value> Compare() {
    auto l = Unary();
    if (!l.ok()) return l;
    // Longest operators first so "===" is not read as "==" followed by "=".
    static const char* kOps[] = {"===", "!==", "==", "!=", "<=", ">=", "<", ">"};
    for (;;) {
      const char* op = nullptr;
      for (const char* o : kOps)
        if (Eat(o)) {
          op = o;
          break;
        }
      if (!op) return l;
      auto r = Unary();
      if (!r.ok()) return r;
      int cmp;
      if (l->is_number && r->is_number)
        cmp = l->number < r->number ? -1 : (l->number > r->number ? 1 : 0);
      else
        cmp = l->text.compare(r->text) < 0 ? -1 : (l->text == r->text ? 0 : 1);
      std::string o = op;
      bool res = (o == "==" || o == "===")   ? cmp == 0
                 : (o == "!=" || o == "!==") ? cmp != 0
                 : o == "<"                  ? cmp < 0
                 : o == "<="                 ? cmp <= 0
                 : o == ">"                  ? cmp > 0
                                             : cmp >= 0;
      l = Bool(res);
    }
  }
  StatusOr<Value> Unary() {
    if (Eat("!")) {
      auto v = Unary();
      if (!v.ok()) return v;
      return Bool(!v->Truthy());
    }
    return Primary();
  }
  StatusOr<Value> Primary() {
    Skip();
    if (pos_ >= s_.size()) return Error("ends too early");
    char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      auto v = Or();
      if (!v.ok()) return v;
      if (!Eat(")")) return Error("missing ')'");
      return v;
    }
    if (c == '\'' || c == '"') {
      size_t end = s_.find(c, pos_ + 1);
      if (end == std::string_view::npos) return Error("unterminated string");
      Value v;
      v.text = std::string(s_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
      return v;
    }
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                s_[pos_] == '.' || s_[pos_] == '_' || s_[pos_] == '-'))
      ++pos_;
    if (start == pos_) return Error(std::string("unexpected '") + c + "'");
    Value v;
    v.text = std::string(s_.substr(start, pos_ - start));
    if (v.text == "true" || v.text == "false") return Bool(v.text == "true");
    char* end = nullptr;
    double d = std::strtod(v.text.c_str(), &end);
    if (end && *end == '\0') {
      v.is_number = true;
      v.number = d;
    }
    return v;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

StatusOr<bool> EvalCondition(std::string_view expr) { return Parser(expr).Run(); }

}  // namespace dsched::params
