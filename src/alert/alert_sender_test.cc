// AlertSender against the real SQLite store with recording channels: which plugin instance gets
// which alert, the status and log written to the outbox row, retries with backoff on the
// injected clock, and no second send to an instance that already got an alert (also after a
// restart of the sender).
#include "alert/alert_sender.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>

#include "alert/alert_content.h"
#include "storage/sql/sql_store.h"

namespace dsched::alert {
namespace {

using nlohmann::json;

class RecordingChannel final : public AlertChannel {
 public:
  struct Call {
    json params;
    AlertMessage msg;
  };
  SendResult Send(const json& params, const AlertMessage& msg) override {
    calls.push_back({params, msg});
    if (results.empty()) return {true, false, "recorded"};
    SendResult r = results.front();
    results.pop_front();
    return r;
  }
  std::vector<Call> calls;
  std::deque<SendResult> results;  // answers to give, in order; then success
};

class AlertSenderTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dsched-alertsender-XXXXXX";
    dir_ = mkdtemp(tmpl);
    DbOptions o;
    o.type = DbType::kSqlite;
    o.sqlite_path = dir_ + "/db.sqlite";
    o.pool_size = 2;
    auto s = SqlStore::Open(o, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    auto defs = store_->ListPluginDefines("ALERT");
    ASSERT_TRUE(defs.ok());
    for (const auto& d : *defs) plugin_ids_[d.plugin_name] = d.id;
    ASSERT_TRUE(plugin_ids_.count("Email") && plugin_ids_.count("Http"));
    opts_.retry_backoff_ms = 1000;
    opts_.max_attempts = 3;
  }
  void TearDown() override {
    store_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }
  int64_t Instance(const std::string& name, const std::string& plugin, int warning = 3,
                   int type = 0) {
    AlertPluginInstance i;
    i.plugin_define_id = plugin_ids_[plugin];
    i.instance_name = name;
    i.plugin_instance_params = json{{"name", name}}.dump();
    i.warning_type = warning;
    i.instance_type = type;
    auto c = store_->CreateAlertPluginInstance(i);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? c->id : 0;
  }
  int64_t Group(const std::string& name, const std::string& ids) {
    AlertGroup g;
    g.group_name = name;
    g.alert_instance_ids = ids;
    auto c = store_->CreateAlertGroup(g);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? c->id : 0;
  }
  int64_t Outbox(int64_t group, int warning_type = 2) {
    Alert a;
    a.title = "start process failed";
    a.content = R"([{"processName":"etl"}])";
    a.warning_type = warning_type;
    a.alertgroup_id = group;
    auto id = store_->InsertAlert(a);
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : 0;
  }
  std::unique_ptr<AlertSender> Sender() {
    return std::make_unique<AlertSender>(
        opts_, clock_, *store_, *store_,
        std::map<std::string, AlertChannel*>{{"Email", &mail_}, {"Http", &hook_}});
  }
  Alert Row(int64_t id) {
    auto a = store_->GetAlert(id);
    EXPECT_TRUE(a.ok());
    return a.ok() ? *a : Alert{};
  }
  static std::map<std::string, std::string> StatusByName(const Alert& a) {
    std::map<std::string, std::string> out;
    for (const auto& e : json::parse(a.log))
      out[e.value("instanceName", "")] = e.value("status", "");
    return out;
  }

  std::string dir_;
  FakeClock clock_;
  std::unique_ptr<SqlStore> store_;
  std::map<std::string, int64_t> plugin_ids_;
  AlertSenderOptions opts_;
  RecordingChannel mail_, hook_;
};

TEST_F(AlertSenderTest, EachReceivingInstanceGetsTheAlertOnce) {
  int64_t m = Instance("ops-mail", "Email");
  int64_t h = Instance("ops-hook", "Http");
  int64_t g = Group("ops", std::to_string(m) + "," + std::to_string(h));
  int64_t id = Outbox(g);
  auto sender = Sender();
  auto r = sender->RunOnce();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->finished, 1);
  ASSERT_EQ(mail_.calls.size(), 1u);
  ASSERT_EQ(hook_.calls.size(), 1u);
  EXPECT_EQ(mail_.calls[0].params["name"], "ops-mail");
  EXPECT_EQ(hook_.calls[0].params["name"], "ops-hook");
  EXPECT_EQ(mail_.calls[0].msg.title, "start process failed");
  EXPECT_EQ(mail_.calls[0].msg.content, R"([{"processName":"etl"}])");
  EXPECT_EQ(mail_.calls[0].msg.alert_id, id);
  Alert row = Row(id);
  EXPECT_EQ(row.alert_status, kSent);
  EXPECT_EQ(StatusByName(row),
            (std::map<std::string, std::string>{{"ops-mail", "true"}, {"ops-hook", "true"}}));
  // A second scan finds nothing waiting: nothing is sent twice.
  r = sender->RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finished, 0);
  EXPECT_EQ(mail_.calls.size(), 1u);
  EXPECT_EQ(hook_.calls.size(), 1u);
}

TEST_F(AlertSenderTest, WarningTypesAndGlobalInstancesDecideReceivers) {
  int64_t all = Instance("all", "Email", 3);
  int64_t success_only = Instance("success-only", "Http", 1);
  Instance("not-in-group", "Email", 3);
  Instance("global-failure", "Http", 2, /*GLOBAL*/ 1);
  Instance("global-success", "Http", 1, 1);
  int64_t g = Group("g", std::to_string(all) + "," + std::to_string(success_only));
  int64_t failure = Outbox(g, 2);
  auto sender = Sender();
  ASSERT_TRUE(sender->RunOnce().ok());
  EXPECT_EQ(mail_.calls.size(), 1u);
  ASSERT_EQ(hook_.calls.size(), 1u);
  EXPECT_EQ(hook_.calls[0].params["name"], "global-failure");
  Alert row = Row(failure);
  EXPECT_EQ(row.alert_status, kSent);
  EXPECT_EQ(StatusByName(row), (std::map<std::string, std::string>{{"all", "true"},
                                                                   {"global-failure", "true"},
                                                                   {"success-only", "skipped"},
                                                                   {"global-success", "skipped"}}));
  // No group at all: only the GLOBAL instances that take it.
  int64_t success = Outbox(0, 1);
  ASSERT_TRUE(sender->RunOnce().ok());
  ASSERT_EQ(hook_.calls.size(), 2u);
  EXPECT_EQ(hook_.calls[1].params["name"], "global-success");
  EXPECT_EQ(Row(success).alert_status, kSent);
}

TEST_F(AlertSenderTest, TransientFailureIsRetriedAfterBackoffWithoutResending) {
  int64_t m = Instance("mail", "Email");
  int64_t h = Instance("hook", "Http");
  int64_t id = Outbox(Group("g", std::to_string(m) + "," + std::to_string(h)));
  hook_.results = {{false, true, "HTTP 503"}};
  auto sender = Sender();
  auto r = sender->RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->retrying, 1);
  Alert row = Row(id);
  EXPECT_EQ(row.alert_status, kWaiting);
  EXPECT_EQ(StatusByName(row),
            (std::map<std::string, std::string>{{"mail", "true"}, {"hook", "false"}}));
  // Not due yet: nothing is tried.
  clock_.Advance(999);
  ASSERT_TRUE(sender->RunOnce().ok());
  EXPECT_EQ(hook_.calls.size(), 1u);
  clock_.Advance(1);
  r = sender->RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finished, 1);
  EXPECT_EQ(mail_.calls.size(), 1u) << "the mail went out on the first attempt";
  EXPECT_EQ(hook_.calls.size(), 2u);
  row = Row(id);
  EXPECT_EQ(row.alert_status, kSent);
  EXPECT_EQ(StatusByName(row),
            (std::map<std::string, std::string>{{"mail", "true"}, {"hook", "true"}}));
}

TEST_F(AlertSenderTest, RetriesEndAndFinalFailuresEndAtOnce) {
  int64_t m = Instance("mail", "Email");
  int64_t h = Instance("hook", "Http");
  std::string ids = std::to_string(m) + "," + std::to_string(h);
  int64_t id = Outbox(Group("g", ids));
  hook_.results = {
      {false, true, "down"}, {false, true, "down"}, {false, true, "down"}, {false, true, "down"}};
  auto sender = Sender();
  ASSERT_TRUE(sender->RunOnce().ok());  // attempt 1
  clock_.Advance(1000);
  ASSERT_TRUE(sender->RunOnce().ok());  // attempt 2, backoff doubles
  clock_.Advance(1999);
  ASSERT_TRUE(sender->RunOnce().ok());
  EXPECT_EQ(hook_.calls.size(), 2u);
  clock_.Advance(1);
  ASSERT_TRUE(sender->RunOnce().ok());  // attempt 3 = max_attempts: final
  EXPECT_EQ(hook_.calls.size(), 3u);
  EXPECT_EQ(Row(id).alert_status, kPartlySent);
  EXPECT_EQ(mail_.calls.size(), 1u);

  // A failure that will not pass (bad params) ends the row at the first attempt.
  hook_.results = {{false, false, "WebHook: it is required"}};
  mail_.results = {{false, false, "receivers: it is required"}};
  int64_t bad = Outbox(Group("g2", ids));
  ASSERT_TRUE(sender->RunOnce().ok());
  Alert row = Row(bad);
  EXPECT_EQ(row.alert_status, kFailed);
  EXPECT_NE(row.log.find("WebHook: it is required"), std::string::npos) << row.log;
}

TEST_F(AlertSenderTest, RestartedSenderDoesNotResendWhatTheLogSaysWasSent) {
  int64_t m = Instance("mail", "Email");
  int64_t h = Instance("hook", "Http");
  int64_t id = Outbox(Group("g", std::to_string(m) + "," + std::to_string(h)));
  hook_.results = {{false, true, "down"}};
  ASSERT_TRUE(Sender()->RunOnce().ok());
  EXPECT_EQ(mail_.calls.size(), 1u);
  // A new sender (a restart) knows nothing of the backoff, but the row's log says who got it.
  auto again = Sender();
  ASSERT_TRUE(again->RunOnce().ok());
  EXPECT_EQ(mail_.calls.size(), 1u);
  EXPECT_EQ(hook_.calls.size(), 2u);
  EXPECT_EQ(Row(id).alert_status, kSent);
}

TEST_F(AlertSenderTest, AlertThatReachesNobodyFails) {
  int64_t missing_group = Outbox(12345);
  int64_t empty_group = Outbox(Group("empty", ""));
  int64_t m = Instance("mail", "Email");
  AlertPluginInstance odd;
  odd.plugin_define_id = plugin_ids_["Email"];
  odd.instance_name = "odd";
  odd.plugin_instance_params = "[1,2]";
  auto created = store_->CreateAlertPluginInstance(odd);
  ASSERT_TRUE(created.ok());
  int64_t bad_params = Outbox(Group("odd", std::to_string(created->id) + "," + std::to_string(m)));
  ASSERT_TRUE(Sender()->RunOnce().ok());
  Alert row = Row(missing_group);
  EXPECT_EQ(row.alert_status, kFailed);
  EXPECT_NE(row.log.find("alert group 12345 does not exist"), std::string::npos) << row.log;
  EXPECT_EQ(Row(empty_group).alert_status, kFailed);
  row = Row(bad_params);
  EXPECT_EQ(row.alert_status, kPartlySent);
  EXPECT_NE(row.log.find("pluginInstanceParams: not a JSON object"), std::string::npos) << row.log;
}

TEST_F(AlertSenderTest, StartedSenderScansOnItsOwn) {
  int64_t m = Instance("mail", "Email");
  int64_t id = Outbox(Group("g", std::to_string(m)));
  opts_.scan_interval_ms = 3600 * 1000;  // only Start's first scan and Wake can send it
  auto sender = Sender();
  sender->Start();
  // The first scan runs at once; wait for it by polling the row (no timing asserted).
  for (int i = 0; i < 500 && Row(id).alert_status == kWaiting; ++i) usleep(10000);
  EXPECT_EQ(Row(id).alert_status, kSent);
  int64_t second = Outbox(Group("g2", std::to_string(m)));
  sender->Wake();
  for (int i = 0; i < 500 && Row(second).alert_status == kWaiting; ++i) usleep(10000);
  EXPECT_EQ(Row(second).alert_status, kSent);
  sender->Stop();
  EXPECT_EQ(mail_.calls.size(), 2u);
}

}  // namespace
}  // namespace dsched::alert
