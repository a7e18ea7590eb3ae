// The Email alert plugin: one mail per alert over SMTP (libcurl), to the instance's receivers
// and receiverCcs, from its sender. smtp:// by default, smtps:// with sslEnable, STARTTLS with
// starttlsEnable, AUTH with enableSmtpAuth (User/Password). The parameter names are those of
// the plugin's form (t_ds_plugin_define "Email").
#pragma once

#include <string>
#include <vector>

#include "alert/alert_channel.h"
#include "common/status.h"

namespace dsched::alert {

struct EmailParams {
  std::vector<std::string> receivers, receiver_ccs;
  std::string server_host;
  int server_port = 25;
  std::string sender;
  bool auth = false;
  std::string user, password;
  bool starttls = false, ssl = false;
  std::string show_type = "table";  // table | text | attachment | tableattachment
};

// Validates the instance's params; InvalidArgument naming the field (e.g. "receivers: ...").
StatusOr<EmailParams> ParseEmailParams(const nlohmann::json& params);

// The whole RFC 5322 message (CRLF lines): headers (Subject encoded when not ASCII) and an HTML
// body in base64 showing the content's rows as a table (showType table and the attachment
// kinds, which get the table inline) or as text lines. Pure.
std::string BuildMail(const EmailParams& p, const AlertMessage& msg);

// Thread-compatible (one transfer at a time).
class EmailChannel final : public AlertChannel {
 public:
  SendResult Send(const nlohmann::json& params, const AlertMessage& msg) override;
};

}  // namespace dsched::alert
