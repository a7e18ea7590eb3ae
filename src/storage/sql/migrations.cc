#include "storage/sql/migrations.h"

#include <soci/soci.h>

namespace dsched {

std::vector<std::string> SplitSqlScript(const std::string& script) {
  std::vector<std::string> out;
  std::string cur;
  size_t i = 0;
  while (i < script.size()) {
    size_t nl = script.find('\n', i);
    std::string line = script.substr(i, nl == std::string::npos ? std::string::npos : nl - i);
    i = nl == std::string::npos ? script.size() : nl + 1;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line.compare(first, 2, "--") == 0) continue;
    cur += line + "\n";
    size_t last = line.find_last_not_of(" \t\r");
    if (line[last] == ';') {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(cur);
  return out;
}

Status ApplyMigrations(soci::session& sql, const std::vector<Migration>& migrations) {
  try {
    int current = 0;
    int has_table = 0;
    sql << "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='t_ds_version'",
        soci::into(has_table);
    if (has_table) {
      soci::indicator ind;
      sql << "SELECT MAX(version) FROM t_ds_version", soci::into(current, ind);
      if (ind != soci::i_ok) current = 0;
    }
    int newest = migrations.empty() ? 0 : migrations.back().version;
    if (current > newest)
      return FailedPrecondition("the database holds schema version " + std::to_string(current) +
                                ", newer than this dsched knows (" + std::to_string(newest) +
                                "): upgrade dsched");
    for (const Migration& m : migrations) {
      if (m.version <= current) continue;
      soci::transaction tx(sql);
      for (const std::string& stmt : SplitSqlScript(m.sql)) sql << stmt;
      sql << "INSERT INTO t_ds_version(id, version) VALUES(:v, :v2)", soci::use(m.version),
          soci::use(m.version);
      tx.commit();
    }
    return Status::Ok();
  } catch (const std::exception& e) {
    return Internal(std::string("schema migration failed: ") + e.what());
  }
}

}  // namespace dsched
