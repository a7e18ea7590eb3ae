// Who is calling: password hashing, login, sessions and access tokens of the REST API
// (ds-rest-api.md §2 "Authentication"). Routes, envelopes and DolphinScheduler status codes
// do not belong here; api_server.cc maps the Status codes below onto them.
#pragma once

#include <cstdint>
#include <string>

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
// `session_timeout_ms` without a request (sliding). Thread-safe: it keeps no state of its own;
// sessions live in the UserStore, so every API process sees the same ones.
class Authenticator {
 public:
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

 private:
  StatusOr<User> EnabledUser(int64_t user_id);

  UserStore& users_;
  const Clock& clock_;
  int64_t session_timeout_ms_;
};

}  // namespace dsched::api
