// The alert server's loop: scans the alert outbox (t_ds_alert) for waiting rows and sends each
// to every plugin instance that takes it (its group's and the GLOBAL ones, by warning type),
// through the AlertChannel of the instance's plugin. The outcome of each instance goes into the
// row's log (a JSON list of {instanceId, instanceName, status "true"/"false"/"skipped",
// message}); the row leaves "waiting" once, through AlertStore::MarkAlert's conditional update.
//
// Retries: a failure that may pass (channel says retryable) keeps the row waiting, with the
// progress in its log, and is tried again after a backoff that doubles per attempt, up to
// max_attempts; instances that already got the alert are not sent it again (the log says so,
// also after a restart). Final failures (bad params, a refused request) end the row at once.
//
// Not here: one sender at a time across processes (the registry lock of the cluster's alert
// servers). Two senders on one database can both send a row before either marks it.
//
// Thread-safety: RunOnce is called by one thread at a time (the sender's own once started);
// Start, Stop and Wake are thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "alert/alert_channel.h"
#include "common/clock.h"
#include "storage/stores.h"

namespace dsched::alert {

struct AlertSenderOptions {
  int64_t scan_interval_ms = 1000;   // one indexed query per scan while nothing waits
  int batch = 1000;                  // waiting rows read per scan, oldest first
  int max_attempts = 3;              // sends of one alert to an instance that keeps failing
  int64_t retry_backoff_ms = 10000;  // before the 2nd attempt; doubled for each further one
  int64_t max_backoff_ms = 300000;
};

struct ScanResult {
  int finished = 0;  // rows marked sent, failed or partly sent
  int retrying = 0;  // rows left waiting for a later attempt
};

class AlertSender {
 public:
  // channels: plugin_name ("Email", "Http") -> channel; not owned, must outlive the sender.
  AlertSender(AlertSenderOptions opts, Clock& clock, AlertStore& alerts, AdminStore& admin,
              std::map<std::string, AlertChannel*> channels);
  ~AlertSender();

  // One scan: every waiting row that is due is sent and marked. An error reading the outbox or
  // the plugin instances leaves the rows waiting for the next scan.
  StatusOr<ScanResult> RunOnce();

  // A thread that scans every scan_interval_ms (timed by the clock) and when woken.
  void Start();
  void Stop();
  void Wake();

 private:
  struct Pending {
    int attempts = 0;
    int64_t next_ms = 0;
    std::set<int64_t> sent;  // instances that got it already
  };
  struct Signal {
    std::mutex mu;
    std::condition_variable cv;
    bool wake = false, stop = false;
  };
  // Sends one row; true when it was finished (marked), false when it waits for a retry.
  // all: every plugin instance (the group's are looked up in it, the GLOBAL ones taken from it).
  StatusOr<bool> Process(const Alert& a, const std::vector<AlertPluginInstance>& all);

  const AlertSenderOptions opts_;
  Clock& clock_;
  AlertStore& alerts_;
  AdminStore& admin_;
  const std::map<std::string, AlertChannel*> channels_;
  std::map<int64_t, Pending> pending_;  // RunOnce's thread only
  // Shared with the clock's timer callbacks, which may run after the sender is gone.
  std::shared_ptr<Signal> signal_ = std::make_shared<Signal>();
  std::thread thread_;
};

}  // namespace dsched::alert
