#include "alert/http_channel.h"

#include <algorithm>
#include <cctype>

#include "alert/curl_easy.h"

namespace dsched::alert {

using nlohmann::json;

namespace {

std::string Escape(const std::string& s) {
  char* e = curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// headerParams / bodyParams: a JSON object, given as text by the UI's form or as an object.
StatusOr<json> ObjectParam(const json& params, const char* field) {
  if (!params.contains(field) || params[field].is_null()) return json::object();
  json v = params[field];
  if (v.is_string()) {
    std::string text = v.get<std::string>();
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
    v = json::parse(text, nullptr, false);
  }
  if (!v.is_object()) return InvalidArgument(std::string(field) + ": expected a JSON object");
  return v;
}

size_t KeepBody(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* s = static_cast<std::string*>(user);
  size_t n = size * nmemb;
  if (s->size() < 4096) s->append(ptr, std::min(n, 4096 - s->size()));
  return n;
}

}  // namespace

StatusOr<HttpRequestSpec> BuildWebhookRequest(const json& params, const AlertMessage& msg) {
  if (!params.is_object()) return InvalidArgument("pluginInstanceParams: not a JSON object");
  HttpRequestSpec r;
  r.url = ParamText(params, "WebHook");
  if (r.url.empty()) return InvalidArgument("WebHook: it is required");
  std::string scheme = Lower(r.url.substr(0, r.url.find("://")));
  if (r.url.find("://") == std::string::npos || (scheme != "http" && scheme != "https"))
    return InvalidArgument("WebHook: '" + r.url + "' is not an http:// or https:// URL");
  if (r.url.find_first_of(" \r\n\t") != std::string::npos)
    return InvalidArgument("WebHook: the URL contains white space");
  r.method = ParamText(params, "requestType");
  if (r.method.empty()) r.method = "POST";
  if (r.method != "POST" && r.method != "PUT" && r.method != "GET")
    return InvalidArgument("requestType: '" + r.method + "' is not one of POST, PUT, GET");
  DSCHED_ASSIGN_OR_RETURN(json headers, ObjectParam(params, "headerParams"));
  DSCHED_ASSIGN_OR_RETURN(json body, ObjectParam(params, "bodyParams"));
  std::string content_field = ParamText(params, "contentField");
  if (content_field.empty()) content_field = "content";
  bool has_type = false;
  for (const auto& [k, v] : headers.items()) {
    std::string value = v.is_string() ? v.get<std::string>() : v.dump();
    if (k.empty() || k.find_first_of(":\r\n ") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos)
      return InvalidArgument("headerParams: '" + k + "' is not a valid header");
    has_type = has_type || Lower(k) == "content-type";
    r.headers.emplace_back(k, value);
  }
  if (r.method == "GET") {
    r.url += (r.url.find('?') == std::string::npos ? "?" : "&") + std::string("title=") +
             Escape(msg.title) + "&" + Escape(content_field) + "=" + Escape(msg.content);
    return r;
  }
  body["title"] = msg.title;
  body[content_field] = msg.content;
  r.body = body.dump();
  if (!has_type) r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  return r;
}

SendResult HttpChannel::Send(const json& params, const AlertMessage& msg) {
  auto spec = BuildWebhookRequest(params, msg);
  if (!spec.ok()) return {false, false, spec.status().message()};
  CurlEasy curl;
  if (!curl.get()) return {false, true, "libcurl: cannot create a handle"};
  CURL* h = curl.get();
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : spec->headers)
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
  std::string reply;
  curl_easy_setopt(h, CURLOPT_URL, spec->url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, KeepBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  if (spec->method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, spec->method.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, spec->body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(spec->body.size()));
  }
  char err[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
  CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(headers);
  std::string where = spec->method + " " + spec->url.substr(0, spec->url.find('?'));
  if (rc != CURLE_OK) {
    return {false, RetryableCurlError(rc),
            where + " failed: " + curl_easy_strerror(rc) + (err[0] ? std::string(": ") + err : "")};
  }
  std::string head = reply.substr(0, 200);
  if (code >= 200 && code < 300) return {true, false, where + ": HTTP " + std::to_string(code)};
  // A server error, throttling or a request timeout may pass; any other answer will not.
  bool retry = code >= 500 || code == 429 || code == 408;
  return {false, retry,
          where + ": HTTP " + std::to_string(code) + (head.empty() ? "" : " " + head)};
}

}  // namespace dsched::alert
