// Schema create/upgrade on every test database (test_databases.h): create refuses a non-empty
// database, upgrade from the oldest schema keeps every row, a second upgrade is a no-op, a
// newer schema is refused, and create == oldest + every upgrade (same tables, columns, indexes).
#include "storage/sql/migrations.h"

#include <gtest/gtest.h>
#include <soci/soci.h>
#include <unistd.h>

#include <map>
#include <set>

#include "common/clock.h"
#include "storage/sql/sql_store.h"
#include "storage/sql/test_databases.h"

namespace dsched {
namespace {

TEST(SchemaScriptsTest, EveryDatabaseHasTheSameVersions) {
  std::map<std::string, std::set<int>> versions;
  for (const auto& s : EmbeddedSchemaScripts()) versions[s.db].insert(s.version);
  ASSERT_EQ(versions.size(), 3u) << "sqlite, postgresql, mysql";
  for (const auto& [db, v] : versions) {
    EXPECT_EQ(v, versions["sqlite"]) << db;
    EXPECT_TRUE(v.count(0)) << db << " has no sql/create scripts";
  }
  EXPECT_EQ(NewestSchemaVersion(), *versions["sqlite"].rbegin());
  EXPECT_GE(NewestSchemaVersion(), 2);
}

TEST(SchemaScriptsTest, SplitKeepsStatementsAndDropsCommentLines) {
  auto parts = SplitSqlScript("-- c\nCREATE TABLE a (x INT);\n  -- d\nINSERT INTO a\n  VALUES(1);\n");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1], "INSERT INTO a\n  VALUES(1);\n");
}

class MigrationsTest : public testing::TestWithParam<TestDb> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dsched-schema-XXXXXX";
    dir_ = mkdtemp(tmpl);
    opts_ = GetParam().opts;
    if (opts_.type == DbType::kSqlite) opts_.sqlite_path = dir_ + "/db.sqlite";
    Status reset = ResetDatabase(opts_);
    ASSERT_TRUE(reset.ok()) << reset.ToString();
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::unique_ptr<soci::session> Session() {
    auto s = Connect(opts_, false);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  // The oldest schema, as dsched 0.1 shipped it, filled with rows (tests/db/).
  void CreateOldestAndFill() {
    std::string db = DbTypeName(opts_.type);
    Status s = RunSqlFile(opts_, SourceDir() + "/tests/db/schema_v1/" + db + ".sql");
    ASSERT_TRUE(s.ok()) << s.ToString();
    s = RunSqlFile(opts_, SourceDir() + "/tests/db/v1_fill.sql");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  long long Count(soci::session& sql, const std::string& table) {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM " + table, soci::into(n);
    return n;
  }
  // Tables, columns and indexes, in a form that does not depend on how they were created.
  std::set<std::string> Catalog() {
    auto sql = Session();
    std::set<std::string> out;
    auto add = [&](const std::string& q) {
      soci::rowset<soci::row> rs = sql->prepare << q;
      for (const auto& r : rs) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
          line += i ? " | " : "";
          if (r.get_indicator(i) == soci::i_null) {
            line += "NULL";
          } else if (r.get_properties(i).get_data_type() == soci::dt_string) {
            line += r.get<std::string>(i);
          } else if (r.get_properties(i).get_data_type() == soci::dt_integer) {
            line += std::to_string(r.get<int>(i));
          } else if (r.get_properties(i).get_data_type() == soci::dt_long_long) {
            line += std::to_string(r.get<long long>(i));
          } else if (r.get_properties(i).get_data_type() == soci::dt_unsigned_long_long) {
            line += std::to_string(r.get<unsigned long long>(i));
          } else {
            line += "?";
          }
        }
        out.insert(line);
      }
    };
    switch (opts_.type) {
      case DbType::kSqlite: {
        auto tables = ListTables(*sql, opts_.type);
        EXPECT_TRUE(tables.ok());
        for (const auto& t : *tables) {
          if (t == "sqlite_sequence") continue;
          add("SELECT '" + t + "', name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('" + t + "')");
          add("SELECT '" + t + "', il.name, il.\"unique\", ii.seqno, ii.name FROM pragma_index_list('" + t +
              "') il, pragma_index_info(il.name) ii WHERE il.origin = 'c'");
          add("SELECT '" + t + "', il.\"unique\", ii.seqno, ii.name FROM pragma_index_list('" + t +
              "') il, pragma_index_info(il.name) ii WHERE il.origin <> 'c'");
        }
        break;
      }
      case DbType::kPostgres:
        add("SELECT table_name, column_name, data_type, is_nullable, column_default FROM "
            "information_schema.columns WHERE table_schema = current_schema()");
        add("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = "
            "current_schema()");
        break;
      case DbType::kMySql:
        add("SELECT table_name, column_name, column_type, is_nullable, column_default, extra, "
            "collation_name FROM information_schema.columns WHERE table_schema = DATABASE()");
        add("SELECT table_name, index_name, non_unique, seq_in_index, column_name FROM "
            "information_schema.statistics WHERE table_schema = DATABASE()");
        add("SELECT table_name, engine, table_collation FROM information_schema.tables WHERE "
            "table_schema = DATABASE()");
        break;
    }
    return out;
  }

  std::string dir_;
  DbOptions opts_;
  FakeClock clock_;
};

TEST_P(MigrationsTest, CreateOnEmptyThenRefusesToTouchIt) {
  auto sql = Session();
  ASSERT_EQ(*ReadSchemaVersion(*sql, opts_.type), 0);
  ASSERT_TRUE(CreateSchema(*sql, opts_.type).ok());
  EXPECT_EQ(*ReadSchemaVersion(*sql, opts_.type), NewestSchemaVersion());
  EXPECT_EQ(Count(*sql, "t_ds_queue"), 1) << "the default queue";
  EXPECT_EQ(Count(*sql, "t_ds_alertgroup"), 1) << "the default alert group";
  Status again = CreateSchema(*sql, opts_.type);
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.message().find("already holds a schema"), std::string::npos) << again.message();
  EXPECT_EQ(Count(*sql, "t_ds_queue"), 1);
  auto up = UpgradeSchema(*sql, opts_.type);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_TRUE(up->applied.empty()) << "a fresh create is current";
}

TEST_P(MigrationsTest, CreateRefusesAForeignSchema) {
  auto sql = Session();
  *sql << "CREATE TABLE t_ds_foo (id BIGINT)";
  Status s = CreateSchema(*sql, opts_.type);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  auto up = UpgradeSchema(*sql, opts_.type);
  EXPECT_EQ(up.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(up.status().message().find("no t_ds_version"), std::string::npos)
      << up.status().message();
}

TEST_P(MigrationsTest, DolphinSchedulerDatabaseIsRecognised) {
  auto sql = Session();
  *sql << "CREATE TABLE t_ds_version (id INT, version VARCHAR(200))";
  *sql << "INSERT INTO t_ds_version VALUES (1, '3.2.0')";
  auto v = ReadSchemaVersion(*sql, opts_.type);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("DolphinScheduler database"), std::string::npos)
      << v.status().message();
}

TEST_P(MigrationsTest, UpgradeFromOldestKeepsEveryRowAndIsIdempotent) {
  CreateOldestAndFill();
  if (HasFatalFailure()) return;
  auto sql = Session();
  ASSERT_EQ(*ReadSchemaVersion(*sql, opts_.type), 1);
  auto tables = ListTables(*sql, opts_.type);
  ASSERT_TRUE(tables.ok());
  std::map<std::string, long long> before;
  for (const auto& t : *tables)
    if (t.rfind("t_ds_", 0) == 0) before[t] = Count(*sql, t);

  // A service refuses the old schema until the operator upgrades.
  auto refused = SqlStore::Open(opts_, clock_, SchemaMode::kRequireCurrent);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("upgrade-dolphinscheduler.sh"), std::string::npos)
      << refused.status().message();

  auto up = UpgradeSchema(*sql, opts_.type);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->from, 1);
  EXPECT_EQ(up->to, NewestSchemaVersion());
  EXPECT_EQ(up->applied.size(), static_cast<size_t>(NewestSchemaVersion() - 1));
  auto again = UpgradeSchema(*sql, opts_.type);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->applied.empty()) << "the second upgrade is a no-op";
  EXPECT_EQ(again->from, NewestSchemaVersion());

  for (const auto& [t, n] : before) {
    long long want = n;
    if (t == "t_ds_version") want += NewestSchemaVersion() - 1;
    if (t == "t_ds_queue") want += 1;  // version 2 adds the default queue
    EXPECT_EQ(Count(*sql, t), want) << t;
  }

  // Every row reads back through the stores, whole.
  auto store = SqlStore::Open(opts_, clock_, SchemaMode::kRequireCurrent);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  SqlStore& s = **store;
  auto admin = s.GetUserByName("admin");
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->create_time, 1700000000001);
  EXPECT_EQ(admin->user_type, UserType::kAdmin);
  auto sess = s.GetSession("sess-1");
  ASSERT_TRUE(sess.ok());
  EXPECT_EQ(sess->user_id, admin->id);
  auto alice = s.GetUserByToken("tok-1", 1800000000000);
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  EXPECT_EQ(alice->user_name, "alice");
  EXPECT_EQ(alice->tenant_id, 7);
  auto proj = s.GetProject(15000000000001);
  ASSERT_TRUE(proj.ok());
  EXPECT_EQ(proj->name, "Upgrade Proj");
  EXPECT_EQ(proj->user_name, "admin");
  auto wf = s.GetWorkflow(15000000000101);
  ASSERT_TRUE(wf.ok()) << wf.status().ToString();
  EXPECT_EQ(wf->version, 2);
  ASSERT_EQ(wf->global_params.size(), 1u);
  EXPECT_EQ(wf->global_params[0].value, "2024-01-01");
  ASSERT_EQ(wf->tasks.size(), 2u);
  ASSERT_EQ(wf->relations.size(), 2u);
  EXPECT_EQ(wf->tasks[0].task_params["rawScript"], "echo v2");
  auto wf1 = s.GetWorkflowVersion(15000000000101, 1);
  ASSERT_TRUE(wf1.ok());
  ASSERT_EQ(wf1->tasks.size(), 1u);
  EXPECT_EQ(wf1->tasks[0].task_params["rawScript"], "echo v1");
  auto cmds = s.ListCommands(10);
  ASSERT_TRUE(cmds.ok());
  ASSERT_EQ(cmds->size(), 1u);
  EXPECT_EQ((*cmds)[0].trigger_code, 16000000000001);
  InstanceFilter f;
  f.project_code = 15000000000001;
  auto wis = s.ListWorkflowInstances(f, {0, 10});
  ASSERT_TRUE(wis.ok());
  ASSERT_EQ(wis->rows.size(), 1u);
  EXPECT_EQ(wis->rows[0].owner_epoch, 5000000000);
  EXPECT_EQ(wis->rows[0].state, WorkflowState::kSuccess);
  auto tis = s.ListTaskInstances(wis->rows[0].id);
  ASSERT_TRUE(tis.ok());
  ASSERT_EQ(tis->size(), 2u);
  EXPECT_EQ((*tis)[0].name, "extract");
  EXPECT_EQ((*tis)[0].pid, 4242);
  EXPECT_EQ((*tis)[1].task_code, 15000000000202);
  EXPECT_EQ(*s.MaxOwnerEpoch(), 5000000000);

  // New rows get fresh ids after the upgrade (sequences and counters survived too).
  Project p;
  p.code = 15000000000002;
  p.name = "after";
  auto created = s.CreateProject(p);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_GT(created->id, proj->id);
}

TEST_P(MigrationsTest, CreateEqualsOldestPlusUpgrades) {
  CreateOldestAndFill();
  if (HasFatalFailure()) return;
  {
    auto sql = Session();
    ASSERT_TRUE(UpgradeSchema(*sql, opts_.type).ok());
  }
  std::set<std::string> upgraded = Catalog();
  ASSERT_TRUE(ResetDatabase(opts_).ok());
  {
    auto sql = Session();
    ASSERT_TRUE(CreateSchema(*sql, opts_.type).ok());
  }
  std::set<std::string> created = Catalog();
  std::vector<std::string> only_upgraded, only_created;
  std::set_difference(upgraded.begin(), upgraded.end(), created.begin(), created.end(),
                      std::back_inserter(only_upgraded));
  std::set_difference(created.begin(), created.end(), upgraded.begin(), upgraded.end(),
                      std::back_inserter(only_created));
  auto text = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& l : v) s += "  " + l + "\n";
    return s;
  };
  EXPECT_TRUE(only_upgraded.empty() && only_created.empty())
      << "sql/create and schema_v1 + sql/upgrade differ.\nonly after upgrade:\n"
      << text(only_upgraded) << "only after create:\n"
      << text(only_created);
  EXPECT_GT(created.size(), 100u) << "the catalog query found the schema";
}

TEST_P(MigrationsTest, NewerSchemaIsRefused) {
  auto sql = Session();
  ASSERT_TRUE(CreateSchema(*sql, opts_.type).ok());
  long long v = NewestSchemaVersion() + 1;
  *sql << "INSERT INTO t_ds_version(id, version) VALUES(:a, :b)", soci::use(v), soci::use(v);
  auto up = UpgradeSchema(*sql, opts_.type);
  ASSERT_FALSE(up.ok());
  EXPECT_NE(up.status().message().find("newer than this dsched"), std::string::npos)
      << up.status().message();
  for (SchemaMode m : {SchemaMode::kCreateOrUpgrade, SchemaMode::kRequireCurrent}) {
    auto store = SqlStore::Open(opts_, clock_, m);
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.status().message().find("newer than this dsched"), std::string::npos)
        << store.status().message();
  }
}

TEST_P(MigrationsTest, ServicesRefuseAnEmptyDatabaseUnlessAskedToCreate) {
  auto refused = SqlStore::Open(opts_, clock_, SchemaMode::kRequireCurrent);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("create-dolphinscheduler.sh"), std::string::npos)
      << refused.status().message();
  auto created = SqlStore::Open(opts_, clock_, SchemaMode::kCreateOrUpgrade);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Db, MigrationsTest, testing::ValuesIn(TestDatabases()),
                         [](const testing::TestParamInfo<TestDb>& i) { return i.param.name; });

}  // namespace
}  // namespace dsched
