#include "app/config_checks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "admin/admin_runtime.h"
#include "app/state_persistence.h"
#include "banner/banner_content.h"
#include "config/loader.h"
#include "maintenance/maintenance_page.h"
#include "pages/page_template.h"
#include "proxy/tls_context.h"
#include "queue/queue_page.h"
#include "status/status_template.h"

namespace tidegate::app {
namespace {

// Collects the errors of one configuration, keyed by their dotted path.
class Report {
 public:
  explicit Report(const config::Config& config) : config_(config) {}

  // An error about `key`, at the position where it was set; at the first
  // configuration file, without a position, when the key was not written
  // (a default value).
  void Add(const std::string& key, std::string message) {
    config::ConfigError error;
    auto it = config_.positions.find(key);
    if (it != config_.positions.end()) {
      error.file = it->second.file;
      error.line = it->second.line;
      error.column = it->second.column;
    } else {
      error.file = config_.source_files.empty() ? std::string("(configuration)")
                                                : config_.source_files.front();
    }
    error.key = key;
    error.message = std::move(message);
    lines_.push_back(config::FormatError(error));
  }
  // A line already placed (a template's "file:line:col: message").
  void AddLine(std::string line) { lines_.push_back(std::move(line)); }

  std::vector<std::string> Take() { return std::move(lines_); }

 private:
  const config::Config& config_;
  std::vector<std::string> lines_;
};

std::string FolderOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Quoted(const std::string& path) { return "\"" + path + "\""; }

// "" when `path` can be opened for append the way the logs open it
// (O_CREAT | O_APPEND), else why not. Creates and truncates nothing.
std::string CheckAppendable(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Quoted(path) + " is a folder, not a file";
    if (!S_ISREG(st.st_mode)) {
      // A FIFO or a device (/dev/stdout): opening could block; ask.
      if (access(path.c_str(), W_OK) != 0) return Quoted(path) + ": " + strerror(errno);
      return "";
    }
    int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return "cannot open " + Quoted(path) + " for append: " + strerror(errno);
    close(fd);
    return "";
  }
  if (errno != ENOENT) return Quoted(path) + ": " + strerror(errno);
  // Absent: created at start, in a folder that must exist and be writable.
  std::string folder = FolderOf(path);
  if (stat(folder.c_str(), &st) != 0) {
    return "cannot create " + Quoted(path) + ": folder " + Quoted(folder) + ": " + strerror(errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return "cannot create " + Quoted(path) + ": " + Quoted(folder) + " is not a folder";
  }
  if (access(folder.c_str(), W_OK | X_OK) != 0) {
    return "cannot create " + Quoted(path) + " in folder " + Quoted(folder) + ": " +
           strerror(errno);
  }
  return "";
}

// "" when `folder` is a folder or can be created (mkdir -p, as
// state::EnsureStateFolder does at start), else why not. Creates nothing.
std::string CheckFolderCreatable(const std::string& folder) {
  struct stat st {};
  if (stat(folder.c_str(), &st) == 0) {
    return S_ISDIR(st.st_mode) ? "" : Quoted(folder) + " exists and is not a folder";
  }
  if (errno != ENOENT) return Quoted(folder) + ": " + strerror(errno);
  // The nearest existing parent must be a folder we may create in.
  std::string parent = folder;
  while (true) {
    std::string up = FolderOf(parent);
    if (up == parent) break;
    parent = up;
    if (stat(parent.c_str(), &st) == 0) break;
    if (errno != ENOENT) return Quoted(parent) + ": " + strerror(errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return "cannot create " + Quoted(folder) + ": " + Quoted(parent) + " is not a folder";
  }
  if (access(parent.c_str(), W_OK | X_OK) != 0) {
    return "cannot create " + Quoted(folder) + " in " + Quoted(parent) + ": " + strerror(errno);
  }
  return "";
}

void CheckLogs(const config::Config& config, Report* report) {
  // "-" is stderr / stdout, "" (access_log) is off.
  const config::ServerConfig& server = config.server;
  if (!server.error_log.empty() && server.error_log != "-") {
    std::string problem = CheckAppendable(server.error_log);
    if (!problem.empty()) report->Add("server.error_log", problem);
  }
  if (!server.access_log.empty() && server.access_log != "-") {
    std::string problem = CheckAppendable(server.access_log);
    if (!problem.empty()) report->Add("server.access_log", problem);
  }
  std::string audit =
      config.admin.audit_log.empty() ? admin::DefaultAuditLogPath(config) : config.admin.audit_log;
  std::string problem = CheckAppendable(audit);
  if (!problem.empty()) {
    if (config.admin.audit_log.empty()) problem += " (the default audit log)";
    report->Add("admin.audit_log", problem);
  }
}

void CheckStateFolder(const config::Config& config, Report* report) {
  // With backend = "redis" the folder only holds a copy: a start without
  // it warns and goes on (app/state_persistence.cc), so it is no error.
  if (config.state.backend != config::StateBackend::kLocal) return;
  std::string problem = CheckFolderCreatable(StateFolder(config));
  if (problem.empty()) return;
  if (config.state.path.empty()) problem += " (the default state folder)";
  report->Add("state.path", "state folder: " + problem);
}

void CheckTls(const config::Config& config, Report* report) {
  const auto& tls = config.server.tls;
  // As BuildSnapshot (proxy/snapshot.cc): loaded when something listens.
  if (tls && !tls->listen.empty()) {
    bool each_loads = true;
    for (size_t i = 0; i < tls->certificates.size(); ++i) {
      config::TlsConfig one;
      one.certificates.push_back(tls->certificates[i]);
      std::string error;
      if (!proxy::TlsContext::Load(one, &error)) {
        report->Add("server.tls.certificates[" + std::to_string(i) + "].cert", error);
        each_loads = false;
      }
    }
    std::string error;
    if (each_loads && !proxy::TlsContext::Load(*tls, &error)) report->Add("server.tls", error);
  }
  if (config.admin.tls) {
    // As AdminServer::LoadTls (admin/admin_server.cc).
    config::TlsConfig one;
    one.certificates.push_back(*config.admin.tls);
    std::string error;
    if (!proxy::TlsContext::Load(one, &error)) report->Add("admin.tls.cert", error);
  }
}

void CheckTemplates(const config::Config& config, Report* report) {
  const config::SiteConfig& site = config.site;
  if (site.templates_dir.empty()) return;  // the built-in templates
  // The same builders the features use at start (each parses its file and,
  // for the queue page, checks its slots).
  std::string error;
  if (!banner::BannerContent::Create(site, &error)) report->AddLine(error);
  error.clear();
  if (!maintenance::MaintenancePage::Create(site, &error)) report->AddLine(error);
  error.clear();
  std::string room = config.rooms.empty() ? std::string("shop") : config.rooms.front().name;
  if (!queue::QueuePage::Build(site, room, 5, &error)) report->AddLine(error);
  error.clear();
  if (!pages::PageTemplate::Load(site.templates_dir, "status.html", status::kBuiltinStatusTemplate,
                                 &error)) {
    report->AddLine(error);
  }
}

}  // namespace

std::vector<std::string> CheckConfigResources(const config::Config& config) {
  Report report(config);
  CheckTls(config, &report);
  CheckLogs(config, &report);
  CheckStateFolder(config, &report);
  CheckTemplates(config, &report);
  return report.Take();
}

}  // namespace tidegate::app
