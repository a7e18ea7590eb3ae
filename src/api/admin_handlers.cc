// Handlers of DolphinScheduler's security and monitor pages (journeys J7, J8 of ds-rest-api.md):
// users, tenants, queues, worker groups, alert groups, alert plugin instances, UI plugins,
// access tokens, environments, monitor. Who may do what follows DolphinScheduler: the pages
// that change users, tenants, queues, worker groups, alert groups and alert plugins are for
// admins only (30001 otherwise); a user may read their own account and manage their own access
// tokens. Project permissions are not decided here (ProjectForUser, project_handlers.cc).

#include <sodium.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>

#include "api/auth.h"
#include "api/handlers.h"
#include "common/host_stats.h"
#include "common/time_format.h"
#include "model/json_codec.h"

namespace dsched::api {

using nlohmann::json;

namespace {

// DolphinScheduler status codes of these pages (api/enums/Status.java).
constexpr DsStatus kUserNameExist{10003};
constexpr DsStatus kOsTenantCodeExist{10009};
constexpr DsStatus kUserNotExist{10010};
constexpr DsStatus kAlertGroupNotExist{10011};
constexpr DsStatus kAlertGroupExist{10012};
constexpr DsStatus kTenantNotExist{10017};
constexpr DsStatus kQueueNotExist{10128};
constexpr DsStatus kQueueValueExist{10129};
constexpr DsStatus kQueueNameExist{10130};
constexpr DsStatus kNeedNotUpdateQueue{10132};
constexpr DsStatus kNameExist{10135};
constexpr DsStatus kDeleteTenantFailUsers{10144};
constexpr DsStatus kCheckOsTenantCodeError{10164};
constexpr DsStatus kDeleteWorkerGroupNotExist{10174};
constexpr DsStatus kWorkerAddressInvalid{10177};
constexpr DsStatus kTransformProjectOwnership{10179};
constexpr DsStatus kQueryDatabaseStateError{70001};
constexpr DsStatus kAccessTokenNotExist{70015};
constexpr DsStatus kQueryPluginDetailNull{110004};
constexpr DsStatus kGetAlertPluginInstanceError{110007};
constexpr DsStatus kPluginInstanceAlreadyExist{110010};
constexpr DsStatus kDeleteAlertPluginInstanceInUse{110012};
constexpr DsStatus kWorkerGroupNotExist{1402001};

constexpr int64_t kAll = std::numeric_limits<int32_t>::max();
constexpr size_t kMaxName = 100;
constexpr size_t kMaxDescription = 255;
constexpr size_t kMaxParams = 64 * 1024;
constexpr int64_t kDefaultTenantId = -1;
constexpr int64_t kDefaultAlertGroupId = 1;

bool IsAdmin(const User& u) { return u.user_type == UserType::kAdmin; }
AdminStore& Admin(const Call& c) { return *c.deps.admin; }

bool IsNotFound(const Status& s) { return s.code() == StatusCode::kNotFound; }
bool IsTaken(const Status& s) { return s.code() == StatusCode::kAlreadyExists; }

// A required text parameter of at most max_len characters.
ApiOr<std::string> Text(const HttpRequest& req, const std::string& name, size_t max_len) {
  auto v = req.Param(name);
  if (!v) return BadParam(name, "it is required");
  if (v->size() > max_len)
    return BadParam(name, "longer than " + std::to_string(max_len) + " characters");
  return *v;
}

// An optional one ("" when absent).
ApiOr<std::string> OptText(const HttpRequest& req, const std::string& name, size_t max_len) {
  std::string v = req.Param(name).value_or("");
  if (v.size() > max_len)
    return BadParam(name, "longer than " + std::to_string(max_len) + " characters");
  return v;
}

// Comma-separated integer ids (empty items skipped).
ApiOr<std::vector<int64_t>> IdList(const HttpRequest& req, const std::string& name, bool required) {
  std::vector<int64_t> out;
  auto v = req.Param(name);
  if (!v) {
    if (required) return BadParam(name, "it is required");
    return out;
  }
  std::stringstream in(*v);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item.empty()) continue;
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(item.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return BadParam(name, "'" + item + "' is not an id");
    out.push_back(n);
  }
  return out;
}

ApiError UserNotExist(const std::string& who) {
  return {kUserNotExist, "user " + who + " not exists"};
}

// The user `id`, or 10010.
ApiOr<User> ExistingUser(const Call& c, int64_t id) {
  auto u = c.deps.users->GetUser(id);
  if (!u.ok()) {
    if (IsNotFound(u.status())) return UserNotExist(std::to_string(id));
    return FromStatus(u.status());
  }
  return *std::move(u);
}

// ---------------------------------------------------------------- users

// The built-in tenant every user starts with (DolphinScheduler 3.2's tenant -1).
Tenant DefaultTenant() {
  Tenant t;
  t.id = kDefaultTenantId;
  t.tenant_code = "default";
  t.description = "default tenant";
  t.queue_id = 1;
  t.queue_name = "default";
  t.queue = "default";
  return t;
}

ApiOr<Tenant> TenantById(const Call& c, int64_t id) {
  if (id == kDefaultTenantId) return DefaultTenant();
  auto t = Admin(c).GetTenant(id);
  if (!t.ok()) {
    if (IsNotFound(t.status())) return ApiError{kTenantNotExist, "tenant not exists"};
    return FromStatus(t.status());
  }
  return *std::move(t);
}

// A user as the UI shows it: with its tenant's code and its queue's name.
json UserJson(const Call& c, const User& u) {
  auto t = TenantById(c, u.tenant_id);
  std::string tenant_code = t.ok() ? t.value().tenant_code : "";
  // The user's own queue wins over the tenant's, as tasks use it.
  std::string queue = !u.queue.empty() ? u.queue : (t.ok() ? t.value().queue_name : "");
  return UserToJson(u, tenant_code, queue);
}

const std::regex& UserNameRe() {
  static const std::regex re("^[a-zA-Z0-9._-]{3,39}$");
  return re;
}
const std::regex& EmailRe() {
  static const std::regex re(
      "^([a-z0-9A-Z]+[_|\\-|.]?)+[a-z0-9A-Z]@([a-z0-9A-Z]+(-[a-z0-9A-Z]+)?\\.)+[a-zA-Z]{2,}$");
  return re;
}

// The checks DolphinScheduler makes of a user's fields, each error naming its field.
ApiOr<bool> CheckUserFields(const std::string& name, const std::optional<std::string>& password,
                            const std::string& email, const std::string& phone, int64_t state) {
  if (!std::regex_match(name, UserNameRe()))
    return BadParam("userName", "must be 3 to 39 letters, digits, '.', '_' or '-'");
  if (password && (password->size() < 2 || password->size() > 20))
    return BadParam("userPassword", "must be 2 to 20 characters long");
  if (email.size() <= 5 || email.size() > 40 || !std::regex_match(email, EmailRe()))
    return BadParam("email", "'" + email + "' is not an email address");
  if (!phone.empty() && (phone.size() != 11 || !std::all_of(phone.begin(), phone.end(), ::isdigit)))
    return BadParam("phone", "must be 11 digits");
  if (state != 0 && state != 1) return BadParam("state", "must be 0 (disabled) or 1 (enabled)");
  return true;
}

HttpResponse CreateUser(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  const HttpRequest& req = c.req;
  DSCHED_API_TRY(std::string name, Text(req, "userName", 39));
  DSCHED_API_TRY(std::string password, Text(req, "userPassword", 20));
  DSCHED_API_TRY(int64_t tenant_id, RequiredIntParam(req, "tenantId"));
  DSCHED_API_TRY(std::string email, Text(req, "email", 40));
  DSCHED_API_TRY(std::string phone, OptText(req, "phone", 11));
  DSCHED_API_TRY(std::string queue, OptText(req, "queue", kMaxName));
  DSCHED_API_TRY(int64_t state, IntParam(req, "state", 1));
  DSCHED_API_TRY(bool ok, CheckUserFields(name, password, email, phone, state));
  (void)ok;
  DSCHED_API_TRY(Tenant tenant, TenantById(c, tenant_id));
  (void)tenant;
  auto existing = c.deps.users->GetUserByName(name);
  if (existing.ok()) return Fail(kUserNameExist, "user name already exists");
  if (!IsNotFound(existing.status())) return Fail(FromStatus(existing.status()));
  User u;
  u.user_name = name;
  DSCHED_API_TRY(u.password_hash, HashPassword(password));
  u.email = email;
  u.phone = phone;
  u.queue = queue;
  u.tenant_id = tenant_id;
  u.state = static_cast<int>(state);
  u.user_type = UserType::kGeneral;
  auto created = c.deps.users->CreateUser(u);
  if (!created.ok()) {
    if (IsTaken(created.status())) return Fail(kUserNameExist, "user name already exists");
    return Fail(FromStatus(created.status()));
  }
  return Ok(UserJson(c, *created));
}

// Admins update anyone; a user updates their own account but not its state or type.
HttpResponse UpdateUser(const Call& c) {
  const HttpRequest& req = c.req;
  DSCHED_API_TRY(int64_t id, RequiredIntParam(req, "id"));
  if (!IsAdmin(c.user) && id != c.user.id) return Fail(NoOperationPerm());
  DSCHED_API_TRY(User u, ExistingUser(c, id));
  DSCHED_API_TRY(std::string name, Text(req, "userName", 39));
  auto password = req.Param("userPassword");
  if (password && password->size() > 20)
    return Fail(BadParam("userPassword", "must be 2 to 20 characters long"));
  DSCHED_API_TRY(std::string email, Text(req, "email", 40));
  DSCHED_API_TRY(std::string phone, OptText(req, "phone", 11));
  DSCHED_API_TRY(std::string queue, OptText(req, "queue", kMaxName));
  DSCHED_API_TRY(int64_t tenant_id, IntParam(req, "tenantId", u.tenant_id));
  DSCHED_API_TRY(int64_t state, IntParam(req, "state", u.state));
  DSCHED_API_TRY(std::string time_zone, OptText(req, "timeZone", 64));
  DSCHED_API_TRY(bool ok, CheckUserFields(name, password, email, phone, state));
  (void)ok;
  if (!IsAdmin(c.user) && state != u.state) return Fail(NoOperationPerm());
  DSCHED_API_TRY(Tenant tenant, TenantById(c, tenant_id));
  (void)tenant;
  if (name != u.user_name) {
    auto other = c.deps.users->GetUserByName(name);
    if (other.ok()) return Fail(kUserNameExist, "user name already exists");
    if (!IsNotFound(other.status())) return Fail(FromStatus(other.status()));
  }
  u.user_name = name;
  if (password) {
    DSCHED_API_TRY(u.password_hash, HashPassword(*password));
  }
  u.email = email;
  u.phone = phone;
  u.queue = queue;
  u.tenant_id = tenant_id;
  u.state = static_cast<int>(state);
  if (!time_zone.empty()) u.time_zone = time_zone;
  auto updated = Admin(c).UpdateUser(u);
  // Disabled, renamed, a new password: the next request of theirs reads the user again.
  if (c.auth) c.auth->ForgetUser(id);
  if (!updated.ok()) {
    if (IsTaken(updated.status())) return Fail(kUserNameExist, "user name already exists");
    if (IsNotFound(updated.status())) return Fail(UserNotExist(std::to_string(id)));
    return Fail(FromStatus(updated.status()));
  }
  return Ok(UserJson(c, *updated));
}

HttpResponse DeleteUser(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(int64_t id, RequiredIntParam(c.req, "id"));
  if (id == c.user.id) return Fail(BadParam("id", "a user cannot delete their own account"));
  DSCHED_API_TRY(User u, ExistingUser(c, id));
  DSCHED_API_TRY(auto projects, Admin(c).ListProjectsOfUser(id, "", Page{0, kAll}));
  std::string owned;
  for (const auto& p : projects.rows)
    if (p.user_id == id) owned += (owned.empty() ? "" : ",") + p.name;
  if (!owned.empty())
    return Fail(kTransformProjectOwnership, "Please transform project ownership [" + owned + "]");
  Status s = Admin(c).DeleteUser(u.id);
  if (c.auth) c.auth->ForgetUser(u.id);  // their sessions are gone: refused from now on
  if (!s.ok()) return Fail(FromStatus(s));
  return Ok(nullptr);
}

HttpResponse ListUsersPaged(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  DSCHED_API_TRY(auto rows, Admin(c).ListUsers(c.req.Param("searchVal").value_or(""),
                                               Page{page.offset(), page.page_size}));
  json list = json::array();
  for (const auto& u : rows.rows) list.push_back(UserJson(c, u));
  return Ok(PageInfo(std::move(list), rows.total, page));
}

// /users/list: the general users (whom grants are for); /users/list-all: everyone.
HttpResponse ListUsers(const Call& c, bool general_only) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(auto rows, Admin(c).ListUsers("", Page{0, kAll}));
  json list = json::array();
  for (const auto& u : rows.rows)
    if (!general_only || u.user_type == UserType::kGeneral) list.push_back(UserJson(c, u));
  return Ok(std::move(list));
}

HttpResponse VerifyUserName(const Call& c) {
  DSCHED_API_TRY(std::string name, Text(c.req, "userName", 255));
  auto u = c.deps.users->GetUserByName(name);
  if (u.ok()) return Fail(kUserNameExist, "user name already exists");
  if (!IsNotFound(u.status())) return Fail(FromStatus(u.status()));
  return Ok(nullptr);
}

HttpResponse GetUserInfo(const Call& c) { return Ok(UserJson(c, c.user)); }

// The project with this id, or 10018.
ApiOr<Project> ProjectById(const Call& c, int64_t id) {
  auto all = c.deps.defs->ListProjects("", Page{0, kAll});
  if (!all.ok()) return FromStatus(all.status());
  for (auto& p : all->rows)
    if (p.id == id) return std::move(p);
  return ApiError{DsStatus::kProjectNotFound, "project " + std::to_string(id) + " not found"};
}

ApiOr<Project> ProjectByCode(const Call& c, int64_t code) {
  auto p = c.deps.defs->GetProject(code);
  if (!p.ok()) {
    if (IsNotFound(p.status()))
      return ApiError{DsStatus::kProjectNotFound, "project " + std::to_string(code) + " not found"};
    return FromStatus(p.status());
  }
  return *std::move(p);
}

// grant-project (perm 7), grant-project-with-read-perm (4) and revoke-project-by-id (0) of
// userId on the projects projectIds. Every id is checked before anything is written.
HttpResponse GrantProjectsById(const Call& c, int perm) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(int64_t user_id, RequiredIntParam(c.req, "userId"));
  DSCHED_API_TRY(std::vector<int64_t> ids, IdList(c.req, "projectIds", perm == 0));
  DSCHED_API_TRY(User u, ExistingUser(c, user_id));
  std::vector<Project> projects;
  for (int64_t id : ids) {
    DSCHED_API_TRY(Project p, ProjectById(c, id));
    projects.push_back(std::move(p));
  }
  for (const auto& p : projects) {
    Status s =
        perm == 0 ? Admin(c).RevokeProject(u.id, p.id) : Admin(c).GrantProject(u.id, p.id, perm);
    if (!s.ok()) return Fail(FromStatus(s));
  }
  return Ok(nullptr);
}

// grant-project-by-code (perm 7) and revoke-project (0) of userId on projectCode.
HttpResponse GrantProjectByCode(const Call& c, int perm) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(int64_t user_id, RequiredIntParam(c.req, "userId"));
  DSCHED_API_TRY(int64_t code, RequiredIntParam(c.req, "projectCode"));
  DSCHED_API_TRY(User u, ExistingUser(c, user_id));
  DSCHED_API_TRY(Project p, ProjectByCode(c, code));
  Status s =
      perm == 0 ? Admin(c).RevokeProject(u.id, p.id) : Admin(c).GrantProject(u.id, p.id, perm);
  if (!s.ok()) return Fail(FromStatus(s));
  return Ok(nullptr);
}

// /users/authed-user and /users/unauth-user (alertgroupId): alert groups have no members in
// DolphinScheduler 3.2 (they name plugin instances), so no user is authorised and every general
// user is not.
HttpResponse AlertGroupUsers(const Call& c, bool authed) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(int64_t group_id, RequiredIntParam(c.req, "alertgroupId"));
  (void)group_id;
  if (authed) return Ok(json::array());
  return ListUsers(c, true);
}

// ---------------------------------------------------------------- tenants

const std::regex& TenantCodeRe() {
  // An OS user name (tasks run as it).
  static const std::regex re("^[a-zA-Z_][a-zA-Z0-9_.-]{0,31}$");
  return re;
}

ApiOr<Queue> QueueById(const Call& c, int64_t id) {
  auto q = Admin(c).GetQueue(id);
  if (!q.ok()) {
    if (IsNotFound(q.status()))
      return ApiError{kQueueNotExist, "queue " + std::to_string(id) + " not exists"};
    return FromStatus(q.status());
  }
  return *std::move(q);
}

// The fields of a tenant create/update, checked.
ApiOr<Tenant> TenantFromRequest(const Call& c) {
  const HttpRequest& req = c.req;
  Tenant t;
  auto code = Text(req, "tenantCode", 32);
  if (!code.ok()) return code.error();
  if (!std::regex_match(code.value(), TenantCodeRe()))
    return ApiError{kCheckOsTenantCodeError,
                    "tenantCode: '" + code.value() +
                        "' is not an OS user name (a letter or '_', then up to 31 letters, "
                        "digits, '_', '.' or '-')"};
  t.tenant_code = code.value();
  auto queue_id = RequiredIntParam(req, "queueId");
  if (!queue_id.ok()) return queue_id.error();
  auto q = QueueById(c, queue_id.value());
  if (!q.ok()) return q.error();
  t.queue_id = q.value().id;
  auto d = OptText(req, "description", kMaxDescription);
  if (!d.ok()) return d.error();
  t.description = d.value();
  return t;
}

ApiError TenantCodeExists(const std::string& code) {
  return {kOsTenantCodeExist, "os tenant code " + code + " already exists"};
}

HttpResponse CreateTenant(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(Tenant t, TenantFromRequest(c));
  if (t.tenant_code == DefaultTenant().tenant_code) return Fail(TenantCodeExists(t.tenant_code));
  auto created = Admin(c).CreateTenant(t);
  if (!created.ok()) {
    if (IsTaken(created.status())) return Fail(TenantCodeExists(t.tenant_code));
    return Fail(FromStatus(created.status()));
  }
  return Ok(TenantToJson(*created));
}

HttpResponse UpdateTenant(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  if (id == kDefaultTenantId) return Fail(BadParam("id", "the default tenant cannot be changed"));
  DSCHED_API_TRY(Tenant old, TenantById(c, id));
  DSCHED_API_TRY(Tenant t, TenantFromRequest(c));
  if (t.tenant_code == DefaultTenant().tenant_code) return Fail(TenantCodeExists(t.tenant_code));
  t.id = old.id;
  auto updated = Admin(c).UpdateTenant(t);
  if (!updated.ok()) {
    if (IsTaken(updated.status())) return Fail(TenantCodeExists(t.tenant_code));
    if (IsNotFound(updated.status())) return Fail(kTenantNotExist, "tenant not exists");
    return Fail(FromStatus(updated.status()));
  }
  return Ok(true);
}

HttpResponse DeleteTenant(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  if (id == kDefaultTenantId) return Fail(BadParam("id", "the default tenant cannot be deleted"));
  DSCHED_API_TRY(Tenant t, TenantById(c, id));
  DSCHED_API_TRY(int64_t users, Admin(c).CountUsersOfTenant(t.id));
  if (users > 0)
    return Fail(kDeleteTenantFailUsers, "delete tenant by id fail, for there are " +
                                            std::to_string(users) + " users using it");
  Status s = Admin(c).DeleteTenant(t.id);
  if (!s.ok()) return Fail(FromStatus(s));
  return Ok(true);
}

HttpResponse ListTenantsPaged(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  DSCHED_API_TRY(auto rows, Admin(c).ListTenants(c.req.Param("searchVal").value_or(""),
                                                 Page{page.offset(), page.page_size}));
  json list = json::array();
  for (const auto& t : rows.rows) list.push_back(TenantToJson(t));
  return Ok(PageInfo(std::move(list), rows.total, page));
}

// Every tenant for an admin; the default one and their own for a general user (the start
// dialog lists them).
HttpResponse ListTenants(const Call& c) {
  json list = json::array({TenantToJson(DefaultTenant())});
  if (IsAdmin(c.user)) {
    DSCHED_API_TRY(auto rows, Admin(c).ListTenants("", Page{0, kAll}));
    for (const auto& t : rows.rows) list.push_back(TenantToJson(t));
  } else if (c.user.tenant_id != kDefaultTenantId) {
    auto t = TenantById(c, c.user.tenant_id);
    if (t.ok()) list.push_back(TenantToJson(t.value()));
  }
  return Ok(std::move(list));
}

HttpResponse VerifyTenantCode(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(std::string code, Text(c.req, "tenantCode", 255));
  if (code == DefaultTenant().tenant_code) return Fail(TenantCodeExists(code));
  auto t = Admin(c).GetTenantByCode(code);
  if (t.ok()) return Fail(TenantCodeExists(code));
  if (!IsNotFound(t.status())) return Fail(FromStatus(t.status()));
  return Ok(true);
}

// ---------------------------------------------------------------- queues

ApiOr<Queue> QueueFromRequest(const Call& c) {
  Queue q;
  auto queue = Text(c.req, "queue", kMaxName);
  if (!queue.ok()) return queue.error();
  auto name = Text(c.req, "queueName", kMaxName);
  if (!name.ok()) return name.error();
  q.queue = queue.value();
  q.queue_name = name.value();
  return q;
}

// 10130 / 10129 when another queue (not `self`) has q's name or value.
ApiOr<bool> CheckQueueFree(const Call& c, const Queue& q, int64_t self) {
  auto all = Admin(c).ListQueues("", Page{0, kAll});
  if (!all.ok()) return FromStatus(all.status());
  for (const auto& o : all->rows) {
    if (o.id == self) continue;
    if (o.queue_name == q.queue_name)
      return ApiError{kQueueNameExist, "queue name " + q.queue_name + " already exists"};
    if (o.queue == q.queue)
      return ApiError{kQueueValueExist, "queue value " + q.queue + " already exists"};
  }
  return true;
}

HttpResponse CreateQueue(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(Queue q, QueueFromRequest(c));
  DSCHED_API_TRY(bool free, CheckQueueFree(c, q, 0));
  (void)free;
  auto created = Admin(c).CreateQueue(q);
  if (!created.ok()) {
    if (IsTaken(created.status()))
      return Fail(kQueueNameExist, "queue name " + q.queue_name + " already exists");
    return Fail(FromStatus(created.status()));
  }
  return Ok(QueueToJson(*created));
}

HttpResponse UpdateQueue(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  DSCHED_API_TRY(Queue old, QueueById(c, id));
  DSCHED_API_TRY(Queue q, QueueFromRequest(c));
  if (q.queue == old.queue && q.queue_name == old.queue_name)
    return Fail(kNeedNotUpdateQueue, "no content changes, no updates are required");
  DSCHED_API_TRY(bool free, CheckQueueFree(c, q, id));
  (void)free;
  q.id = id;
  auto updated = Admin(c).UpdateQueue(q);
  if (!updated.ok()) {
    if (IsTaken(updated.status()))
      return Fail(kQueueNameExist, "queue name " + q.queue_name + " already exists");
    return Fail(FromStatus(updated.status()));
  }
  return Ok(QueueToJson(*updated));
}

HttpResponse ListQueuesPaged(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  DSCHED_API_TRY(auto rows, Admin(c).ListQueues(c.req.Param("searchVal").value_or(""),
                                                Page{page.offset(), page.page_size}));
  json list = json::array();
  for (const auto& q : rows.rows) list.push_back(QueueToJson(q));
  return Ok(PageInfo(std::move(list), rows.total, page));
}

HttpResponse ListQueues(const Call& c) {
  DSCHED_API_TRY(auto rows, Admin(c).ListQueues("", Page{0, kAll}));
  json list = json::array();
  // Oldest first: the tenant dialog pre-selects the first one, which should be "default".
  for (auto it = rows.rows.rbegin(); it != rows.rows.rend(); ++it) list.push_back(QueueToJson(*it));
  return Ok(std::move(list));
}

HttpResponse VerifyQueue(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(Queue q, QueueFromRequest(c));
  DSCHED_API_TRY(bool free, CheckQueueFree(c, q, 0));
  return Ok(free);
}

// ---------------------------------------------------------------- worker groups

constexpr const char* kDefaultWorkerGroup = "default";

std::vector<std::string> WorkerAddresses(const Call& c) {
  std::vector<std::string> out;
  for (const auto& s : c.deps.list_servers ? c.deps.list_servers() : c.deps.servers)
    if (s.node_type == "WORKER") out.push_back(s.host + ":" + std::to_string(s.port));
  return out;
}

json DefaultWorkerGroupJson(const Call& c) {
  std::string addrs;
  for (const auto& a : WorkerAddresses(c)) addrs += (addrs.empty() ? "" : ",") + a;
  return {{"id", nullptr},          {"name", kDefaultWorkerGroup}, {"addrList", addrs},
          {"description", nullptr}, {"otherParamsJson", nullptr},  {"systemDefault", true},
          {"createTime", nullptr},  {"updateTime", nullptr}};
}

HttpResponse SaveWorkerGroup(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  const HttpRequest& req = c.req;
  DSCHED_API_TRY(int64_t id, IntParam(req, "id", 0));
  WorkerGroup g;
  DSCHED_API_TRY(g.name, Text(req, "name", kMaxName));
  DSCHED_API_TRY(g.addr_list, Text(req, "addrList", kMaxParams));
  DSCHED_API_TRY(g.description, OptText(req, "description", kMaxDescription));
  DSCHED_API_TRY(g.other_params_json, OptText(req, "otherParamsJson", kMaxParams));
  if (g.name == kDefaultWorkerGroup) return Fail(kNameExist, "name default already exists");
  // Every address must be a live worker's, as DolphinScheduler checks against its registry.
  auto live = WorkerAddresses(c);
  std::string cleaned;
  std::stringstream in(g.addr_list);
  std::string addr;
  while (std::getline(in, addr, ',')) {
    addr.erase(0, addr.find_first_not_of(' '));
    addr.erase(addr.find_last_not_of(' ') + 1);
    if (addr.empty()) continue;
    if (std::find(live.begin(), live.end(), addr) == live.end())
      return Fail(kWorkerAddressInvalid, "worker address " + addr + " invalid");
    cleaned += (cleaned.empty() ? "" : ",") + addr;
  }
  if (cleaned.empty()) return Fail(BadParam("addrList", "names no worker address"));
  g.addr_list = cleaned;
  // An id naming no group creates one, as DolphinScheduler does (its api-test saves id=1 on a
  // fresh server).
  bool update = false;
  if (id > 0) {
    auto existing = Admin(c).GetWorkerGroup(id);
    if (!existing.ok() && !IsNotFound(existing.status()))
      return Fail(FromStatus(existing.status()));
    update = existing.ok();
  }
  StatusOr<WorkerGroup> saved = g;
  if (update) {
    g.id = id;
    saved = Admin(c).UpdateWorkerGroup(g);
  } else {
    saved = Admin(c).CreateWorkerGroup(g);
  }
  if (!saved.ok()) {
    if (IsTaken(saved.status())) return Fail(kNameExist, "name " + g.name + " already exists");
    if (IsNotFound(saved.status()))
      return Fail(kWorkerGroupNotExist, "The Worker group [" + std::to_string(id) + "] not exists");
    return Fail(FromStatus(saved.status()));
  }
  return Ok(WorkerGroupToJson(*saved));
}

HttpResponse DeleteWorkerGroup(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  auto g = Admin(c).GetWorkerGroup(id);
  if (!g.ok()) {
    if (IsNotFound(g.status()))
      return Fail(kDeleteWorkerGroupNotExist, "delete worker group not exist");
    return Fail(FromStatus(g.status()));
  }
  Status s = Admin(c).DeleteWorkerGroup(id);
  if (!s.ok()) return Fail(FromStatus(s));
  return Ok(nullptr);
}

// The default group (every live worker) and the defined ones; paged here, as the default group
// has no row.
HttpResponse ListWorkerGroupsPaged(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  std::string search = c.req.Param("searchVal").value_or("");
  DSCHED_API_TRY(auto rows, Admin(c).ListWorkerGroups(search, Page{0, kAll}));
  json all = json::array();
  std::string lower = search;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (std::string(kDefaultWorkerGroup).find(lower) != std::string::npos)
    all.push_back(DefaultWorkerGroupJson(c));
  for (const auto& g : rows.rows) all.push_back(WorkerGroupToJson(g));
  json list = json::array();
  for (int64_t i = page.offset();
       i < static_cast<int64_t>(all.size()) && i < page.offset() + page.page_size; ++i)
    list.push_back(all[i]);
  return Ok(PageInfo(std::move(list), static_cast<int64_t>(all.size()), page));
}

HttpResponse ListWorkerGroupNames(const Call& c) {
  DSCHED_API_TRY(auto rows, Admin(c).ListWorkerGroups("", Page{0, kAll}));
  json names = json::array();
  for (const auto& g : rows.rows) names.push_back(g.name);
  names.push_back(kDefaultWorkerGroup);
  return Ok(std::move(names));
}

HttpResponse WorkerAddressList(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  return Ok(WorkerAddresses(c));
}

// ---------------------------------------------------------------- alert groups

ApiError AlertGroupNotFound() { return {kAlertGroupNotExist, "alarm group not found"}; }

ApiOr<AlertGroup> AlertGroupFromRequest(const Call& c) {
  AlertGroup g;
  auto name = Text(c.req, "groupName", kMaxName);
  if (!name.ok()) return name.error();
  g.group_name = name.value();
  auto d = OptText(c.req, "description", kMaxDescription);
  if (!d.ok()) return d.error();
  g.description = d.value();
  auto ids = IdList(c.req, "alertInstanceIds", false);
  if (!ids.ok()) return ids.error();
  for (int64_t id : ids.value()) {
    auto i = Admin(c).GetAlertPluginInstance(id);
    if (!i.ok()) {
      if (IsNotFound(i.status()))
        return BadParam("alertInstanceIds",
                        "no alert plugin instance has id " + std::to_string(id));
      return FromStatus(i.status());
    }
    g.alert_instance_ids += (g.alert_instance_ids.empty() ? "" : ",") + std::to_string(id);
  }
  return g;
}

ApiOr<AlertGroup> AlertGroupById(const Call& c, int64_t id) {
  auto g = Admin(c).GetAlertGroup(id);
  if (!g.ok()) {
    if (IsNotFound(g.status())) return AlertGroupNotFound();
    return FromStatus(g.status());
  }
  return *std::move(g);
}

HttpResponse CreateAlertGroup(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(AlertGroup g, AlertGroupFromRequest(c));
  g.create_user_id = c.user.id;
  auto created = Admin(c).CreateAlertGroup(g);
  if (!created.ok()) {
    if (IsTaken(created.status())) return Fail(kAlertGroupExist, "alarm group already exists");
    return Fail(FromStatus(created.status()));
  }
  return Ok(AlertGroupToJson(*created));
}

HttpResponse UpdateAlertGroup(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  DSCHED_API_TRY(AlertGroup old, AlertGroupById(c, id));
  DSCHED_API_TRY(AlertGroup g, AlertGroupFromRequest(c));
  g.id = old.id;
  auto updated = Admin(c).UpdateAlertGroup(g);
  if (!updated.ok()) {
    if (IsTaken(updated.status())) return Fail(kAlertGroupExist, "alarm group already exists");
    if (IsNotFound(updated.status())) return Fail(AlertGroupNotFound());
    return Fail(FromStatus(updated.status()));
  }
  return Ok(AlertGroupToJson(*updated));
}

HttpResponse DeleteAlertGroup(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  if (id == kDefaultAlertGroupId)
    return Fail(BadParam("id", "the default alert group cannot be deleted"));
  DSCHED_API_TRY(AlertGroup g, AlertGroupById(c, id));
  Status s = Admin(c).DeleteAlertGroup(g.id);
  if (!s.ok()) return Fail(FromStatus(s));
  return Ok(true);
}

HttpResponse ListAlertGroupsPaged(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  DSCHED_API_TRY(auto rows, Admin(c).ListAlertGroups(c.req.Param("searchVal").value_or(""),
                                                     Page{page.offset(), page.page_size}));
  json list = json::array();
  for (const auto& g : rows.rows) list.push_back(AlertGroupToJson(g));
  return Ok(PageInfo(std::move(list), rows.total, page));
}

// Every group, for the start and schedule dialogs of any user.
HttpResponse ListAlertGroups(const Call& c) {
  DSCHED_API_TRY(auto rows, Admin(c).ListAlertGroups("", Page{0, kAll}));
  json list = json::array();
  for (auto it = rows.rows.rbegin(); it != rows.rows.rend(); ++it)
    list.push_back(AlertGroupToJson(*it));
  return Ok(std::move(list));
}

HttpResponse QueryAlertGroup(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(int64_t id, RequiredIntParam(c.req, "id"));
  DSCHED_API_TRY(AlertGroup g, AlertGroupById(c, id));
  return Ok(AlertGroupToJson(g));
}

HttpResponse VerifyAlertGroupName(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(std::string name, Text(c.req, "groupName", 255));
  DSCHED_API_TRY(auto rows, Admin(c).ListAlertGroups("", Page{0, kAll}));
  for (const auto& g : rows.rows)
    if (g.group_name == name) return Fail(kAlertGroupExist, "alarm group already exists");
  return Ok(nullptr);
}

// ---------------------------------------------------------------- alert plugin instances

constexpr const char* kWarningTypeNames[] = {"NONE", "SUCCESS", "FAILURE", "ALL"};

ApiOr<int> WarningTypeParam(const HttpRequest& req, int dflt) {
  auto v = req.Param("warningType");
  if (!v) return dflt;
  for (int i = 0; i < 4; ++i)
    if (*v == kWarningTypeNames[i]) return i;
  return BadParam("warningType",
                  "unknown value '" + *v + "', expected one of NONE|SUCCESS|FAILURE|ALL");
}

ApiOr<PluginDefine> PluginById(const Call& c, int64_t id) {
  auto d = Admin(c).GetPluginDefine(id);
  if (!d.ok()) {
    if (IsNotFound(d.status()))
      return ApiError{kQueryPluginDetailNull, "query plugin detail result is null"};
    return FromStatus(d.status());
  }
  return *std::move(d);
}

// pluginInstanceParams as the UI sends it (the plugin's form: [{field, value, ...}]) or as a
// plain {field: value} object, checked against the plugin's required fields; stored as the
// object.
ApiOr<std::string> PluginParams(const HttpRequest& req, const PluginDefine& def) {
  auto text = req.Param("pluginInstanceParams");
  if (!text) return BadParam("pluginInstanceParams", "it is required");
  if (text->size() > kMaxParams)
    return BadParam("pluginInstanceParams", "longer than " + std::to_string(kMaxParams) + " bytes");
  json in = json::parse(*text, nullptr, false);
  json values = json::object();
  if (in.is_array()) {
    for (size_t i = 0; i < in.size(); ++i) {
      const json& f = in[i];
      if (!f.is_object() || !f.contains("field") || !f["field"].is_string())
        return BadParam("pluginInstanceParams[" + std::to_string(i) + "]",
                        "expected an object with a \"field\"");
      values[f["field"].get<std::string>()] = f.contains("value") ? f["value"] : json(nullptr);
    }
  } else if (in.is_object()) {
    values = in;
  } else {
    return BadParam("pluginInstanceParams", "expected a JSON array of form fields or an object");
  }
  json form = json::parse(def.plugin_params, nullptr, false);
  if (form.is_array()) {
    for (const auto& f : form) {
      if (!f.is_object() || !f.contains("field")) continue;
      bool required = false;
      if (f.contains("validate") && f["validate"].is_array())
        for (const auto& v : f["validate"])
          required = required || (v.is_object() && v.value("required", false));
      std::string field = f["field"].get<std::string>();
      const json* v = values.contains(field) ? &values[field] : nullptr;
      bool empty = !v || v->is_null() || (v->is_string() && v->get<std::string>().empty());
      if (required && empty)
        return BadParam("pluginInstanceParams." + field, "it is required by " + def.plugin_name);
    }
  }
  return values.dump();
}

// The plugin's form with the instance's values filled in, as a JSON string: what the UI's edit
// dialog renders.
json InstanceJson(const Call& c, const AlertPluginInstance& i) {
  json j = AlertPluginInstanceToJson(i);
  auto def = Admin(c).GetPluginDefine(i.plugin_define_id);
  json values = json::parse(i.plugin_instance_params, nullptr, false);
  if (def.ok() && values.is_object()) {
    json form = json::parse(def->plugin_params, nullptr, false);
    if (form.is_array()) {
      for (auto& f : form)
        if (f.is_object() && f.contains("field") && f["field"].is_string() &&
            values.contains(f["field"].get<std::string>()))
          f["value"] = values[f["field"].get<std::string>()];
      j["pluginInstanceParams"] = form.dump();
    }
  }
  return j;
}

ApiOr<AlertPluginInstance> InstanceById(const Call& c, int64_t id) {
  auto i = Admin(c).GetAlertPluginInstance(id);
  if (!i.ok()) {
    if (IsNotFound(i.status()))
      return ApiError{kGetAlertPluginInstanceError, "get alert plugin instance error: instance " +
                                                        std::to_string(id) + " does not exist"};
    return FromStatus(i.status());
  }
  return *std::move(i);
}

ApiError InstanceExists() { return {kPluginInstanceAlreadyExist, "plugin instance already exit"}; }

HttpResponse CreateAlertPluginInstance(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  const HttpRequest& req = c.req;
  AlertPluginInstance i;
  DSCHED_API_TRY(i.plugin_define_id, RequiredIntParam(req, "pluginDefineId"));
  DSCHED_API_TRY(i.instance_name, Text(req, "instanceName", kMaxName));
  std::string type = req.Param("instanceType").value_or("NORMAL");
  if (type != "NORMAL" && type != "GLOBAL")
    return Fail(BadParam("instanceType", "unknown value '" + type + "', expected NORMAL|GLOBAL"));
  i.instance_type = type == "GLOBAL" ? 1 : 0;
  DSCHED_API_TRY(i.warning_type, WarningTypeParam(req, 3));
  DSCHED_API_TRY(PluginDefine def, PluginById(c, i.plugin_define_id));
  DSCHED_API_TRY(i.plugin_instance_params, PluginParams(req, def));
  auto created = Admin(c).CreateAlertPluginInstance(i);
  if (!created.ok()) {
    if (IsTaken(created.status())) return Fail(InstanceExists());
    return Fail(FromStatus(created.status()));
  }
  return Ok(InstanceJson(c, *created));
}

HttpResponse UpdateAlertPluginInstance(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  DSCHED_API_TRY(AlertPluginInstance i, InstanceById(c, id));
  DSCHED_API_TRY(i.instance_name, Text(c.req, "instanceName", kMaxName));
  DSCHED_API_TRY(i.warning_type, WarningTypeParam(c.req, i.warning_type));
  DSCHED_API_TRY(PluginDefine def, PluginById(c, i.plugin_define_id));
  DSCHED_API_TRY(i.plugin_instance_params, PluginParams(c.req, def));
  auto updated = Admin(c).UpdateAlertPluginInstance(i);
  if (!updated.ok()) {
    if (IsTaken(updated.status())) return Fail(InstanceExists());
    return Fail(FromStatus(updated.status()));
  }
  return Ok(InstanceJson(c, *updated));
}

HttpResponse DeleteAlertPluginInstance(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  DSCHED_API_TRY(auto groups, Admin(c).ListAlertGroups("", Page{0, kAll}));
  for (const auto& g : groups.rows) {
    std::stringstream in(g.alert_instance_ids);
    std::string item;
    while (std::getline(in, item, ','))
      if (item == std::to_string(id))
        return Fail(kDeleteAlertPluginInstanceInUse,
                    "failed to delete the alert instance, there is an alarm group associated "
                    "with this alert instance");
  }
  Status s = Admin(c).DeleteAlertPluginInstance(id);
  if (!s.ok()) return Fail(FromStatus(s));
  return Ok(true);
}

HttpResponse ListAlertPluginInstancesPaged(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  DSCHED_API_TRY(auto rows, Admin(c).ListAlertPluginInstances(c.req.Param("searchVal").value_or(""),
                                                              Page{page.offset(), page.page_size}));
  json list = json::array();
  for (const auto& i : rows.rows) list.push_back(InstanceJson(c, i));
  return Ok(PageInfo(std::move(list), rows.total, page));
}

// Admins only: the parameters hold mail passwords and webhook URLs.
HttpResponse ListAlertPluginInstances(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(auto rows, Admin(c).ListAlertPluginInstances("", Page{0, kAll}));
  json list = json::array();
  for (const auto& i : rows.rows) list.push_back(InstanceJson(c, i));
  return Ok(std::move(list));
}

HttpResponse VerifyAlertPluginInstanceName(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(std::string name, Text(c.req, "alertInstanceName", 255));
  DSCHED_API_TRY(auto rows, Admin(c).ListAlertPluginInstances("", Page{0, kAll}));
  for (const auto& i : rows.rows)
    if (i.instance_name == name) return Fail(InstanceExists());
  return Ok(nullptr);
}

HttpResponse GetAlertPluginInstance(const Call& c) {
  if (!IsAdmin(c.user)) return Fail(NoOperationPerm());
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  DSCHED_API_TRY(AlertPluginInstance i, InstanceById(c, id));
  return Ok(InstanceJson(c, i));
}

HttpResponse UiPluginsByType(const Call& c) {
  DSCHED_API_TRY(std::string type, Text(c.req, "pluginType", 32));
  if (type != "ALERT" && type != "REGISTER" && type != "TASK")
    return Fail(
        BadParam("pluginType", "unknown value '" + type + "', expected ALERT|REGISTER|TASK"));
  DSCHED_API_TRY(auto defs, Admin(c).ListPluginDefines(type));
  json list = json::array();
  for (const auto& d : defs) list.push_back(PluginDefineToJson(d));
  return Ok(std::move(list));
}

HttpResponse UiPluginById(const Call& c) {
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  DSCHED_API_TRY(PluginDefine d, PluginById(c, id));
  return Ok(PluginDefineToJson(d));
}

// ---------------------------------------------------------------- access tokens

// 32 random hex characters.
std::string NewToken() {
  static const bool ready = sodium_init() >= 0;  // idempotent; picks the random source
  (void)ready;
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char x : b) {
    out += kHex[x >> 4];
    out += kHex[x & 15];
  }
  return out;
}

// userId (an admin names anyone, a user only themselves) and expireTime of a token request.
struct TokenArgs {
  User user;
  int64_t expire_time = 0;
};
ApiOr<TokenArgs> TokenArgsFromRequest(const Call& c) {
  auto uid = RequiredIntParam(c.req, "userId");
  if (!uid.ok()) return uid.error();
  if (!IsAdmin(c.user) && uid.value() != c.user.id) return NoOperationPerm();
  auto u = ExistingUser(c, uid.value());
  if (!u.ok()) return u.error();
  if (!c.req.Param("expireTime")) return BadParam("expireTime", "it is required");
  auto exp = DateParam(c.req, "expireTime");
  if (!exp.ok()) return exp.error();
  return TokenArgs{std::move(u.value()), exp.value()};
}

const std::regex& TokenRe() {
  static const std::regex re("^[A-Za-z0-9_-]{8,64}$");
  return re;
}

ApiOr<std::string> TokenParam(const HttpRequest& req) {
  auto t = req.Param("token");
  if (!t) return NewToken();
  if (!std::regex_match(*t, TokenRe()))
    return BadParam("token", "must be 8 to 64 letters, digits, '_' or '-'");
  return *t;
}

ApiOr<AccessToken> TokenById(const Call& c, int64_t id) {
  auto t = Admin(c).GetAccessToken(id);
  if (!t.ok()) {
    if (IsNotFound(t.status())) return ApiError{kAccessTokenNotExist, "access token not exist"};
    return FromStatus(t.status());
  }
  if (!IsAdmin(c.user) && t->user_id != c.user.id) return NoOperationPerm();
  return *std::move(t);
}

HttpResponse CreateAccessToken(const Call& c) {
  DSCHED_API_TRY(TokenArgs args, TokenArgsFromRequest(c));
  AccessToken t;
  t.user_id = args.user.id;
  t.expire_time = args.expire_time;
  DSCHED_API_TRY(t.token, TokenParam(c.req));
  auto created = Admin(c).CreateAccessToken(t);
  if (!created.ok()) {
    if (IsTaken(created.status())) return Fail(BadParam("token", "this token is already in use"));
    return Fail(FromStatus(created.status()));
  }
  return Ok(AccessTokenToJson(*created));
}

HttpResponse UpdateAccessToken(const Call& c) {
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  DSCHED_API_TRY(AccessToken t, TokenById(c, id));
  DSCHED_API_TRY(TokenArgs args, TokenArgsFromRequest(c));
  t.user_id = args.user.id;
  t.expire_time = args.expire_time;
  if (c.req.Param("token")) {
    DSCHED_API_TRY(t.token, TokenParam(c.req));
  }
  auto updated = Admin(c).UpdateAccessToken(t);
  if (!updated.ok()) {
    if (IsTaken(updated.status())) return Fail(BadParam("token", "this token is already in use"));
    if (IsNotFound(updated.status())) return Fail(kAccessTokenNotExist, "access token not exist");
    return Fail(FromStatus(updated.status()));
  }
  return Ok(AccessTokenToJson(*updated));
}

HttpResponse DeleteAccessToken(const Call& c) {
  DSCHED_API_TRY(int64_t id, PathIntParam(c.req, "id"));
  DSCHED_API_TRY(AccessToken t, TokenById(c, id));
  Status s = Admin(c).DeleteAccessToken(t.id);
  if (!s.ok()) return Fail(FromStatus(s));
  return Ok(true);
}

HttpResponse GenerateAccessToken(const Call& c) {
  DSCHED_API_TRY(TokenArgs args, TokenArgsFromRequest(c));
  (void)args;
  return Ok(NewToken());
}

// An admin sees every token, a user their own.
HttpResponse ListAccessTokensPaged(const Call& c) {
  DSCHED_API_TRY(PageArgs page, PageParams(c.req));
  DSCHED_API_TRY(auto rows, Admin(c).ListAccessTokens(IsAdmin(c.user) ? 0 : c.user.id,
                                                      c.req.Param("searchVal").value_or(""),
                                                      Page{page.offset(), page.page_size}));
  json list = json::array();
  for (const auto& t : rows.rows) list.push_back(AccessTokenToJson(t));
  return Ok(PageInfo(std::move(list), rows.total, page));
}

HttpResponse ListAccessTokensOfUser(const Call& c) {
  DSCHED_API_TRY(int64_t user_id, PathIntParam(c.req, "userId"));
  if (!IsAdmin(c.user) && user_id != c.user.id) return Fail(NoOperationPerm());
  DSCHED_API_TRY(auto rows, Admin(c).ListAccessTokens(user_id, "", Page{0, kAll}));
  json list = json::array();
  for (const auto& t : rows.rows) list.push_back(AccessTokenToJson(t));
  return Ok(std::move(list));
}

// ---------------------------------------------------------------- environments

HttpResponse ListEnvironments(const Call& c) {
  DSCHED_API_TRY(auto envs, Admin(c).ListEnvironments());
  json list = json::array();
  for (const auto& e : envs) list.push_back(EnvironmentToJson(e));
  return Ok(std::move(list));
}

// ---------------------------------------------------------------- monitor

// Host figures from /proc, in the keys the UI's monitor page reads from a heartbeat. CPU usage
// is measured between two calls (the first one: since boot), so no request waits for a sample.
struct CpuSample {
  long long busy = 0, total = 0;
};

CpuSample ReadCpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  long long v[8] = {0};
  in >> cpu;
  for (auto& x : v) in >> x;
  CpuSample s;
  for (long long x : v) s.total += x;
  s.busy = s.total - v[3] - v[4];  // idle, iowait
  return s;
}

double CpuUsage() {
  static std::mutex mu;
  static CpuSample last;
  std::lock_guard<std::mutex> l(mu);
  CpuSample now = ReadCpu();
  double usage = now.total > last.total
                     ? static_cast<double>(now.busy - last.busy) / (now.total - last.total)
                     : 0.0;
  last = now;
  return std::clamp(usage, 0.0, 1.0);
}

json HeartbeatJson(const Call& c, const LocalServer& s) {
  struct statvfs fs {};
  std::string dir = c.deps.data_dir.empty() ? "/" : c.deps.data_dir;
  double disk_total = 0, disk_free = 0;
  if (statvfs(dir.c_str(), &fs) == 0) {
    disk_total = static_cast<double>(fs.f_blocks) * fs.f_frsize;
    disk_free = static_cast<double>(fs.f_bavail) * fs.f_frsize;
  }
  auto round2 = [](double x) {
    return static_cast<double>(static_cast<int64_t>(x * 100 + 0.5)) / 100;
  };
  double cpu = round2(CpuUsage()), mem = round2(ReadHostMemory().usage());
  json hb = {{"processId", static_cast<int64_t>(getpid())},
             {"startupTime", s.start_time_ms},
             {"reportTime", c.deps.clock->NowMs()},
             {"cpuUsage", cpu},
             {"memoryUsage", mem},
             {"jvmCpuUsage", cpu},
             {"jvmMemoryUsage", mem},
             {"loadAverage", round2(ReadLoadAverage())},
             {"diskAvailable", round2(disk_free / (1024.0 * 1024 * 1024))},
             {"diskUsage", disk_total > 0 ? round2(1.0 - disk_free / disk_total) : 0.0},
             {"serverStatus", "NORMAL"},
             {"host", s.host},
             {"port", s.port}};
  if (s.node_type == "WORKER") {
    hb["workerHostWeight"] = 100;
    hb["threadPoolUsage"] = 0;
  }
  return hb;
}

HttpResponse MonitorNodes(const Call& c) {
  std::string type = c.req.PathParam("nodeType");
  if (type != "MASTER" && type != "WORKER" && type != "ALERT_SERVER")
    return Fail(BadParam(
        "nodeType", "unknown value '" + type + "', expected one of MASTER|WORKER|ALERT_SERVER"));
  std::string dir = type == "MASTER" ? "master" : type == "WORKER" ? "worker" : "alert-server";
  json list = json::array();
  int64_t id = 0;
  for (const auto& s : c.deps.list_servers ? c.deps.list_servers() : c.deps.servers) {
    ++id;
    if (s.node_type != type) continue;
    std::string addr = s.host + ":" + std::to_string(s.port);
    // A registered heartbeat is the server's own word on itself; without one (standalone, or
    // one that does not parse) this process's figures stand in, reported now.
    json hb = json::parse(s.heartbeat.empty() ? "null" : s.heartbeat, nullptr, false);
    if (!hb.is_object()) hb = HeartbeatJson(c, s);
    int64_t reported = hb.contains("reportTime") && hb["reportTime"].is_number_integer()
                           ? hb["reportTime"].get<int64_t>()
                           : c.deps.clock->NowMs();
    list.push_back({{"id", id},
                    {"host", s.host},
                    {"port", s.port},
                    {"zkDirectory", "/nodes/" + dir + "/" + addr},
                    {"resInfo", hb.dump()},
                    {"createTime", FormatDateTime(s.start_time_ms)},
                    {"lastHeartbeatTime", FormatDateTime(reported)}});
  }
  return Ok(std::move(list));
}

HttpResponse MonitorDatabases(const Call& c) {
  auto f = Admin(c).Figures();
  if (!f.ok() && f.status().code() != StatusCode::kUnavailable)
    return Fail(kQueryDatabaseStateError, "query database state error");
  // Unreachable: state NO, figures 0.
  AdminStore::DatabaseFigures figures = f.ok() ? *f : AdminStore::DatabaseFigures{};
  return Ok(json::array({{{"dbType", c.deps.db_type.empty() ? "SQLITE" : c.deps.db_type},
                          {"state", f.ok() ? "YES" : "NO"},
                          {"maxConnections", figures.max_connections},
                          {"maxUsedConnections", figures.max_used_connections},
                          {"threadsConnections", figures.threads_connections},
                          {"threadsRunningConnections", figures.threads_running},
                          {"date", FormatDateTime(c.deps.clock->NowMs())}}}));
}

}  // namespace

void AddAdminRoutes(
    const std::function<void(const char*, const std::string&, CallHandler)>& authed) {
  // Users.
  authed("POST", "/users/create", &CreateUser);
  authed("POST", "/users/update", &UpdateUser);
  authed("POST", "/users/delete", &DeleteUser);
  authed("GET", "/users/list-paging", &ListUsersPaged);
  authed("GET", "/users/list", [](const Call& c) { return ListUsers(c, true); });
  authed("GET", "/users/list-all", [](const Call& c) { return ListUsers(c, false); });
  authed("GET", "/users/verify-user-name", &VerifyUserName);
  authed("GET", "/users/get-user-info", &GetUserInfo);
  authed("POST", "/users/grant-project", [](const Call& c) { return GrantProjectsById(c, 7); });
  authed("POST", "/users/grant-project-with-read-perm",
         [](const Call& c) { return GrantProjectsById(c, 4); });
  authed("POST", "/users/revoke-project-by-id",
         [](const Call& c) { return GrantProjectsById(c, 0); });
  authed("POST", "/users/grant-project-by-code",
         [](const Call& c) { return GrantProjectByCode(c, 7); });
  authed("POST", "/users/revoke-project", [](const Call& c) { return GrantProjectByCode(c, 0); });
  authed("GET", "/users/authed-user", [](const Call& c) { return AlertGroupUsers(c, true); });
  authed("GET", "/users/unauth-user", [](const Call& c) { return AlertGroupUsers(c, false); });

  // Tenants and queues.
  authed("GET", "/tenants", &ListTenantsPaged);
  authed("POST", "/tenants", &CreateTenant);
  authed("GET", "/tenants/list", &ListTenants);
  authed("GET", "/tenants/verify-code", &VerifyTenantCode);
  authed("PUT", "/tenants/{id}", &UpdateTenant);
  authed("DELETE", "/tenants/{id}", &DeleteTenant);
  authed("GET", "/queues", &ListQueuesPaged);
  authed("POST", "/queues", &CreateQueue);
  authed("GET", "/queues/list", &ListQueues);
  authed("POST", "/queues/verify", &VerifyQueue);
  authed("PUT", "/queues/{id}", &UpdateQueue);

  // Worker groups.
  authed("GET", "/worker-groups", &ListWorkerGroupsPaged);
  authed("POST", "/worker-groups", &SaveWorkerGroup);
  authed("GET", "/worker-groups/all", &ListWorkerGroupNames);
  authed("GET", "/worker-groups/worker-address-list", &WorkerAddressList);
  authed("DELETE", "/worker-groups/{id}", &DeleteWorkerGroup);

  // Alert groups, alert plugin instances, UI plugins.
  authed("GET", "/alert-groups", &ListAlertGroupsPaged);
  authed("POST", "/alert-groups", &CreateAlertGroup);
  authed("GET", "/alert-groups/list", &ListAlertGroups);
  authed("GET", "/alert-groups/normal-list", &ListAlertGroups);
  authed("POST", "/alert-groups/query", &QueryAlertGroup);
  authed("GET", "/alert-groups/verify-name", &VerifyAlertGroupName);
  authed("PUT", "/alert-groups/{id}", &UpdateAlertGroup);
  authed("DELETE", "/alert-groups/{id}", &DeleteAlertGroup);
  authed("GET", "/alert-plugin-instances", &ListAlertPluginInstancesPaged);
  authed("POST", "/alert-plugin-instances", &CreateAlertPluginInstance);
  authed("GET", "/alert-plugin-instances/list", &ListAlertPluginInstances);
  authed("GET", "/alert-plugin-instances/verify-name", &VerifyAlertPluginInstanceName);
  authed("GET", "/alert-plugin-instances/{id}", &GetAlertPluginInstance);
  authed("PUT", "/alert-plugin-instances/{id}", &UpdateAlertPluginInstance);
  authed("DELETE", "/alert-plugin-instances/{id}", &DeleteAlertPluginInstance);
  authed("GET", "/ui-plugins/query-by-type", &UiPluginsByType);
  authed("GET", "/ui-plugins/{id}", &UiPluginById);

  // Access tokens.
  authed("GET", "/access-tokens", &ListAccessTokensPaged);
  authed("POST", "/access-tokens", &CreateAccessToken);
  authed("POST", "/access-tokens/generate", &GenerateAccessToken);
  authed("GET", "/access-tokens/user/{userId}", &ListAccessTokensOfUser);
  authed("PUT", "/access-tokens/{id}", &UpdateAccessToken);
  authed("DELETE", "/access-tokens/{id}", &DeleteAccessToken);

  // Projects: changes, grants and the authorisation lists (project_handlers.cc).
  authed("PUT", "/projects/{projectCode}", &UpdateProject);
  authed("DELETE", "/projects/{projectCode}", &DeleteProject);
  authed("GET", "/projects/authed-project", &ListAuthedProjects);
  authed("GET", "/projects/unauth-project", &ListUnauthProjects);
  authed("GET", "/projects/authed-user", &ListAuthedUsers);
  authed("GET", "/projects/project-with-authorized-level", &ListAuthorizedLevelProjects);
  authed("GET", "/projects/project-with-authorized-level-list-paging",
         &ListAuthorizedLevelProjectsPaged);

  // Environments and monitor.
  authed("GET", "/environment/query-environment-list", &ListEnvironments);
  authed("GET", "/monitor/databases", &MonitorDatabases);
  authed("GET", "/monitor/{nodeType}", &MonitorNodes);
}

}  // namespace dsched::api
