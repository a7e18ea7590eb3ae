#include "alert/email_channel.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "alert/curl_easy.h"

namespace dsched::alert {

using nlohmann::json;

namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// A bare address local@domain. Characters that would let a value break out of its header or
// SMTP command (CR, LF, <, >, spaces, commas) are refused rather than escaped.
bool PlainAddress(const std::string& a) {
  size_t at = a.find('@');
  if (at == 0 || at == std::string::npos || at + 1 >= a.size() ||
      a.find('@', at + 1) != std::string::npos)
    return false;
  for (unsigned char c : a)
    if (c <= ' ' || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == 0x7f)
      return false;
  return true;
}

StatusOr<std::vector<std::string>> Addresses(const json& params, const char* field, bool required) {
  std::string text = ParamText(params, field);
  std::vector<std::string> out;
  std::string item;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ',' || text[i] == ';') {
      item = Trim(item);
      if (!item.empty()) {
        if (!PlainAddress(item))
          return InvalidArgument(std::string(field) + ": '" + item + "' is not an email address");
        out.push_back(item);
      }
      item.clear();
    } else {
      item += text[i];
    }
  }
  if (required && out.empty()) return InvalidArgument(std::string(field) + ": it is required");
  return out;
}

StatusOr<bool> BoolParam(const json& params, const char* field, bool dflt) {
  std::string v = Trim(ParamText(params, field));
  if (v.empty()) return dflt;
  if (v == "true") return true;
  if (v == "false") return false;
  return InvalidArgument(std::string(field) + ": '" + v + "' is not true or false");
}

std::string Base64(const std::string& in) {
  std::string out(sodium_base64_ENCODED_LEN(in.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(in.data()),
                    in.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

// A header value: ASCII stays as it is, anything else becomes an RFC 2047 encoded word. CR and
// LF never reach the header.
std::string HeaderText(std::string s) {
  for (char& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  for (unsigned char c : s)
    if (c >= 0x80) return "=?UTF-8?B?" + Base64(s) + "?=";
  return s;
}

std::string Html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Cell(const json& v) { return Html(v.is_string() ? v.get<std::string>() : v.dump()); }

// The content's rows: a JSON list of objects (what the master writes), one object, or any other
// text shown as it is.
std::string HtmlBody(const EmailParams& p, const AlertMessage& msg) {
  std::string body = "<html><head><meta charset=\"UTF-8\"><title>" + Html(msg.title) +
                     "</title></head><body><h4>" + Html(msg.title) + "</h4>";
  json content = json::parse(msg.content, nullptr, false);
  if (content.is_object()) content = json::array({content});
  bool rows = content.is_array() && !content.empty();
  for (const auto& r : content) rows = rows && r.is_object();
  if (!rows) return body + "<pre>" + Html(msg.content) + "</pre></body></html>";
  if (p.show_type == "text") {
    body += "<pre>";
    for (const auto& r : content) {
      for (const auto& [k, v] : r.items()) body += Html(k) + ": " + Cell(v) + "\n";
      body += "\n";
    }
    return body + "</pre></body></html>";
  }
  // The columns are the keys of the rows, in first-seen order.
  std::vector<std::string> cols;
  for (const auto& r : content)
    for (const auto& [k, v] : r.items())
      if (std::find(cols.begin(), cols.end(), k) == cols.end()) cols.push_back(k);
  body += "<table border=\"1\" cellpadding=\"4\" style=\"border-collapse:collapse\"><thead><tr>";
  for (const auto& c : cols) body += "<th>" + Html(c) + "</th>";
  body += "</tr></thead><tbody>";
  for (const auto& r : content) {
    body += "<tr>";
    for (const auto& c : cols) body += "<td>" + (r.contains(c) ? Cell(r[c]) : "") + "</td>";
    body += "</tr>";
  }
  return body + "</tbody></table></body></html>";
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string DateHeader(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

struct Upload {
  const std::string* data;
  size_t pos = 0;
};

size_t ReadPayload(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* u = static_cast<Upload*>(user);
  size_t n = std::min(size * nmemb, u->data->size() - u->pos);
  std::memcpy(ptr, u->data->data() + u->pos, n);
  u->pos += n;
  return n;
}

}  // namespace

StatusOr<EmailParams> ParseEmailParams(const json& params) {
  if (!params.is_object()) return InvalidArgument("pluginInstanceParams: not a JSON object");
  EmailParams p;
  DSCHED_ASSIGN_OR_RETURN(p.receivers, Addresses(params, "receivers", true));
  DSCHED_ASSIGN_OR_RETURN(p.receiver_ccs, Addresses(params, "receiverCcs", false));
  p.server_host = Trim(ParamText(params, "serverHost"));
  if (p.server_host.empty()) return InvalidArgument("serverHost: it is required");
  if (p.server_host.find_first_of(" /?#@\r\n") != std::string::npos)
    return InvalidArgument("serverHost: '" + p.server_host + "' is not a host name");
  std::string port = Trim(ParamText(params, "serverPort"));
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535)
      return InvalidArgument("serverPort: '" + port + "' is not a port (1-65535)");
    p.server_port = std::stoi(port);
  }
  std::vector<std::string> sender;
  DSCHED_ASSIGN_OR_RETURN(sender, Addresses(params, "sender", true));
  if (sender.size() != 1) return InvalidArgument("sender: give one address");
  p.sender = sender[0];
  // The form's default for enableSmtpAuth is true; an instance without the field has none.
  DSCHED_ASSIGN_OR_RETURN(p.auth, BoolParam(params, "enableSmtpAuth", false));
  p.user = ParamText(params, "User");
  p.password = ParamText(params, "Password");
  if (p.auth && p.user.empty())
    return InvalidArgument("User: it is required when enableSmtpAuth is true");
  DSCHED_ASSIGN_OR_RETURN(p.starttls, BoolParam(params, "starttlsEnable", false));
  DSCHED_ASSIGN_OR_RETURN(p.ssl, BoolParam(params, "sslEnable", false));
  std::string show = Trim(ParamText(params, "showType"));
  if (!show.empty()) {
    if (show != "table" && show != "text" && show != "attachment" && show != "tableattachment")
      return InvalidArgument("showType: '" + show +
                             "' is not one of table, text, attachment, tableattachment");
    p.show_type = show;
  }
  return p;
}

std::string BuildMail(const EmailParams& p, const AlertMessage& msg) {
  std::string body = Base64(HtmlBody(p, msg));
  std::string m;
  m += "Date: " + DateHeader(msg.now_ms) + "\r\n";
  m += "From: " + p.sender + "\r\n";
  m += "To: " + Joined(p.receivers) + "\r\n";
  if (!p.receiver_ccs.empty()) m += "Cc: " + Joined(p.receiver_ccs) + "\r\n";
  m += "Subject: " + HeaderText(msg.title) + "\r\n";
  size_t at = p.sender.find('@');
  m += "Message-ID: <dsched-alert-" + std::to_string(msg.alert_id) + "-" +
       std::to_string(msg.now_ms) + p.sender.substr(at) + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/html; charset=UTF-8\r\n";
  m += "Content-Transfer-Encoding: base64\r\n\r\n";
  for (size_t i = 0; i < body.size(); i += 76) m += body.substr(i, 76) + "\r\n";
  return m;
}

SendResult EmailChannel::Send(const json& params, const AlertMessage& msg) {
  auto p = ParseEmailParams(params);
  if (!p.ok()) return {false, false, p.status().message()};
  std::string mail = BuildMail(*p, msg);
  CurlEasy curl;
  if (!curl.get()) return {false, true, "libcurl: cannot create a handle"};
  CURL* h = curl.get();
  std::string url = std::string(p->ssl ? "smtps://" : "smtp://") + p->server_host + ":" +
                    std::to_string(p->server_port);
  std::string from = "<" + p->sender + ">";
  curl_slist* rcpt = nullptr;
  for (const auto& r : p->receivers) rcpt = curl_slist_append(rcpt, ("<" + r + ">").c_str());
  for (const auto& r : p->receiver_ccs) rcpt = curl_slist_append(rcpt, ("<" + r + ">").c_str());
  Upload up{&mail};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadPayload);
  curl_easy_setopt(h, CURLOPT_READDATA, &up);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
  if (p->starttls && !p->ssl)
    curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (p->auth) {
    curl_easy_setopt(h, CURLOPT_USERNAME, p->user.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, p->password.c_str());
  }
  char err[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
  CURLcode rc = curl_easy_perform(h);
  long smtp_code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &smtp_code);
  curl_slist_free_all(rcpt);
  if (rc == CURLE_OK) return {true, false, "mail sent to " + Joined(p->receivers) + " via " + url};
  std::string why = std::string(curl_easy_strerror(rc)) + (err[0] ? std::string(": ") + err : "");
  if (smtp_code > 0) why += " (SMTP " + std::to_string(smtp_code) + ")";
  // SMTP 4xx is "try again later" by definition; 5xx is final.
  bool retry = smtp_code >= 400 && smtp_code < 500 ? true
               : smtp_code >= 500                  ? false
                                                   : RetryableCurlError(rc);
  return {false, retry, "mail via " + url + " failed: " + why};
}

}  // namespace dsched::alert
