#include "admin/admin_runtime.h"

#include "admin/redis_store.h"

namespace tidegate::admin {
namespace {

std::string SentinelText(const config::StateConfig& s) {
  std::string text = s.master_name + " " + std::to_string(s.wait_replicas) + " " +
                     std::to_string(s.wait_timeout.count());
  for (const config::Address& a : s.sentinels) text += " " + a.text;
  return text;
}

}  // namespace

std::string DefaultAuditLogPath(const config::Config& config) {
  if (config.source_files.empty()) return "audit.log";
  const std::string& first = config.source_files.front();
  size_t slash = first.rfind('/');
  if (slash == std::string::npos) return "audit.log";
  return first.substr(0, slash + 1) + "audit.log";
}

std::unique_ptr<AdminRuntime> AdminRuntime::Start(
    event_base* control_base, std::shared_ptr<const config::Config> config,
    const std::string& audit_log_path, const MetricsSource* metrics, AdminApi::Logger warn,
    std::string* error, AdminServerOptions options, const std::string& state_copy_path) {
  std::unique_ptr<AdminRuntime> runtime(new AdminRuntime());
  runtime->config_ = std::move(config);
  runtime->store_config_ = runtime->config_;
  if (runtime->config_->state.backend == config::StateBackend::kRedis) {
    RedisStoreOptions store_options = RedisStoreOptions::FromConfig(runtime->config_->state);
    store_options.warn = warn;
    store_options.copy_path = state_copy_path;
    runtime->store_ = RedisStore::Start(control_base, std::move(store_options));
  } else {
    runtime->store_ = std::make_unique<LocalStore>();
  }
  runtime->observed_ = std::make_unique<ObservedStore>(runtime->store_.get());
  runtime->audit_ = AuditLog::Open(audit_log_path, error);
  if (!runtime->audit_) return nullptr;
  AdminApi::Deps deps;
  AdminRuntime* self = runtime.get();
  deps.config = [self] { return self->config_; };
  deps.store = runtime->observed_.get();
  deps.notify_status = [self](std::function<void(nlohmann::json)> reply) {
    if (self->notify_status_) return self->notify_status_(std::move(reply));
    reply(nlohmann::json{{"webhooks", nlohmann::json::array()},
                         {"pending", nlohmann::json::array()},
                         {"failed", nlohmann::json::array()}});
  };
  deps.audit = runtime->audit_.get();
  deps.metrics = metrics;
  deps.warn = std::move(warn);
  runtime->server_ =
      AdminServer::Start(control_base, runtime->config_->admin, std::move(deps), options, error);
  if (!runtime->server_) return nullptr;
  return runtime;
}

bool AdminRuntime::Reconfigure(std::shared_ptr<const config::Config> config, std::string* error) {
  const config::StateConfig& before = store_config_->state;  // what the store runs with
  const config::StateConfig& after = config->state;
  bool state_changed =
      before.backend != after.backend ||
      (before.redis ? before.redis->text : "") != (after.redis ? after.redis->text : "") ||
      before.redis_timeout != after.redis_timeout ||
      before.resync_interval != after.resync_interval ||
      SentinelText(before) != SentinelText(after) ||
      before.sentinel_password != after.sentinel_password ||
      // The password file's content is re-read by each new connection
      // (redis/auth.h, RefreshPassword); naming another file needs a restart.
      before.redis_password_path != after.redis_password_path ||
      before.redis_username != after.redis_username ||
      // The rooms' stores keep the failure mode they were made with, and the
      // local store its folder and corrupt-file rule (audit 20 F1).
      before.on_failure != after.on_failure || before.on_corrupt != after.on_corrupt ||
      before.path != after.path;
  config_ = std::move(config);
  if (!server_->Reconfigure(config_->admin, error)) return false;
  if (state_changed) {
    *error = "state: [state] changed; restart tidegate to apply it (the store in use is kept)";
    return false;
  }
  return true;
}

}  // namespace tidegate::admin
