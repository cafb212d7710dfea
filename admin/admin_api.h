// The admin API's request handling, independent of the HTTP server: routing,
// authentication, roles, throttling, validation, application through the
// state store, and audit. AdminServer (admin/admin_server.h) feeds it
// requests read by evhttp; tests may call it directly.
//
// Order of checks for every request (docs/admin-api.md):
//   Host not allowed (TCP only, admin/host_check.h) → 421 · credentials in the query string → 400 ·
//   unknown path → 404 · method not allowed → 405 · client throttled → 429 + Retry-After ·
//   missing/wrong token → 401 · viewer on a change → 403 · body over the limit → 413 · unknown
//   feature/room → 404 · malformed JSON → 400 · invalid field → 422 ·
//   If-Match version mismatch → 409 · store unavailable → 503 · applied and
//   audited → 200 (audit write failure → 500: the change is in force but not
//   on record; it is logged).
// GET /metrics from a loopback client needs no token when
// AdminApiOptions::metrics_open_on_loopback is set (the default).
//
// Contract: control thread only (not thread-safe). Handle() calls `reply`
// exactly once, synchronously with the local store, later (still on the
// control thread) with an asynchronous store. AdminApi must outlive pending
// replies. It does not own the store, audit log or metrics source.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "admin/audit_log.h"
#include "admin/auth.h"
#include "admin/metrics.h"
#include "admin/state_store.h"
#include "config/config.h"

namespace tidegate::admin {

struct ApiRequest {
  std::string method;  // "GET", "PUT", …
  std::string path;    // raw path, without the query
  std::string query;   // raw query, without '?'
  std::optional<std::string> authorization;
  std::optional<std::string> if_match;  // e.g. "\"7\"" or "7": expected state version
  std::string body;
  bool body_too_large = false;  // set by the server when the body was cut off
  std::string client_ip;        // "127.0.0.1", "::1", "unix"
  std::string client_address;   // "127.0.0.1:53211", for the audit log
  bool client_is_loopback = false;
  // The Host header ("" when absent) of a request over TCP, checked against
  // admin/host_check.h (DNS rebinding) before anything else; nullopt = not
  // checked (the unix socket, in-process callers).
  std::optional<std::string> host;
  // Set by the server when the request's head is unusable although its
  // HTTP parser took it: a field that must appear once appeared twice
  // ("Host", "Authorization"; RFC 9112 §3.2), whitespace between a field
  // name and its colon (§5.1). The detail of the 400 answered before
  // anything else; "" = fine.
  std::string bad_request;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

struct AdminApiOptions {
  size_t max_body_bytes = 64 * 1024;
  bool metrics_open_on_loopback = true;
  FailureThrottle::Policy throttle;
  size_t max_audit_limit = 1000;
};

class AdminApi {
 public:
  using ConfigProvider = std::function<std::shared_ptr<const config::Config>()>;
  using Logger = std::function<void(std::string_view key, std::string_view message)>;

  struct Deps {
    ConfigProvider config;                     // the configuration in force (never null result)
    StateStore* store = nullptr;               // not owned
    AuditLog* audit = nullptr;                 // not owned
    const MetricsSource* metrics = nullptr;    // not owned
    Logger warn;                               // optional: warn-level lines
    const common::TimeSource* time = nullptr;  // not owned; optional: common::SystemTime()
    // GET /v1/notify (routes_notify.cc): calls its argument exactly once
    // with the webhook outbox's JSON (notify/notifier.h); unset = 404.
    std::function<void(std::function<void(nlohmann::json)>)> notify_status;
  };

  AdminApi(Deps deps, const config::AdminConfig& admin, AdminApiOptions options = {});

  // SIGHUP: new tokens apply to the next request.
  void Reconfigure(const config::AdminConfig& admin);

  void Handle(const ApiRequest& request, std::function<void(ApiResponse)> reply);

  // Counters for /metrics (merged into the snapshot at render time).
  const AdminMetrics& admin_metrics() const { return metrics_; }
  const AdminApiOptions& options() const { return options_; }

  // Builds {"error": error, "detail": detail} with `status`.
  static ApiResponse Error(int status, std::string error, std::string detail);

 private:
  enum class Route {
    kState,
    kAudit,
    kMetrics,
    kMaintenance,
    kBanner,
    kRoom,
    kBypass,
    kIncidents,        // /v1/incidents
    kIncident,         // /v1/incidents/{id}
    kIncidentUpdates,  // /v1/incidents/{id}/updates
    kIncidentResolve,  // /v1/incidents/{id}/resolve
    kNotify,           // /v1/notify
  };
  struct Match {
    Route route;
    std::string name;  // feature, room or incident id
  };

  std::optional<Match> MatchPath(const std::string& path) const;
  static std::vector<std::string> AllowedMethods(Route route);
  void Dispatch(const ApiRequest& request, const Match& match, const AuthResult& who,
                std::function<void(ApiResponse)> reply);

  // routes_read.cc
  ApiResponse GetState();
  void GetAudit(const ApiRequest& request, std::function<void(ApiResponse)> reply);
  // How many of this instance's last `limit` audit records are older than
  // the oldest of `shared` (all of them when `shared` is empty).
  size_t OwnRecordsOlderThan(const std::vector<nlohmann::json>& shared, size_t limit);
  ApiResponse GetMetrics();
  // routes_change.cc
  void ChangeMaintenance(const ApiRequest& request, const Match& match, const AuthResult& who,
                         std::function<void(ApiResponse)> reply);
  void ChangeBanner(const ApiRequest& request, const AuthResult& who,
                    std::function<void(ApiResponse)> reply);
  void ChangeRoom(const ApiRequest& request, const Match& match, const AuthResult& who,
                  std::function<void(ApiResponse)> reply);
  // routes_bypass.cc: POST /v1/bypass (signed staff bypass cookie, audited).
  void MintBypass(const ApiRequest& request, const AuthResult& who,
                  std::function<void(ApiResponse)> reply);
  // routes_notify.cc: GET /v1/notify (webhook deliveries pending and failed).
  void GetNotify(std::function<void(ApiResponse)> reply);
  // routes_incidents.cc: GET/POST /v1/incidents, GET /v1/incidents/{id},
  // POST /v1/incidents/{id}/updates and /resolve.
  ApiResponse ListIncidents();
  void IncidentRoute(const ApiRequest& request, const Match& match, const AuthResult& who,
                     std::function<void(ApiResponse)> reply);
  void ApplyIncidentChange(const ApiRequest& request, const AuthResult& who,
                           state::StateChange change, std::function<void(ApiResponse)> reply);
  // The start shared by every state change: the If-Match version (the
  // reply is a 400 when it is malformed; then nullopt) and the audit
  // record's who and where.
  struct ChangeStart {
    std::optional<uint64_t> expected;
    AuditRecord record;
  };
  static std::optional<ChangeStart> StartChange(const ApiRequest& request, const AuthResult& who,
                                                const std::function<void(ApiResponse)>& reply);
  // Applies a validated change, audits it, replies. `describe` returns the
  // JSON of the changed object in a given state (for before/after).
  void ApplyAndAudit(const ApiRequest& request, const AuthResult& who, state::StateChange change,
                     std::function<nlohmann::json(const state::RuntimeState&)> describe,
                     std::function<void(ApiResponse)> reply);

  const common::TimeSource& time() const { return deps_.time ? *deps_.time : common::SystemTime(); }
  common::TimePoint Now() const { return time().WallNow(); }
  void Warn(std::string_view key, std::string_view message) const {
    if (deps_.warn) deps_.warn(key, message);
  }

  Deps deps_;
  AdminApiOptions options_;
  std::unique_ptr<TokenAuthenticator> auth_;
  FailureThrottle throttle_;
  AdminMetrics metrics_;
  std::vector<std::string> allowed_hosts_;  // AllowedAdminHosts of the [admin] in force
};

}  // namespace tidegate::admin
