// The AlertChannel seam (DESIGN.md §3b): one implementation per alert plugin (t_ds_plugin_define
// plugin_name), turning one alert into one delivery. Real channels: EmailChannel (SMTP),
// HttpChannel (webhook), both over libcurl. Tests of the sender use a recording fake.
// What to send and to whom is decided by alert_content.h and alert_sender.h, not here.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace dsched::alert {

struct AlertMessage {
  int64_t alert_id = 0;
  std::string title;
  std::string content;  // the outbox row's content (a JSON list of objects, usually)
  int warning_type = 0;
  int alert_type = 0;
  int64_t now_ms = 0;  // for the Date of a mail
};

struct SendResult {
  bool ok = false;
  // A failure that may pass (connection refused, timeout, 5xx): the sender tries again later.
  // A failure that will not (bad params, 4xx, a refused recipient) is final at once.
  bool retryable = false;
  std::string message;
};

// Thread-compatible: the sender calls Send from its one thread.
class AlertChannel {
 public:
  virtual ~AlertChannel() = default;
  // params: the plugin instance's plugin_instance_params (field -> value). Invalid params are
  // a non-retryable failure whose message names the field.
  virtual SendResult Send(const nlohmann::json& params, const AlertMessage& msg) = 0;
};

}  // namespace dsched::alert
