// Who is calling: password hashing, login, sessions and access tokens of the REST API
// (ds-rest-api.md §2 "Authentication"). Routes, envelopes and DolphinScheduler status codes
// do not belong here; api_server.cc maps the Status codes below onto them.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "api/http_server.h"
#include "common/clock.h"
#include "common/status.h"
#include "model/entities.h"
#include "storage/stores.h"

namespace dsched::api {

// argon2id through libsodium's crypto_pwhash_str; the result carries its own salt and cost.
// Internal when libsodium cannot run (no memory).
StatusOr<std::string> HashPassword(const std::string& password);
// False for a wrong password and for a hash this build cannot read.
bool VerifyPassword(const std::string& hash, const std::string& password);

// Logs users in and tells, for each request, which user it acts as. Sessions expire after
// `session_timeout_ms` without a request (sliding). Sessions live in the UserStore, so every
// API process sees the same ones.
//
// The session -> user answers are kept for up to kCacheTtlMs (two store reads per request were
// a sixth of a list page's cost). What this process does takes effect at once: SignOut and
// ForgetUser drop the user's entries, and an entry read while one of them ran is not kept. A
// sign-out, disabling or deletion done by another API process takes effect here within
// kCacheTtlMs. Idle expiry stays exact: an entry carries the session's last-seen time.
// Tokens are not cached. Thread-safe.
class Authenticator {
 public:
  static constexpr int64_t kCacheTtlMs = 1000;
  static constexpr size_t kCacheMaxEntries = 10000;

  Authenticator(UserStore& users, const Clock& clock, int64_t session_timeout_ms);

  struct LoginResult {
    std::string session_id;
    User user;
  };
  // Checks the password and creates a session. Errors: InvalidArgument when the name is
  // empty, Unauthenticated for an unknown user or a wrong password (the same answer for both,
  // so names cannot be probed), PermissionDenied for a disabled user, other codes when the
  // store fails. Each successful call creates a new session.
  StatusOr<LoginResult> Login(const std::string& user_name, const std::string& password,
                              const std::string& ip);

  // The user a request acts as: header `sessionId`, else cookie `sessionId`, else header
  // `token`. Unauthenticated when none of them names a live session or token of an enabled
  // user; Unavailable/Internal when the store fails. Refreshes the session's idle timer.
  StatusOr<User> Authenticate(const HttpRequest& req);

  // Ends every session of the user. Idempotent.
  Status SignOut(const User& user);

  // Call after the user was changed or deleted in the store: their next request reads the
  // store again (and is refused when they are gone or disabled). Idempotent.
  void ForgetUser(int64_t user_id);

 private:
  struct Cached {
    User user;
    int64_t last_seen_ms;  // the session's last_login_time as stored
    int64_t read_at_ms;    // when it was read from the store
  };

  StatusOr<User> EnabledUser(int64_t user_id);
  StatusOr<User> FromSession(const std::string& sid);
  // The cached entry if it is fresh and the session alive; touches it when due.
  std::optional<StatusOr<User>> FromCache(const std::string& sid, int64_t now);

  UserStore& users_;
  const Clock& clock_;
  int64_t session_timeout_ms_;
  int64_t touch_every_ms_;

  std::mutex mu_;
  std::unordered_map<std::string, Cached> sessions_;  // by session id; guarded by mu_
  // Bumped by every ForgetUser/SignOut, after the store write: a reader that began before
  // does not keep what it read. Guarded by mu_.
  uint64_t generation_ = 0;
};

}  // namespace dsched::api
