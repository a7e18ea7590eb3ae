// Versioned schema migrations (sql/migrations/<db>/NNNN_name.sql), compiled into the binary.
// Apply() brings a database to the newest version, each migration once, in order, each in its
// own transaction, and refuses a database written by a newer dsched.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace soci {
class session;
}

namespace dsched {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& SqliteMigrations();

// Splits a script on ';' at the end of a line (our scripts keep one statement per ';').
std::vector<std::string> SplitSqlScript(const std::string& script);

Status ApplyMigrations(soci::session& sql, const std::vector<Migration>& migrations);

}  // namespace dsched
