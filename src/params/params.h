// DolphinScheduler's parameter language (reference §3.8): typed properties, built-in variables,
// ${name} and $[time expression] substitution, the precedence of parameter layers for one task,
// and the setValue / var pool mechanism that passes values between tasks.
//
// Written by hand: no library implements DolphinScheduler's dialect (Java SimpleDateFormat
// patterns plus day arithmetic plus its own functions), and the behaviour to match is small.
// Everything here is a pure function over values: no I/O, no clock (the base time is an
// argument), no global state. The one outside input is the process time zone (TZ), read through
// localtime_r / mktime, as DolphinScheduler uses its server time zone. All functions are
// thread-safe and idempotent.
//
// Not here: where values come from (storage, the command, task output capture) and SQL-specific
// binding of ${x} to JDBC-style parameters; those belong to the worker and task plugins.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "model/property.h"

namespace dsched::params {

// DolphinScheduler's Property {prop, direct, type, value}: one declared parameter.
// The Property value type lives in model (below params); params speaks of it by this name.
using Property = ::dsched::Property;

using Vars = std::map<std::string, std::string>;

// Checks that the name is non-empty, direct and type are known and the value fits the type:
// INTEGER a 32-bit and LONG a 64-bit integer, FLOAT/DOUBLE a decimal number, BOOLEAN true/false
// (any case, as Java's Boolean.parseBoolean reads it); other types are free text. An empty value
// is always fine, and a value containing "${" or "$[" is not type-checked because it is resolved
// later. Returns InvalidArgument naming the property, e.g.
// "param 'n': type INTEGER wants an integer, got 'abc'".
Status ValidateProperty(const Property& p);

// Inputs for Builtins(); ids and codes count as set when > 0, strings when non-empty.
struct BuiltinInputs {
  int64_t base_ms = 0;  // schedule (business) time; for manual runs the start time
  int64_t task_instance_id = 0;
  int64_t workflow_instance_id = 0;
  std::string project_name;
  int64_t project_code = 0;
  std::string workflow_name;
  int64_t workflow_code = 0;
  std::string task_name;
  int64_t task_code = 0;
  std::string execute_path;
};

// Built-in variables for one task run: system.datetime (yyyyMMddHHmmss of base),
// system.biz.date (the calendar day before base, yyyyMMdd), system.biz.curdate (base day,
// yyyyMMdd), and system.task.instance.id, system.workflow.instance.id, system.project.name,
// system.project.code, system.workflow.definition.name, system.workflow.definition.code,
// system.task.definition.name, system.task.definition.code, system.task.execute.path, each only
// when its input is set. The three time variables are left out only if base_ms is outside the
// range the C library can convert.
Vars Builtins(const BuiltinInputs& in);

// Evaluates the inside of one $[...] against base_ms in the process time zone. Forms:
//   pattern            a Java SimpleDateFormat pattern: yyyy yy MM MMM MMMM dd D E EEEE u HH hh
//                      kk KK a mm ss SSS, 'quoted text', '' for a quote, any other non-letter as
//                      is. Letters Java knows but dsched does not (G Y w W F L z Z X) and letters
//                      Java does not know are errors, as in Java.
//   pattern+N, -N      N days, N an arithmetic expression of integers with + - * / and
//                      parentheses, evaluated exactly as a fraction: -1/24 is one hour,
//                      -1/24/60 one minute, -(1+2)*2 six days back. N*86400 seconds is rounded
//                      toward zero. Whole days move the calendar date (keeping the wall-clock
//                      time across DST changes); the remaining seconds move absolute time.
//                      The offset starts at the first '+' or '-' (outside quotes) whose rest is
//                      a well-formed expression, so yyyy-MM-dd-1 is yyyy-MM-dd minus one day.
//   add_months(p,N)    N calendar months, the day clamped to the month's length (Java's
//                      Calendar.add): Jan 31 + 1 month is Feb 29 in 2024.
//   month_begin(p,N)   first day of base's month, then N days (DolphinScheduler: N is in days,
//   month_end(p,N)     so month_begin(p,-1) is the last day of the previous month); last day of
//   week_begin(p,N)    the month; Monday of base's Monday-first week; its Sunday. All four keep
//   week_end(p,N)      the time of day. N is truncated toward zero to an integer.
//   timestamp(e)       unix seconds (decimal) of the time e gives, where e is any form above.
//                      As DolphinScheduler formats with e's pattern and parses the text back,
//                      the time is truncated to the finest field the pattern shows:
//                      timestamp(yyyyMMdd) is local midnight, timestamp(yyyyMMddHHmmss-1) keeps
//                      the seconds.
// Returns InvalidArgument quoting the expression on anything malformed (unknown pattern letter,
// unterminated quote, dangling or malformed offset, bad function arguments, division by zero,
// overflow, a time the C library cannot represent).
StatusOr<std::string> EvalTimeExpression(std::string_view expr, int64_t base_ms);

// Replaces, in one left-to-right pass: every ${name} whose name is in vars with its value (an
// unknown name stays as written, braces included); every $[expr] with
// EvalTimeExpression(expr, base_ms). ${setValue(...)} is output syntax, not a reference, and is
// copied unchanged along with anything inside it. Substituted values are not re-scanned, so a
// value containing ${...} is inserted literally. An unterminated ${ or $[ is copied as is.
// Errors: the first malformed $[...] (InvalidArgument).
StatusOr<std::string> Substitute(std::string_view text, const Vars& vars, int64_t base_ms);

// The parameters one task sees, DolphinScheduler 3.x precedence, highest first:
//   startup (command) params > local IN params > upstream var pool > workflow global params
//   > local OUT params with a non-empty default > builtins.
// Global values are "cured" first: resolved against the builtins, $[] and the other globals
// (each of which is first resolved against the builtins alone). Every other value is then
// resolved against builtins + cured globals + $[]. So a global "${system.biz.date}" or
// "$[yyyyMMdd-1]" becomes concrete, and a local "${x}" takes the global x. OUT params with an
// empty value are left out: they get their value from the task's output. Errors: a malformed
// $[...] in any value (InvalidArgument naming the param).
StatusOr<Vars> ResolveTaskParams(const std::vector<Property>& global_params,
                                 const std::vector<Property>& upstream_var_pool,
                                 const std::vector<Property>& local_params,
                                 const Vars& startup_params, const Vars& builtins, int64_t base_ms);

// Every ${setValue(k=v)} and #{setValue(k=v)} in a task's output, in order of appearance (the
// caller lets a later one for the same key win). The value runs to the ')' that balances the
// opening one and is followed by '}' (falling back to the first ")}" when parentheses in the
// value do not balance); it may span lines, as in DolphinScheduler 3.2+. The key is the text
// before the first '=' with surrounding whitespace trimmed; the value is kept verbatim. Entries
// without '=' or with an empty key, and an unterminated setValue, are skipped.
std::vector<std::pair<std::string, std::string>> ParseSetValues(std::string_view output);

// The var pool a task passes downstream, in declaration order: for each OUT local param, the
// last value set_values gives for its name (even if empty), otherwise its declared value when
// that is non-empty; params with neither are left out. Keys not declared OUT are ignored, as in
// DolphinScheduler. Each entry keeps the declared direct (OUT) and type.
std::vector<Property> BuildVarPool(
    const std::vector<Property>& local_params,
    const std::vector<std::pair<std::string, std::string>>& set_values);

// Merges the var pools of several upstream tasks, given in order of their end time (earliest
// first), into the pool a downstream task receives: for each name a non-empty value beats an
// empty one, then the earliest finisher wins. Order is that of first appearance; the winning
// property keeps its type, and direct becomes IN because the values are the downstream task's
// inputs (DolphinScheduler does the same).
std::vector<Property> MergeVarPools(const std::vector<std::vector<Property>>& pools_by_end_time);

}  // namespace dsched::params
