// SWITCH task conditions: the small expression language DolphinScheduler users write in a
// switch branch ("${n} > 5 && '${env}' == 'prod'"), evaluated after ${} substitution.
// DolphinScheduler hands these to a JavaScript engine; dsched evaluates the subset people use,
// by hand (no maintained C++ library does exactly this): numbers, 'single' or "double" quoted
// strings, true/false, comparisons == != === !== < <= > >=, && || !, and parentheses. Two
// numbers compare as numbers, anything else as strings. Pure, thread-safe.
#pragma once

#include <string_view>

#include "common/status.h"

namespace dsched::params {

// InvalidArgument (quoting the expression) when it does not parse.
StatusOr<bool> EvalCondition(std::string_view expr);

}  // namespace dsched::params
