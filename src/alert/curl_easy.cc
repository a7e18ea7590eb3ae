#include "alert/curl_easy.h"

#include <mutex>

namespace dsched::alert {

CurlEasy::CurlEasy() {
  // curl_global_init is not thread-safe: once per process, before the first handle.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  h_ = curl_easy_init();
  // Without a signal handler a DNS timeout cannot interrupt the thread; the sender's thread
  // must never get a SIGALRM meant for someone else either.
  if (h_) curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
}

CurlEasy::~CurlEasy() {
  if (h_) curl_easy_cleanup(h_);
}

bool RetryableCurlError(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

std::string ParamText(const nlohmann::json& params, const char* field) {
  if (!params.is_object() || !params.contains(field)) return "";
  const auto& v = params[field];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_null()) return "";
  return v.dump();
}

}  // namespace dsched::alert
