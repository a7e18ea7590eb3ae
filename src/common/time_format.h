// Wall-time formatting shared by storage, the REST layer and the CLI.
// DolphinScheduler writes dates as "yyyy-MM-dd HH:mm:ss"; dsched keeps that on the wire and in
// the database. Times are rendered in the process time zone (TZ), as DolphinScheduler does with
// its server time zone. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsched {

// "yyyy-MM-dd HH:mm:ss" of a wall time in ms; "" for 0 (DolphinScheduler's null date).
std::string FormatDateTime(int64_t ms);
// Parses "yyyy-MM-dd HH:mm:ss" or "yyyy-MM-dd" (local time). nullopt when malformed.
std::optional<int64_t> ParseDateTime(std::string_view s);

}  // namespace dsched
