#pragma once

// The host's load and memory as Linux reports them in /proc, for heartbeats, overload
// protection and the monitor routes. Zeros where a file cannot be read (not Linux, or a
// sandbox without /proc): a reader then sees an idle host rather than failing.

#include <fstream>
#include <string>

namespace dsched {

// The 1-minute load average.
inline double ReadLoadAverage() {
  std::ifstream in("/proc/loadavg");
  double load = 0;
  in >> load;
  return load;
}

struct HostMemory {
  long long total_kb = 0;
  long long available_kb = 0;
  // 0..1; 0 when the total is unknown.
  double usage() const {
    return total_kb > 0 ? 1.0 - static_cast<double>(available_kb) / static_cast<double>(total_kb)
                        : 0.0;
  }
};

inline HostMemory ReadHostMemory() {
  std::ifstream in("/proc/meminfo");
  HostMemory m;
  std::string key, rest;
  long long value = 0;
  // Line by line: some lines have no unit ("HugePages_Total:  0").
  while (in >> key >> value) {
    std::getline(in, rest);
    if (key == "MemTotal:") m.total_kb = value;
    if (key == "MemAvailable:") m.available_kb = value;
  }
  return m;
}

}  // namespace dsched
