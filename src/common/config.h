// The tunables table (CONVENTIONS.md §14): every setting dsched reads, with its type, default
// and meaning, in one place. Values come from the defaults, then the config file
// (`key = value` lines, `#` comments), then the environment (DSCHED_ + key upper-cased with
// dots and dashes as underscores, e.g. DSCHED_API_PORT). Unknown keys in a file are errors.
// DolphinScheduler's database variables are honoured too (DATABASE, SPRING_DATASOURCE_URL,
// SPRING_DATASOURCE_USERNAME, SPRING_DATASOURCE_PASSWORD -> db.*), below DSCHED_* in precedence.
// A Config is a value: build it once in main, pass it down. Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace dsched {

struct ConfigKey {
  const char* name;
  const char* type;  // "int", "double", "string", "bool", "duration" (digits then ms, s or m; bare = ms)
  const char* default_value;
  const char* meaning;
};

// The table itself; config.cc is its single definition.
const std::vector<ConfigKey>& ConfigKeys();

class Config {
 public:
  // Defaults only.
  Config();
  // Defaults, then `path` (if non-empty), then the environment.
  static StatusOr<Config> Load(const std::string& path, char** envp);

  // Sets one key; InvalidArgument naming the key on an unknown key or a bad value.
  Status Set(const std::string& key, const std::string& value);
  std::string GetString(const std::string& key) const;
  int64_t GetInt(const std::string& key) const;
  bool GetBool(const std::string& key) const;
  double GetDouble(const std::string& key) const;
  int64_t GetDurationMs(const std::string& key) const;

 private:
  std::map<std::string, std::string> values_;
};

// Where task logs are: log.dir, or <data.dir>/logs when it is empty, made absolute (against the
// working directory) and normalized. Every process that writes or reads task logs (master,
// worker, logger, standalone) takes it from here, so that the paths the workers store and the
// directory the logger confines reads to agree.
std::string LogDirFromConfig(const Config& cfg);

// The int key `key` as a TCP port: InvalidArgument naming the key unless it is 1-65535 (or 0,
// "pick a free one", when allow_zero).
StatusOr<int> PortFromConfig(const Config& cfg, const std::string& key, bool allow_zero);

}  // namespace dsched
