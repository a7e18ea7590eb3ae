#include "params/condition.h"

#include <gtest/gtest.h>

namespace dsched::params {
namespace {

bool Eval(const char* e) {
  auto r = EvalCondition(e);
  EXPECT_TRUE(r.ok()) << e << ": " << r.status().ToString();
  return r.ok() && *r;
}

TEST(ConditionTest, ComparisonsAndLogic) {
  EXPECT_TRUE(Eval("1 == 1"));
  EXPECT_TRUE(Eval("10 > 9"));  // numbers, not strings: "10" < "9" as text
  EXPECT_TRUE(Eval("'abc' == \"abc\""));
  EXPECT_TRUE(Eval("'prod' != 'dev' && (3 >= 3 || false)"));
  EXPECT_FALSE(Eval("!(2 < 3)"));
  EXPECT_TRUE(Eval("1.5 === 1.50"));
  EXPECT_TRUE(Eval("abc == abc"));  // an unquoted word is its text
  EXPECT_FALSE(Eval("'' == 'x'"));
  EXPECT_TRUE(Eval("true"));
}

TEST(ConditionTest, ErrorsQuoteTheExpression) {
  auto r = EvalCondition("1 == ");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "switch condition '1 == ': ends too early");
  r = EvalCondition("(1 == 1");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing ')'"), std::string::npos);
  EXPECT_FALSE(EvalCondition("'open").ok());
  EXPECT_FALSE(EvalCondition("1 == 1 junk ==").ok());
}

}  // namespace
}  // namespace dsched::params
