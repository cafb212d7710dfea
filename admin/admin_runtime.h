// Everything operator control needs, bundled for the binary: the state store
// (LocalStore, or RedisStore when [state].backend = "redis" — chosen at start;
// a change of [state] needs a restart), the audit log and the admin listener.
//
// Wiring (app/, control thread):
//   auto admin = admin::AdminRuntime::Start(control_base, config,
//       admin::DefaultAuditLogPath(*config), &metrics_source, warn_logger, &error);
//   admin->SetStateCallback([&](std::shared_ptr<const state::RuntimeState> s) {
//     /* publish s to workers, like the config snapshot */ });
//   ... on SIGHUP, after a successful reload:  admin->Reconfigure(new_config);
//   ... destroy `admin` before control_base and before metrics_source.
//
// Contract: control thread only (the thread running `control_base`). Owns the
// store, the audit log and the server; borrows `metrics` (must outlive it).
#pragma once

#include <event2/event.h>

#include <memory>
#include <string>

#include "admin/admin_server.h"
#include "admin/audit_log.h"
#include "admin/metrics.h"
#include "admin/observed_store.h"
#include "admin/state_store.h"
#include "config/config.h"

namespace tidegate::admin {

// "audit.log" in the folder of the first configuration file read
// (config.source_files[0]); "audit.log" in the working directory when unknown.
std::string DefaultAuditLogPath(const config::Config& config);

class AdminRuntime {
 public:
  // nullptr and *error set ("admin: …" / "audit log …") when the audit log
  // cannot be opened or the listener cannot start. `state_copy_path`: with
  // backend = "redis", the file the store keeps its local copy of the shared
  // state in ("" = none; admin/state_copy.h).
  static std::unique_ptr<AdminRuntime> Start(event_base* control_base,
                                             std::shared_ptr<const config::Config> config,
                                             const std::string& audit_log_path,
                                             const MetricsSource* metrics, AdminApi::Logger warn,
                                             std::string* error, AdminServerOptions options = {},
                                             const std::string& state_copy_path = "");

  // SIGHUP: the new configuration's values, tokens and names apply to the
  // next request; run-time overrides are kept. False + *error when the admin
  // part of it could not be fully applied (listen address changed: restart
  // needed; or every token removed on a non-loopback listener: old tokens kept;
  // or [state] changed: the store chosen at start is kept until a restart).
  bool Reconfigure(std::shared_ptr<const config::Config> config, std::string* error);

  // The immutable run-time state to publish to workers, and its change
  // callback (called on the control thread after every applied change).
  std::shared_ptr<const state::RuntimeState> state() const { return store_->Current(); }
  void SetStateCallback(StateStore::StateCallback callback) {
    store_->SetChangeCallback(std::move(callback));
  }

  // Called after each change applied through this instance's admin API,
  // with the state before and after it (admin/observed_store.h): webhook
  // events. Not called for changes other instances made.
  void SetAppliedObserver(ObservedStore::Observer observer) {
    observed_->SetObserver(std::move(observer));
  }
  // GET /v1/notify's data: calls its argument exactly once with the JSON.
  // Until set, the route answers an empty outbox.
  using NotifyStatus = std::function<void(std::function<void(nlohmann::json)>)>;
  void SetNotifyStatus(NotifyStatus status) { notify_status_ = std::move(status); }

  StateStore& store() { return *store_; }
  AdminServer& server() { return *server_; }

 private:
  AdminRuntime() = default;
  std::shared_ptr<const config::Config> config_;
  // The configuration the store was built from (at start): a reload is
  // compared with it, not with the previous reload, so a [state] change
  // that was reverted says nothing.
  std::shared_ptr<const config::Config> store_config_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<ObservedStore> observed_;  // store_ as the admin API sees it
  NotifyStatus notify_status_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<AdminServer> server_;  // last: destroyed first
};

}  // namespace tidegate::admin
