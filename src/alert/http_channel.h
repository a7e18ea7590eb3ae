// The Http alert plugin (webhook): one request per alert to the instance's WebHook URL with its
// requestType (POST, PUT or GET), headerParams (a JSON object of header -> value) and
// bodyParams (a JSON object). POST/PUT send a JSON body: bodyParams with "title" and the
// content (under "content", or the name given by contentField); GET puts title and content in
// the query string instead. The parameter names are those of the plugin's form.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "alert/alert_channel.h"
#include "common/status.h"

namespace dsched::alert {

struct HttpRequestSpec {
  std::string method;  // POST | PUT | GET
  std::string url;     // GET: with the query string
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // POST/PUT
};

// Validates the params and builds the request for msg; InvalidArgument naming the field. Pure.
StatusOr<HttpRequestSpec> BuildWebhookRequest(const nlohmann::json& params,
                                              const AlertMessage& msg);

// Thread-compatible (one transfer at a time).
class HttpChannel final : public AlertChannel {
 public:
  SendResult Send(const nlohmann::json& params, const AlertMessage& msg) override;
};

}  // namespace dsched::alert
