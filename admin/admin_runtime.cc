#include "admin/admin_runtime.h"

namespace tidegate::admin {

std::string DefaultAuditLogPath(const config::Config& config) {
  if (config.source_files.empty()) return "audit.log";
  const std::string& first = config.source_files.front();
  size_t slash = first.rfind('/');
  if (slash == std::string::npos) return "audit.log";
  return first.substr(0, slash + 1) + "audit.log";
}

std::unique_ptr<AdminRuntime> AdminRuntime::Start(event_base* control_base,
                                                  std::shared_ptr<const config::Config> config,
                                                  const std::string& audit_log_path,
                                                  const MetricsSource* metrics,
                                                  AdminApi::Logger warn, std::string* error,
                                                  AdminServerOptions options) {
  std::unique_ptr<AdminRuntime> runtime(new AdminRuntime());
  runtime->config_ = std::move(config);
  runtime->store_ = std::make_unique<LocalStore>();
  runtime->audit_ = AuditLog::Open(audit_log_path, error);
  if (!runtime->audit_) return nullptr;
  AdminApi::Deps deps;
  AdminRuntime* self = runtime.get();
  deps.config = [self] { return self->config_; };
  deps.store = runtime->store_.get();
  deps.audit = runtime->audit_.get();
  deps.metrics = metrics;
  deps.warn = std::move(warn);
  runtime->server_ =
      AdminServer::Start(control_base, runtime->config_->admin, std::move(deps), options, error);
  if (!runtime->server_) return nullptr;
  return runtime;
}

bool AdminRuntime::Reconfigure(std::shared_ptr<const config::Config> config, std::string* error) {
  config_ = std::move(config);
  return server_->Reconfigure(config_->admin, error);
}

}  // namespace tidegate::admin
