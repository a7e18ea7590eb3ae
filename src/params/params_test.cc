#include "params/params.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

namespace dsched::params {
namespace {

using ::testing::HasSubstr;

// Friday 2024-03-15 10:30:45.123 UTC.
constexpr int64_t kBase = 1710498645123;
constexpr int64_t kSunday = 1710662400000;   // 2024-03-17 08:00:00 UTC
constexpr int64_t kMonday = 1710748800000;   // 2024-03-18 08:00:00 UTC
constexpr int64_t kJan31 = 1706702400000;    // 2024-01-31 12:00:00 UTC (leap year)
constexpr int64_t kFeb2024 = 1707544800000;  // 2024-02-10 06:00:00 UTC
constexpr int64_t kFeb2023 = 1676008800000;  // 2023-02-10 06:00:00 UTC

void SetTimeZone(const char* tz) {
  setenv("TZ", tz, 1);
  tzset();
}

// Every test runs in UTC so expected strings do not depend on the machine.
class ParamsTest : public ::testing::Test {
 protected:
  void SetUp() override { SetTimeZone("UTC"); }
};

std::string Eval(std::string_view expr, int64_t base = kBase) {
  StatusOr<std::string> r = EvalTimeExpression(expr, base);
  if (!r.ok()) return "ERROR: " + r.status().message();
  return *r;
}

Property Prop(std::string name, std::string direct, std::string type, std::string value) {
  return Property{std::move(name), std::move(direct), std::move(type), std::move(value)};
}

Vars TimeOnlyBuiltins() {
  BuiltinInputs in;
  in.base_ms = kBase;
  return Builtins(in);
}

Property DefaultProp(std::string name) {
  Property p;
  p.prop = std::move(name);
  return p;
}

// ---- $[...] patterns ----

TEST_F(ParamsTest, PatternsFormatLikeJavaSimpleDateFormat) {
  EXPECT_EQ(Eval("yyyyMMdd"), "20240315");
  EXPECT_EQ(Eval("HHmmss"), "103045");
  EXPECT_EQ(Eval("yyyyMMddHHmmss"), "20240315103045");
  EXPECT_EQ(Eval("yyyy-MM-dd HH:mm:ss.SSS"), "2024-03-15 10:30:45.123");
  EXPECT_EQ(Eval("yy/M/d"), "24/3/15");
  EXPECT_EQ(Eval("yyyy'T'HH"), "2024T10");
  EXPECT_EQ(Eval("yyyy''MM"), "2024'03");
  EXPECT_EQ(Eval("'week' EEE, MMM d"), "week Fri, Mar 15");
  EXPECT_EQ(Eval("EEEE MMMM"), "Friday March");
  EXPECT_EQ(Eval("D u"), "75 5");
  EXPECT_EQ(Eval("hh a kk KK"), "10 AM 10 10");
  EXPECT_EQ(Eval("yyyy年MM月dd日"), "2024年03月15日");
}

// ---- pattern+N / pattern-N ----

TEST_F(ParamsTest, DayOffsets) {
  EXPECT_EQ(Eval("yyyyMMdd-1"), "20240314");
  EXPECT_EQ(Eval("yyyyMMdd+7"), "20240322");
  EXPECT_EQ(Eval("yyyy-MM-dd-1"), "2024-03-14");
  EXPECT_EQ(Eval("yyyy-MM-dd HH:mm:ss+1"), "2024-03-16 10:30:45");
  EXPECT_EQ(Eval("yyyyMMdd+7*2"), "20240329");
  EXPECT_EQ(Eval("yyyyMMdd-(1+2)*2"), "20240309");
  EXPECT_EQ(Eval("yyyyMMdd-1-2"), "20240312");
  EXPECT_EQ(Eval("yyyyMMdd-( 1 + 2 )"), "20240312");
  EXPECT_EQ(Eval("yyyyMMdd+-1"), "20240314");
  EXPECT_EQ(Eval("yyyyMMdd-16"), "20240228");  // crosses the leap day
  EXPECT_EQ(Eval("yyyyMMdd-15"), "20240229");
}

TEST_F(ParamsTest, FractionalDaysAreExactHoursMinutesAndSeconds) {
  EXPECT_EQ(Eval("HHmmss-1/24"), "093045");
  EXPECT_EQ(Eval("yyyyMMddHHmmss-1/24"), "20240315093045");
  EXPECT_EQ(Eval("yyyyMMddHHmmss-1/24/60"), "20240315102945");
  EXPECT_EQ(Eval("yyyyMMddHHmmss+1/24/60/60"), "20240315103046");
  EXPECT_EQ(Eval("yyyyMMddHHmmss-3/24"), "20240315073045");
  EXPECT_EQ(Eval("yyyyMMddHH-3/2"), "2024031322");
  EXPECT_EQ(Eval("yyyyMMdd-1/2"), "20240314");
  // 86400/7 = 12342.857... seconds, rounded toward zero in both directions.
  EXPECT_EQ(Eval("yyyyMMddHHmmss-1/7"), "20240315070503");
  EXPECT_EQ(Eval("yyyyMMddHHmmss+1/7"), "20240315135627");
  // Milliseconds of the base survive arithmetic.
  EXPECT_EQ(Eval("HH:mm:ss.SSS-1/24/60"), "10:29:45.123");
}

// ---- functions ----

TEST_F(ParamsTest, AddMonthsClampsToMonthEnd) {
  EXPECT_EQ(Eval("add_months(yyyyMMdd,1)", kJan31), "20240229");
  EXPECT_EQ(Eval("add_months(yyyyMMdd,13)", kJan31), "20250228");
  EXPECT_EQ(Eval("add_months(yyyyMMdd,-2)", kJan31), "20231130");
  EXPECT_EQ(Eval("add_months(yyyy-MM-dd HH:mm,12*2)", kJan31), "2026-01-31 12:00");
  EXPECT_EQ(Eval("add_months(yyyyMMdd,-1)"), "20240215");
  EXPECT_EQ(Eval("add_months(yyyyMMdd, -(1+2))"), "20231215");
  EXPECT_EQ(Eval("add_months(yyyyMMdd,-12*3)"), "20210315");
  EXPECT_EQ(Eval("add_months(yyyyMMdd,7/2)"), "20240615");  // N truncated to 3
}

TEST_F(ParamsTest, MonthBeginAndEndAddDaysAndKeepTimeOfDay) {
  EXPECT_EQ(Eval("month_begin(yyyyMMdd,0)"), "20240301");
  EXPECT_EQ(Eval("month_begin(yyyyMMdd,-1)"), "20240229");  // N is days, as in DolphinScheduler
  EXPECT_EQ(Eval("month_begin(yyyyMMdd HH:mm,1)"), "20240302 10:30");
  EXPECT_EQ(Eval("month_end(yyyyMMdd,0)"), "20240331");
  EXPECT_EQ(Eval("month_end(yyyyMMdd,1)"), "20240401");
  EXPECT_EQ(Eval("month_end(yyyyMMdd,0)", kFeb2024), "20240229");
  EXPECT_EQ(Eval("month_end(yyyyMMdd,0)", kFeb2023), "20230228");
  EXPECT_EQ(Eval("month_end(yyyy-MM-dd HH,-1)", kFeb2024), "2024-02-28 06");
}

TEST_F(ParamsTest, WeekBeginIsMondayAndWeekEndIsSunday) {
  EXPECT_EQ(Eval("week_begin(yyyyMMdd,0)", kSunday), "20240311");
  EXPECT_EQ(Eval("week_end(yyyyMMdd,0)", kSunday), "20240317");
  EXPECT_EQ(Eval("week_begin(yyyyMMdd,0)", kMonday), "20240318");
  EXPECT_EQ(Eval("week_end(yyyyMMdd,0)", kMonday), "20240324");
  EXPECT_EQ(Eval("week_begin(yyyyMMdd,-7)", kMonday), "20240311");
  EXPECT_EQ(Eval("week_end(yyyyMMdd,1)", kSunday), "20240318");
  EXPECT_EQ(Eval("week_begin(yyyyMMdd,0)"), "20240311");  // Friday base
  EXPECT_EQ(Eval("week_end(yyyyMMdd HH,0)"), "20240317 10");
}

TEST_F(ParamsTest, TimestampIsUnixSecondsTruncatedToThePattern) {
  EXPECT_EQ(Eval("timestamp(yyyyMMddHHmmss)"), "1710498645");
  EXPECT_EQ(Eval("timestamp(yyyyMMddHHmmss-1)"), "1710412245");
  EXPECT_EQ(Eval("timestamp(yyyyMMddHHmmss-1/24)"), "1710495045");
  EXPECT_EQ(Eval("timestamp(yyyyMMdd)"), "1710460800");
  EXPECT_EQ(Eval("timestamp(yyyyMMdd-1)"), "1710374400");
  EXPECT_EQ(Eval("timestamp(month_begin(yyyyMMdd,0))"), "1709251200");
  EXPECT_EQ(Eval("timestamp(add_months(yyyyMMdd,-2))"), "1705276800");
}

TEST_F(ParamsTest, MalformedExpressionsAreErrorsQuotingTheExpression) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"yyyyMMdd+", "bad day offset '+'"},
      {"yyyyMMdd-", "bad day offset '-'"},
      {"yyyyMMdd-(1", "bad day offset '-(1'"},
      {"yyyyMMdd-1x", "bad day offset"},
      {"yyyyMMdd-1/0", "division by zero"},
      {"yyyyMMdd-99999999999999999999", "number too large"},
      {"yyyyMMdd+100000000", "offset too large"},
      {"-1", "bad day offset '-1'"},
      {"abc", "illegal pattern letter 'b'"},
      {"YYYYMMdd", "pattern letter 'Y' is not supported"},
      {"yyyy'MM", "unterminated quote"},
      {"add_months(yyyyMMdd)", "add_months wants (pattern, N)"},
      {"add_months(yyyyMMdd,x)", "bad number 'x'"},
      {"add_months(yyyyMMdd,1", "missing ')'"},
      {"month_end(,1)", "missing date pattern"},
      {"week_begin(yyyyMMdd,1/0)", "division by zero"},
      {"timestamp(timestamp(yyyy))", "cannot be nested"},
      {"timestamp('x')", "needs a date pattern"},
  };
  for (const auto& [expr, why] : cases) {
    StatusOr<std::string> r = EvalTimeExpression(expr, kBase);
    ASSERT_FALSE(r.ok()) << expr << " gave " << *r;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("'$[" + expr + "]'")) << expr;
    EXPECT_THAT(r.status().message(), HasSubstr(why)) << expr;
  }
}

// Whole days move the calendar date, so "yesterday" keeps its wall-clock hour across a DST
// change; fractions of a day are absolute time.
TEST_F(ParamsTest, WholeDaysAreCalendarDaysAcrossDst) {
  // POSIX rule string: no tzdata needed. DST starts 2024-03-10 02:00 local.
  SetTimeZone("EST5EDT,M3.2.0,M11.1.0");
  constexpr int64_t kNoonEdt = 1710086400000;  // 2024-03-10 12:00 EDT = 16:00 UTC
  EXPECT_EQ(Eval("yyyyMMdd HH:mm", kNoonEdt), "20240310 12:00");
  EXPECT_EQ(Eval("yyyyMMdd HH:mm-1", kNoonEdt), "20240309 12:00");
  EXPECT_EQ(Eval("yyyyMMdd HH:mm-1/24", kNoonEdt), "20240310 11:00");
  // Twelve absolute hours before 12:00 EDT is 23:00 EST the day before: the night was short.
  EXPECT_EQ(Eval("yyyyMMdd HH:mm-1/2", kNoonEdt), "20240309 23:00");
  SetTimeZone("UTC");
}

// ---- Substitute ----

TEST_F(ParamsTest, SubstituteReplacesKnownNamesAndTimeExpressions) {
  Vars vars = {{"a", "1"}, {"dt", "20240101"}};
  StatusOr<std::string> r = Substitute(
      "a=${a} dt=${dt} m=${missing} t=$[yyyyMMdd-1] arr=${arr[0]} s=${setValue(k=${a})} "
      "h=#{setValue(k=1)} u=${a",
      vars, kBase);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r,
            "a=1 dt=20240101 m=${missing} t=20240314 arr=${arr[0]} s=${setValue(k=${a})} "
            "h=#{setValue(k=1)} u=${a");
}

TEST_F(ParamsTest, SubstituteIsSinglePass) {
  Vars vars = {{"a", "${b}"}, {"b", "x"}, {"t", "$[yyyy]"}};
  StatusOr<std::string> r = Substitute("${a} ${t} ${b}", vars, kBase);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "${b} $[yyyy] x");
}

TEST_F(ParamsTest, SubstituteLeavesUnterminatedAndLoneDollarsAlone) {
  Vars vars = {{"a", "1"}};
  for (const std::string text : {"cost $5", "$", "$$", "$[yyyy", "x ${", "${a}$"}) {
    StatusOr<std::string> r = Substitute(text, vars, kBase);
    ASSERT_TRUE(r.ok()) << text;
    EXPECT_EQ(*r, text == "${a}$" ? "1$" : text);
  }
}

TEST_F(ParamsTest, SubstituteReportsBadTimeExpression) {
  StatusOr<std::string> r = Substitute("echo $[yyyyMMdd-1/0]", {}, kBase);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("'$[yyyyMMdd-1/0]'"));
}

// ---- Builtins ----

TEST_F(ParamsTest, BuiltinsCarryBusinessTimeAndSetIdentities) {
  BuiltinInputs in;
  in.base_ms = kBase;
  in.task_instance_id = 11;
  in.workflow_instance_id = 22;
  in.project_name = "proj";
  in.project_code = 33;
  in.workflow_name = "wf";
  in.workflow_code = 44;
  in.task_name = "t1";
  in.task_code = 55;
  in.execute_path = "/tmp/exec/1";
  Vars expected = {
      {"system.datetime", "20240315103045"},
      {"system.biz.date", "20240314"},
      {"system.biz.curdate", "20240315"},
      {"system.task.instance.id", "11"},
      {"system.workflow.instance.id", "22"},
      {"system.project.name", "proj"},
      {"system.project.code", "33"},
      {"system.workflow.definition.name", "wf"},
      {"system.workflow.definition.code", "44"},
      {"system.task.definition.name", "t1"},
      {"system.task.definition.code", "55"},
      {"system.task.execute.path", "/tmp/exec/1"},
  };
  EXPECT_EQ(Builtins(in), expected);

  BuiltinInputs only_time;
  only_time.base_ms = 1709251200000;  // 2024-03-01 00:00: biz.date is the leap day
  EXPECT_EQ(Builtins(only_time), (Vars{{"system.datetime", "20240301000000"},
                                       {"system.biz.date", "20240229"},
                                       {"system.biz.curdate", "20240301"}}));
}

// ---- ResolveTaskParams ----

TEST_F(ParamsTest, ResolveTaskParamsPrecedenceEachLayerBeatsTheNext) {
  std::vector<Property> globals = {
      Prop("p", "IN", "VARCHAR", "global"), Prop("q", "IN", "VARCHAR", "global"),
      Prop("r", "IN", "VARCHAR", "global"), Prop("s", "IN", "VARCHAR", "global")};
  std::vector<Property> upstream = {Prop("p", "IN", "VARCHAR", "upstream"),
                                    Prop("q", "IN", "VARCHAR", "upstream"),
                                    Prop("r", "IN", "VARCHAR", "upstream")};
  std::vector<Property> locals = {Prop("p", "IN", "VARCHAR", "local"),
                                  Prop("q", "IN", "VARCHAR", "local")};
  Vars startup = {{"p", "startup"}};
  Vars builtins = TimeOnlyBuiltins();
  StatusOr<Vars> r = ResolveTaskParams(globals, upstream, locals, startup, builtins, kBase);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at("p"), "startup");
  EXPECT_EQ(r->at("q"), "local");
  EXPECT_EQ(r->at("r"), "upstream");
  EXPECT_EQ(r->at("s"), "global");
  EXPECT_EQ(r->at("system.biz.date"), "20240314");
}

TEST_F(ParamsTest, ResolveTaskParamsCuresGlobalsAgainstBuiltins) {
  std::vector<Property> globals = {
      Prop("bizdate", "IN", "VARCHAR", "${system.biz.date}"),
      Prop("yesterday", "IN", "VARCHAR", "$[yyyyMMdd-1]"),
      Prop("chained", "IN", "VARCHAR", "${bizdate}_x"),
      Prop("system.datetime", "IN", "VARCHAR", "override"),
  };
  std::vector<Property> locals = {
      Prop("from_global", "IN", "VARCHAR", "dt=${bizdate}"),
      Prop("yesterday", "IN", "VARCHAR", "${yesterday}-local"),  // same name: takes the global
      Prop("unknown", "IN", "VARCHAR", "${nope}"),
  };
  Vars startup = {{"start", "$[yyyy]"}};
  StatusOr<Vars> r = ResolveTaskParams(globals, {}, locals, startup, TimeOnlyBuiltins(), kBase);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at("bizdate"), "20240314");
  EXPECT_EQ(r->at("chained"), "20240314_x");
  EXPECT_EQ(r->at("system.datetime"), "override");  // a user param overrides a builtin
  EXPECT_EQ(r->at("system.biz.curdate"), "20240315");
  EXPECT_EQ(r->at("from_global"), "dt=20240314");
  EXPECT_EQ(r->at("yesterday"), "20240314-local");
  EXPECT_EQ(r->at("unknown"), "${nope}");
  EXPECT_EQ(r->at("start"), "2024");
}

TEST_F(ParamsTest, ResolveTaskParamsOutParams) {
  std::vector<Property> locals = {
      Prop("empty_out", "OUT", "VARCHAR", ""),
      Prop("dflt_out", "OUT", "INTEGER", "7"),
      Prop("shadowed_out", "OUT", "VARCHAR", "7"),
      Prop("global_out", "OUT", "VARCHAR", "7"),
  };
  std::vector<Property> upstream = {Prop("shadowed_out", "IN", "VARCHAR", "up")};
  std::vector<Property> globals = {Prop("global_out", "IN", "VARCHAR", "g")};
  StatusOr<Vars> r = ResolveTaskParams(globals, upstream, locals, {}, {}, kBase);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->count("empty_out"), 0u);
  EXPECT_EQ(r->at("dflt_out"), "7");
  EXPECT_EQ(r->at("shadowed_out"), "up");
  EXPECT_EQ(r->at("global_out"), "g");
}

TEST_F(ParamsTest, ResolveTaskParamsErrorNamesTheParam) {
  std::vector<Property> globals = {Prop("bad", "IN", "VARCHAR", "$[qq]")};
  StatusOr<Vars> r = ResolveTaskParams(globals, {}, {}, {}, {}, kBase);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("param 'bad'"));
  EXPECT_THAT(r.status().message(), HasSubstr("'$[qq]'"));
}

// ---- setValue and var pools ----

TEST_F(ParamsTest, ParseSetValuesBothFormsInOrder) {
  std::string output =
      "start\n"
      "${setValue(a=1)}\n"
      "echo #{setValue( b =x=y z )} and ${setValue(c=f(x))}\n"
      "${setValue(noequals)} ${setValue( =v)} ${setValue(a=2)}\n"
      "${setValue(m=line1\nline2)}\n"
      "${setValue(sad=:()}\n"
      "later )}\n"
      "${setValue(e=)}${setValue(z=1";
  std::vector<std::pair<std::string, std::string>> expected = {
      {"a", "1"},    {"b", "x=y z "}, {"c", "f(x)"}, {"a", "2"}, {"m", "line1\nline2"},
      {"sad", ":("}, {"e", ""},
  };
  EXPECT_EQ(ParseSetValues(output), expected);
  EXPECT_TRUE(ParseSetValues("no values here").empty());
}

TEST_F(ParamsTest, BuildVarPoolTakesLastSetValueOrNonEmptyDefault) {
  std::vector<Property> locals = {
      Prop("in1", "IN", "VARCHAR", "x"),   Prop("a", "OUT", "VARCHAR", ""),
      Prop("b", "OUT", "INTEGER", "5"),    Prop("c", "OUT", "VARCHAR", ""),
      Prop("d", "OUT", "VARCHAR", "dflt"),
  };
  std::vector<std::pair<std::string, std::string>> set = {
      {"a", "1"}, {"undeclared", "ignored"}, {"a", "2"}, {"d", ""}, {"in1", "y"}};
  std::vector<Property> expected = {
      Prop("a", "OUT", "VARCHAR", "2"),
      Prop("b", "OUT", "INTEGER", "5"),
      Prop("d", "OUT", "VARCHAR", ""),
  };
  EXPECT_EQ(BuildVarPool(locals, set), expected);
}

TEST_F(ParamsTest, MergeVarPoolsNonEmptyThenEarliestWins) {
  std::vector<std::vector<Property>> pools = {
      {Prop("k1", "OUT", "VARCHAR", ""), Prop("k2", "OUT", "VARCHAR", "first")},
      {Prop("k1", "OUT", "INTEGER", "second"), Prop("k2", "OUT", "VARCHAR", "later"),
       Prop("k3", "OUT", "VARCHAR", "")},
      {Prop("k1", "OUT", "VARCHAR", "third"), Prop("k3", "OUT", "VARCHAR", "")},
  };
  std::vector<Property> expected = {
      Prop("k1", "IN", "INTEGER", "second"),
      Prop("k2", "IN", "VARCHAR", "first"),
      Prop("k3", "IN", "VARCHAR", ""),
  };
  EXPECT_EQ(MergeVarPools(pools), expected);
  EXPECT_TRUE(MergeVarPools({}).empty());
}

// ---- ValidateProperty ----

TEST_F(ParamsTest, ValidatePropertyAcceptsWellTypedValues) {
  for (const Property& p : {
           Prop("n", "IN", "INTEGER", "42"),
           Prop("n", "IN", "INTEGER", "-2147483648"),
           Prop("n", "IN", "INTEGER", "+7"),
           Prop("n", "OUT", "LONG", "9223372036854775807"),
           Prop("f", "IN", "FLOAT", "1.5e3"),
           Prop("f", "IN", "DOUBLE", ".5"),
           Prop("f", "IN", "DOUBLE", "-1."),
           Prop("b", "IN", "BOOLEAN", "TRUE"),
           Prop("b", "IN", "BOOLEAN", "false"),
           Prop("d", "IN", "DATE", "whatever"),
           Prop("n", "IN", "INTEGER", ""),
           Prop("n", "IN", "INTEGER", "${x}"),
           Prop("n", "IN", "LONG", "$[yyyyMMdd]"),
           Prop("l", "IN", "LIST", "a,b"),
           Prop("v", "OUT", "FILE", "/x"),
           DefaultProp("defaults"),
       }) {
    EXPECT_TRUE(ValidateProperty(p).ok())
        << p.prop << " " << p.type << " " << p.value << ": " << ValidateProperty(p).ToString();
  }
}

TEST_F(ParamsTest, ValidatePropertyErrorsNameTheField) {
  const std::vector<std::pair<Property, std::string>> cases = {
      {Prop("n", "IN", "INTEGER", "abc"), "param 'n': type INTEGER wants an integer, got 'abc'"},
      {Prop("n", "IN", "INTEGER", "2147483648"),
       "param 'n': type INTEGER wants a 32-bit integer, got '2147483648'"},
      {Prop("n", "IN", "INTEGER", "1.0"), "param 'n': type INTEGER wants an integer, got '1.0'"},
      {Prop("n", "IN", "INTEGER", "+-5"), "param 'n': type INTEGER wants an integer, got '+-5'"},
      {Prop("big", "IN", "LONG", "9223372036854775808"),
       "param 'big': type LONG wants a 64-bit integer, got '9223372036854775808'"},
      {Prop("x", "IN", "LONG", "12.5"), "param 'x': type LONG wants an integer, got '12.5'"},
      {Prop("f", "IN", "FLOAT", "1e"), "param 'f': type FLOAT wants a number, got '1e'"},
      {Prop("f", "IN", "DOUBLE", "abc"), "param 'f': type DOUBLE wants a number, got 'abc'"},
      {Prop("b", "IN", "BOOLEAN", "yes"), "param 'b': type BOOLEAN wants true or false, got 'yes'"},
      {Prop("d", "INOUT", "VARCHAR", ""), "param 'd': direct must be IN or OUT, got 'INOUT'"},
      {Prop("t", "IN", "STRING", ""), "param 't': unknown type 'STRING'"},
      {Prop("", "IN", "VARCHAR", "v"), "param '': name is empty"},
  };
  for (const auto& [p, message] : cases) {
    Status s = ValidateProperty(p);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << message;
    EXPECT_EQ(s.message(), message);
  }
}

}  // namespace
}  // namespace dsched::params
