#include "cluster/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

namespace dsched::cluster {

namespace {

bool ValidName(const std::string& n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// The metrics as prometheus-cpp collects them: one family of one sample each, read now.
class FunctionCollectable final : public prometheus::Collectable {
 public:
  explicit FunctionCollectable(std::vector<Metric> metrics) : metrics_(std::move(metrics)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    for (const auto& m : metrics_) {
      prometheus::MetricFamily f;
      f.name = m.name;
      f.help = m.help;
      f.type = m.counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
      prometheus::ClientMetric sample;
      if (m.counter)
        sample.counter.value = m.value();
      else
        sample.gauge.value = m.value();
      f.metric.push_back(std::move(sample));
      out.push_back(std::move(f));
    }
    return out;
  }

 private:
  const std::vector<Metric> metrics_;
};

}  // namespace

struct MetricsEndpoint::Impl {
  std::shared_ptr<FunctionCollectable> collectable;
  std::unique_ptr<prometheus::Exposer> exposer;
};

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MetricsEndpoint::~MetricsEndpoint() = default;

StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(int port,
                                                                  const std::string& port_key,
                                                                  std::vector<Metric> metrics) {
  if (port < 1 || port > 65535)
    return InvalidArgument(port_key + " must be a port (1-65535), got " + std::to_string(port));
  for (const auto& m : metrics)
    if (!ValidName(m.name) || !m.value)
      return InvalidArgument("metric '" + m.name + "' has a bad name or no value");
  auto impl = std::make_unique<Impl>();
  impl->collectable = std::make_shared<FunctionCollectable>(std::move(metrics));
  try {
    impl->exposer = std::make_unique<prometheus::Exposer>("0.0.0.0:" + std::to_string(port));
  } catch (const std::exception& e) {
    return Unavailable(port_key + ": cannot serve metrics on port " + std::to_string(port) +
                       ": " + e.what());
  }
  impl->exposer->RegisterCollectable(impl->collectable, "/metrics");
  impl->exposer->RegisterCollectable(impl->collectable, "/actuator/prometheus");
  return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(std::move(impl)));
}

}  // namespace dsched::cluster
