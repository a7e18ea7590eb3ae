#include "api/auth.h"

#include <sodium.h>

#include <algorithm>
#include <cstdio>

namespace dsched::api {

namespace {

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

// A random (version 4) UUID, the shape DolphinScheduler's session ids have.
std::string NewSessionId() {
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

Status NotLoggedIn() { return Unauthenticated("not logged in"); }

}  // namespace

StatusOr<std::string> HashPassword(const std::string& password) {
  if (!SodiumReady()) return Internal("libsodium failed to initialise");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return Internal("password hashing ran out of memory");
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, const std::string& password) {
  if (!SodiumReady() || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

Authenticator::Authenticator(UserStore& users, const Clock& clock, int64_t session_timeout_ms)
    : users_(users),
      clock_(clock),
      session_timeout_ms_(session_timeout_ms),
      // Touch at most once a minute (or per tenth of the timeout): a write per request would
      // cost more than the request, and expiry stays exact to within that interval.
      touch_every_ms_(std::min<int64_t>(60000, session_timeout_ms / 10)) {}

StatusOr<Authenticator::LoginResult> Authenticator::Login(const std::string& user_name,
                                                          const std::string& password,
                                                          const std::string& ip) {
  if (user_name.empty()) return InvalidArgument("user name is null");
  auto user = users_.GetUserByName(user_name);
  if (!user.ok()) {
    if (user.status().code() != StatusCode::kNotFound) return user.status();
    // Spend the time a verification costs, so the answer time does not reveal the name.
    static const std::string kDummy = [] {
      auto h = HashPassword("dsched-timing-equaliser");
      return h.ok() ? *h : std::string();
    }();
    VerifyPassword(kDummy, password);
    return Unauthenticated("user name or password error");
  }
  if (!VerifyPassword(user->password_hash, password))
    return Unauthenticated("user name or password error");
  if (user->state == 0) return PermissionDenied("The current user is disabled");
  Session s;
  s.id = NewSessionId();
  s.user_id = user->id;
  s.last_login_time = clock_.NowMs();
  s.ip = ip;
  DSCHED_RETURN_IF_ERROR(users_.CreateSession(s));
  return LoginResult{s.id, *std::move(user)};
}

StatusOr<User> Authenticator::EnabledUser(int64_t user_id) {
  auto user = users_.GetUser(user_id);
  if (!user.ok())
    return user.status().code() == StatusCode::kNotFound ? NotLoggedIn() : user.status();
  if (user->state == 0) return NotLoggedIn();
  return user;
}

std::optional<StatusOr<User>> Authenticator::FromCache(const std::string& sid, int64_t now) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return std::nullopt;
  const Cached& c = it->second;
  // Stale, expired, or due for a touch: the store decides (and the entry is read again).
  if (now < c.read_at_ms || now - c.read_at_ms >= kCacheTtlMs ||
      now - c.last_seen_ms >= touch_every_ms_ || now - c.last_seen_ms > session_timeout_ms_) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return StatusOr<User>(c.user);
}

// NotFound when no live session has this id (the caller then tries a token).
StatusOr<User> Authenticator::FromSession(const std::string& sid) {
  uint64_t generation;
  {
    std::lock_guard<std::mutex> l(mu_);
    generation = generation_;
  }
  DSCHED_ASSIGN_OR_RETURN(Session s, users_.GetSession(sid));
  int64_t now = clock_.NowMs();
  int64_t idle = now - s.last_login_time;
  if (idle > session_timeout_ms_) return NotFound("session expired");
  int64_t last_seen = s.last_login_time;
  if (idle >= touch_every_ms_) {
    Status t = users_.TouchSession(sid, now);
    if (!t.ok() && t.code() != StatusCode::kNotFound) return t;
    last_seen = now;
  }
  // Unauthenticated (not NotFound) when the user is gone or disabled: no token is tried then.
  auto user = EnabledUser(s.user_id);
  if (!user.ok()) return user.status();
  std::lock_guard<std::mutex> l(mu_);
  if (generation == generation_) {
    if (sessions_.size() >= kCacheMaxEntries) sessions_.clear();
    sessions_[sid] = Cached{*user, last_seen, now};
  }
  return user;
}

StatusOr<User> Authenticator::Authenticate(const HttpRequest& req) {
  std::string sid = req.Header("sessionid");
  if (sid.empty()) sid = req.Cookie("sessionId");
  if (!sid.empty()) {
    if (auto cached = FromCache(sid, clock_.NowMs())) return *std::move(cached);
    auto user = FromSession(sid);
    if (user.ok() || user.status().code() != StatusCode::kNotFound) return user;
  }
  std::string token = req.Header("token");
  if (!token.empty()) {
    auto user = users_.GetUserByToken(token, clock_.NowMs());
    if (!user.ok())
      return user.status().code() == StatusCode::kNotFound ? NotLoggedIn() : user.status();
    if (user->state == 0) return NotLoggedIn();
    return user;
  }
  return NotLoggedIn();
}

Status Authenticator::SignOut(const User& user) {
  Status s = users_.DeleteSessionsOfUser(user.id);
  // Also when the delete failed: it may have happened, and forgetting costs one read.
  ForgetUser(user.id);
  return s;
}

void Authenticator::ForgetUser(int64_t user_id) {
  std::lock_guard<std::mutex> l(mu_);
  ++generation_;
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = it->second.user.id == user_id ? sessions_.erase(it) : std::next(it);
}

}  // namespace dsched::api
