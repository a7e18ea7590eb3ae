#include "alert/alert_sender.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "alert/alert_content.h"

namespace dsched::alert {

using nlohmann::json;

namespace {

json Entry(const AlertPluginInstance& i, const char* status, const std::string& message) {
  return json{{"instanceId", i.id},
              {"instanceName", i.instance_name},
              {"status", status},
              {"message", message}};
}

// The instances a row's log says got it already (an earlier attempt, maybe another process).
std::set<int64_t> SentBefore(const std::string& log) {
  std::set<int64_t> out;
  json j = json::parse(log.empty() ? "[]" : log, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& e : j)
    if (e.is_object() && e.value("status", "") == "true" && e.contains("instanceId") &&
        e["instanceId"].is_number_integer())
      out.insert(e["instanceId"].get<int64_t>());
  return out;
}

}  // namespace

AlertSender::AlertSender(AlertSenderOptions opts, Clock& clock, AlertStore& alerts,
                         AdminStore& admin, std::map<std::string, AlertChannel*> channels)
    : opts_(opts), clock_(clock), alerts_(alerts), admin_(admin), channels_(std::move(channels)) {}

AlertSender::~AlertSender() { Stop(); }

StatusOr<ScanResult> AlertSender::RunOnce() {
  DSCHED_ASSIGN_OR_RETURN(std::vector<Alert> rows, alerts_.ListWaitingAlerts(opts_.batch));
  ScanResult out;
  if (rows.empty()) {
    pending_.clear();
    return out;
  }
  // Plugin instances are few: read them once per scan, not once per row.
  DSCHED_ASSIGN_OR_RETURN(auto all, admin_.ListAlertPluginInstances("", Page{0, 1000000, false}));
  int64_t now = clock_.NowMs();
  std::set<int64_t> waiting;
  for (const Alert& a : rows) {
    waiting.insert(a.id);
    auto p = pending_.find(a.id);
    if (p != pending_.end() && p->second.next_ms > now) {
      ++out.retrying;
      continue;
    }
    auto done = Process(a, all.rows);
    if (!done.ok()) {
      // The store failed (an outage): the row stays waiting for the next scan.
      spdlog::warn("alert {}: {}", a.id, done.status().message());
      return done.status();
    }
    ++(*done ? out.finished : out.retrying);
  }
  // Rows someone else finished (or that were deleted) need no retry state any more.
  for (auto it = pending_.begin(); it != pending_.end();)
    it = waiting.count(it->first) || rows.size() >= static_cast<size_t>(opts_.batch)
             ? std::next(it)
             : pending_.erase(it);
  return out;
}

StatusOr<bool> AlertSender::Process(const Alert& a, const std::vector<AlertPluginInstance>& all) {
  std::vector<AlertPluginInstance> group_instances;
  std::string no_group;
  if (a.alertgroup_id > 0) {
    auto g = admin_.GetAlertGroup(a.alertgroup_id);
    if (g.ok()) {
      for (int64_t id : ParseInstanceIds(g->alert_instance_ids))
        for (const auto& i : all)
          if (i.id == id) group_instances.push_back(i);
    } else if (g.status().code() == StatusCode::kNotFound) {
      no_group = "alert group " + std::to_string(a.alertgroup_id) + " does not exist";
    } else {
      return g.status();
    }
  }
  std::vector<AlertPluginInstance> skipped;
  std::vector<AlertPluginInstance> receivers = Receivers(a, group_instances, all, &skipped);

  Pending& p = pending_[a.id];
  std::set<int64_t> before = SentBefore(a.log);
  p.sent.insert(before.begin(), before.end());
  AlertMessage msg;
  msg.alert_id = a.id;
  msg.title = a.title;
  msg.content = a.content;
  msg.warning_type = a.warning_type;
  msg.alert_type = a.alert_type;
  msg.now_ms = clock_.NowMs();

  json log = json::array();
  int sent = 0, failed = 0;
  bool retry = false;
  for (const auto& i : receivers) {
    if (p.sent.count(i.id)) {
      log.push_back(Entry(i, "true", "sent by an earlier attempt"));
      ++sent;
      continue;
    }
    auto ch = channels_.find(i.plugin_name);
    json params = json::parse(i.plugin_instance_params.empty() ? "{}" : i.plugin_instance_params,
                              nullptr, false);
    SendResult r;
    if (ch == channels_.end())
      r = {false, false, "no channel for alert plugin '" + i.plugin_name + "'"};
    else if (!params.is_object())
      r = {false, false, "pluginInstanceParams: not a JSON object"};
    else
      r = ch->second->Send(params, msg);
    log.push_back(Entry(i, r.ok ? "true" : "false", r.message));
    if (r.ok) {
      p.sent.insert(i.id);
      ++sent;
    } else {
      ++failed;
      retry = retry || r.retryable;
      spdlog::warn("alert {} to instance {} ({}): {}", a.id, i.id, i.instance_name, r.message);
    }
  }
  for (const auto& i : skipped)
    log.push_back(Entry(i, "skipped", "its warning type does not take this alert"));
  if (receivers.empty())
    log.push_back(json{
        {"status", "false"},
        {"message", no_group.empty() ? "no alert plugin instance takes this alert" : no_group}});

  ++p.attempts;
  if (retry && p.attempts < opts_.max_attempts) {
    int64_t backoff = opts_.retry_backoff_ms;
    for (int k = 1; k < p.attempts && backoff < opts_.max_backoff_ms; ++k) backoff *= 2;
    p.next_ms = clock_.NowMs() + std::min(backoff, opts_.max_backoff_ms);
    // The progress goes to the row, so a restarted sender does not send it twice either.
    Status s = alerts_.MarkAlert(a.id, kWaiting, log.dump());
    if (s.code() == StatusCode::kAborted) {
      pending_.erase(a.id);
      return true;  // finished elsewhere meanwhile
    }
    DSCHED_RETURN_IF_ERROR(s);
    return false;
  }
  AlertStatus status = FinalStatus(sent, failed);
  Status s = alerts_.MarkAlert(a.id, status, log.dump());
  if (s.code() == StatusCode::kAborted) {
    spdlog::info("alert {} was finished by another sender meanwhile", a.id);
  } else {
    DSCHED_RETURN_IF_ERROR(s);
  }
  pending_.erase(a.id);
  return true;
}

void AlertSender::Start() {
  {
    std::lock_guard<std::mutex> l(signal_->mu);
    if (thread_.joinable()) return;
    signal_->stop = false;
  }
  thread_ = std::thread([this] {
    for (;;) {
      auto r = RunOnce();
      if (!r.ok()) spdlog::warn("alert scan: {}", r.status().message());
      // The clock's lock is never taken under signal_->mu (its thread takes them the other way
      // round when a timer fires).
      std::weak_ptr<Signal> weak = signal_;
      TimerId timer = clock_.RunAfter(opts_.scan_interval_ms, [weak] {
        if (auto s = weak.lock()) {
          std::lock_guard<std::mutex> g(s->mu);
          s->wake = true;
          s->cv.notify_all();
        }
      });
      bool stop;
      {
        std::unique_lock<std::mutex> l(signal_->mu);
        signal_->cv.wait(l, [&] { return signal_->wake || signal_->stop; });
        signal_->wake = false;
        stop = signal_->stop;
      }
      clock_.Cancel(timer);
      if (stop) return;
    }
  });
}

void AlertSender::Stop() {
  {
    std::lock_guard<std::mutex> l(signal_->mu);
    signal_->stop = true;
    signal_->cv.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void AlertSender::Wake() {
  std::lock_guard<std::mutex> l(signal_->mu);
  signal_->wake = true;
  signal_->cv.notify_all();
}

}  // namespace dsched::alert
