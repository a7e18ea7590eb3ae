// Internal to src/alert: a libcurl easy handle with the process-wide init done once, and the
// classification of libcurl errors shared by the channels. Not part of the channel seam.
#pragma once

#include <curl/curl.h>

#include <nlohmann/json.hpp>
#include <string>

namespace dsched::alert {

class CurlEasy {
 public:
  CurlEasy();
  ~CurlEasy();
  CurlEasy(const CurlEasy&) = delete;
  CurlEasy& operator=(const CurlEasy&) = delete;
  CURL* get() const { return h_; }

 private:
  CURL* h_;
};

// Whether a transfer that failed with `code` may succeed when tried again later (the server
// was down, slow or unreachable) rather than never (a malformed URL, a refused login, TLS).
bool RetryableCurlError(CURLcode code);

// A plugin parameter as text: the UI sends strings ("true", "25"), a hand-written object may
// hold booleans or numbers. Missing or null is "".
std::string ParamText(const nlohmann::json& params, const char* field);

}  // namespace dsched::alert
