// Prometheus metrics of a cluster service (prometheus-cpp's HTTP exposer): GET /metrics, and
// /actuator/prometheus, the path DolphinScheduler's services serve them at, on the service's
// <service>.metrics-port. Every value is read from the service's own state when scraped (no
// counters to keep in step). What does not belong here: which values a service exposes
// (services.cc).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace dsched::cluster {

struct Metric {
  std::string name;  // [a-zA-Z_:][a-zA-Z0-9_:]*, e.g. dsched_master_running_workflows
  std::string help;
  bool counter = false;  // a value that only grows (else a gauge)
  std::function<double()> value;  // called on the scrape's thread: thread-safe, quick
};

// Thread-safe. Stops serving when destroyed.
class MetricsEndpoint {
 public:
  // Serves `metrics` on 0.0.0.0:port. InvalidArgument on a bad metric name (named);
  // Unavailable when the port cannot be bound, naming `port_key`.
  static StatusOr<std::unique_ptr<MetricsEndpoint>> Start(int port, const std::string& port_key,
                                                          std::vector<Metric> metrics);
  ~MetricsEndpoint();

  struct Impl;

 private:
  explicit MetricsEndpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dsched::cluster
