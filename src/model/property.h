// DolphinScheduler's Property {prop, direct, type, value}: global params, local params and the
// var pool are lists of these. Value type.
#pragma once

#include <string>
#include <vector>

namespace dsched {

struct Property {
  std::string prop;
  std::string direct = "IN";     // IN | OUT
  std::string type = "VARCHAR";  // VARCHAR|INTEGER|LONG|FLOAT|DOUBLE|DATE|TIME|TIMESTAMP|BOOLEAN|LIST|FILE
  std::string value;
  bool operator==(const Property&) const = default;
};

}  // namespace dsched
