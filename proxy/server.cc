#include "proxy/server.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "common/timeval.h"
#include "proxy/listener.h"

namespace tidegate::proxy {
namespace {

std::vector<std::string> ListenTexts(const config::Config& config) {
  std::vector<std::string> out;
  for (const auto& a : config.server.listen) out.push_back(a.text);
  return out;
}

// [server.tls] listen; "none" when the section is absent (adding or
// removing it changes the listeners too).
std::vector<std::string> TlsListenTexts(const config::Config& config) {
  if (!config.server.tls) return {"none"};
  std::vector<std::string> out;
  for (const auto& a : config.server.tls->listen) out.push_back(a.text);
  return out;
}

using common::ToTimeval;

// The keys a reload does not apply that differ from what runs ("" when
// none), e.g. "server.workers, site.time_zone".
std::string RestartOnlyChanges(const config::Config& running, int running_workers,
                               const config::Config& next) {
  std::vector<std::string> keys;
  if (ListenTexts(running) != ListenTexts(next)) keys.push_back("server.listen");
  if (TlsListenTexts(running) != TlsListenTexts(next)) keys.push_back("server.tls.listen");
  if (ResolveWorkerCount(next) != running_workers) keys.push_back("server.workers");
  if (running.server.error_log != next.server.error_log) keys.push_back("server.error_log");
  if (running.server.access_log != next.server.access_log) keys.push_back("server.access_log");
  // Pages format local times with libc's zone, set once before the workers
  // start (app/main.cc): changing TZ under running threads is not safe.
  if (running.site.time_zone != next.site.time_zone) keys.push_back("site.time_zone");
  // The state files are opened at start (app/state_persistence.h).
  if (running.state.path != next.state.path) keys.push_back("state.path");
  std::string out;
  for (const std::string& key : keys) out += (out.empty() ? "" : ", ") + key;
  return out;
}

}  // namespace

Server::Server(ConfigSource& source, const FilterChainBuilder& filters, ControlPlane* control_plane)
    : source_(source), filters_(filters), control_plane_(control_plane) {}

Server::~Server() {
  StopControlPlane();                            // before base_ is freed
  if (upgrade_ != nullptr) upgrade_->Abandon();  // its events live on base_
  StopWorkers();
  workers_.clear();
  signal_events_.clear();
  worker_event_.reset();
  drain_timer_.reset();
}

bool Server::Prepare(const std::shared_ptr<const config::Config>& config,
                     std::vector<config::Address>* addresses) {
  signal(SIGPIPE, SIG_IGN);
  base_.reset(event_base_new());
  if (!base_) {
    fprintf(stderr, "tidegate: cannot create the event loop\n");
    return false;
  }
  const config::ServerConfig& server = config->server;
  std::string error;
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(server.log_level, &level);
  error_log_ = ErrorLog::Open(server.error_log, level, &error);
  if (!error_log_) {
    fprintf(stderr, "tidegate: %s\n", error.c_str());
    return false;
  }
  access_log_ = AccessLog::Open(server.access_log, &error);
  if (!access_log_ && !error.empty()) {
    fprintf(stderr, "tidegate: %s\n", error.c_str());
    return false;
  }
  snapshot_ = BuildSnapshot(config, filters_, generation_, &error);
  if (!snapshot_) {
    fprintf(stderr, "tidegate: %s\n", error.c_str());
    return false;
  }
  running_config_ = config;
  running_workers_ = snapshot_->workers;
  // Case 33: refuse to share a port with another process.
  *addresses = server.listen;
  if (server.tls)
    addresses->insert(addresses->end(), server.tls->listen.begin(), server.tls->listen.end());
  if (addresses->empty()) {
    fprintf(stderr, "tidegate: server.listen: no listen address configured\n");
    return false;
  }
  const size_t plain = server.listen.size();
  for (size_t i = 0; i < addresses->size(); ++i) {
    const config::Address& address = (*addresses)[i];
    // A socket handed over by the previous process is in use by design.
    if (upgrade_ != nullptr && upgrade_->inherited().Has(ShopListenKey(i >= plain, address.text)))
      continue;
    if (!ProbeAddressFree(address, &error)) {
      fprintf(stderr, "tidegate: %s\n", error.c_str());
      return false;
    }
  }
  return true;
}

bool Server::BindWorkers(const config::ServerConfig& server, std::string* error) {
  const int count = snapshot_->workers;
  const uint32_t share =
      std::max<uint32_t>(1, (server.max_connections + count - 1) / static_cast<uint32_t>(count));
  // Handed-over sockets of one address are dealt out round-robin: every
  // one of them keeps being accepted from (closing one would reset the
  // connections queued on it); workers beyond their number bind their own.
  std::vector<std::map<std::string, std::vector<int>>> adopted(count);
  if (upgrade_ != nullptr) {
    auto deal = [&](bool tls, const std::vector<config::Address>& list) {
      for (const config::Address& address : list) {
        std::string key = ShopListenKey(tls, address.text);
        std::vector<int> fds = upgrade_->inherited().Take(key);
        for (size_t j = 0; j < fds.size(); ++j) adopted[j % count][key].push_back(fds[j]);
      }
    };
    deal(false, server.listen);
    if (server.tls) deal(true, server.tls->listen);
  }
  for (int i = 0; i < count; ++i) {
    Worker::Options options;
    options.index = i;
    options.error_log = error_log_;
    options.access_sink = access_log_ ? access_log_->NewSink() : nullptr;
    options.observer = this;
    options.max_connections = share;
    options.adopted = std::move(adopted[i]);
    auto worker = std::make_unique<Worker>(std::move(options), snapshot_);
    if (!worker->Bind(error)) return false;
    workers_.push_back(std::move(worker));
  }
  return true;
}

void Server::FinishAdoption() {
  listen_sockets_.clear();
  for (const auto& worker : workers_) {
    std::vector<ListenSocket> own = worker->ListenSockets();
    listen_sockets_.insert(listen_sockets_.end(), own.begin(), own.end());
  }
  if (control_plane_started_) {
    std::vector<ListenSocket> admin = control_plane_->ListenSockets();
    listen_sockets_.insert(listen_sockets_.end(), admin.begin(), admin.end());
  }
  if (upgrade_ == nullptr) return;
  for (const std::string& key : upgrade_->inherited().CloseRest()) {
    // An address the new configuration no longer has: its queued
    // connections are reset with the socket.
    error_log_->Write(LogLevel::kWarn, "upgrade.unused_socket." + key,
                      "handed-over socket \"" + key + "\" is not configured any more; closed");
  }
  upgrade_->AnnounceServing(*error_log_);
}

int Server::TakeInheritedSocket(const std::string& key) const {
  if (upgrade_ == nullptr) return -1;
  std::vector<int> fds = upgrade_->inherited().Take(key);
  if (fds.empty()) return -1;
  for (size_t i = 1; i < fds.size(); ++i) close(fds[i]);
  return fds[0];
}

void Server::Upgrade() {
  if (draining_) {
    error_log_->Write(LogLevel::kWarn, "upgrade.refused",
                      "SIGUSR2 ignored: this process is draining");
    return;
  }
  if (upgrade_ == nullptr) {
    error_log_->Write(LogLevel::kWarn, "upgrade.refused",
                      "SIGUSR2 ignored: binary upgrade is not available in this process");
    return;
  }
  if (control_plane_started_) control_plane_->BeforeHandover();
  upgrade_->Begin(base_.get(), listen_sockets_, *error_log_, [this] {
    if (draining_) return;
    if (control_plane_started_) control_plane_->AfterHandover();
    BeginDrain(Worker::DrainMode::kHandover);
  });
}

int Server::Run(std::shared_ptr<const config::Config> config) {
  std::vector<config::Address> addresses;
  if (!Prepare(config, &addresses)) return 1;
  const config::ServerConfig& server = config->server;
  std::string error;

  // Signal handlers first: the port accepts as soon as the first worker
  // starts, and a SIGHUP sent at that moment must not kill the process.
  for (int signal_number : {SIGHUP, SIGTERM, SIGINT, SIGUSR2}) {
    EventPtr event(evsignal_new(base_.get(), signal_number, &Server::OnSignal, this));
    event_add(event.get(), nullptr);
    signal_events_.push_back(std::move(event));
  }
  worker_event_.reset(event_new(base_.get(), -1, 0, &Server::OnWorkerEvent, this));
  drain_timer_.reset(evtimer_new(base_.get(), &Server::OnDrainTimeout, this));
  // Every listener first (case 33, audit 18 LOW-2): a process that cannot
  // have all of them (a port taken by a running instance) fails before
  // anything is written on its behalf. The shop sockets are bound (or
  // adopted) here, and listen only once the workers start, below.
  if (!BindWorkers(server, &error)) {
    fprintf(stderr, "tidegate: %s\n", error.c_str());
    StopWorkers();
    return 1;
  }
  // Before the workers run: a control plane that cannot start (admin port
  // taken) refuses the process before any shop connection is accepted.
  if (control_plane_ != nullptr) {
    if (!control_plane_->Start(base_.get(), config, *this, &error)) {
      fprintf(stderr, "tidegate: %s\n", error.c_str());
      StopWorkers();
      return 1;
    }
    control_plane_started_ = true;
  }
  if (before_serving_ && !before_serving_(&error)) {
    fprintf(stderr, "tidegate: %s\n", error.c_str());
    StopControlPlane();
    StopWorkers();
    return 1;
  }
  for (auto& worker : workers_) {
    if (!worker->Start(&error)) {
      fprintf(stderr, "tidegate: %s\n", error.c_str());
      StopControlPlane();
      StopWorkers();
      return 1;
    }
  }
  const int count = snapshot_->workers;
  for (int i = 0; i < count; ++i) {
    for (const config::Address& address : addresses) {
      fprintf(stderr, "tidegate: listening on %s (worker %d)\n", address.text.c_str(), i);
    }
  }
  fflush(stderr);
  error_log_->Write(LogLevel::kInfo, "server.start",
                    "tidegate " TIDEGATE_VERSION " started with " + std::to_string(count) +
                        " worker(s), pid " + std::to_string(getpid()));
  WriteConfigWarnings(*config);
  FinishAdoption();

  event_base_loop(base_.get(), EVLOOP_NO_EXIT_ON_EMPTY);

  StopControlPlane();
  for (auto& worker : workers_) worker->Join();
  error_log_->Write(LogLevel::kInfo, "server.stop", "tidegate stopped");
  return 0;
}

void Server::OnSignal(evutil_socket_t signal_number, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  if (signal_number == SIGHUP) {
    self->Reload();
  } else if (signal_number == SIGUSR2) {
    self->Upgrade();
  } else {
    self->BeginDrain(Worker::DrainMode::kCloseIdle);
  }
}

void Server::Reload() {
  error_log_->Reopen();
  if (access_log_) access_log_->Reopen();
  if (draining_) return;
  std::vector<std::string> errors;
  std::shared_ptr<const config::Config> config = source_.Load(&errors);
  if (!config) {
    ++reloads_failed_;
    error_log_->Write(LogLevel::kError, "config.reload",
                      "reload failed; keeping the running configuration (" +
                          std::to_string(errors.size()) + " error(s))");
    for (size_t i = 0; i < errors.size(); ++i) {
      // One key per error line, so the rate limit never hides one.
      error_log_->Write(LogLevel::kError, "config.error." + std::to_string(i), errors[i]);
    }
    return;
  }
  std::string error;
  if (control_plane_started_ && !control_plane_->AcceptsReload(*config, &error)) {
    ++reloads_failed_;
    error_log_->Write(LogLevel::kError, "config.reload",
                      "reload refused; keeping the running configuration: " + error);
    return;
  }
  // Served by the workers that run (health, per-worker shares), whatever
  // [server].workers now says.
  auto snapshot = BuildSnapshot(config, filters_, generation_ + 1, &error, running_workers_);
  if (!snapshot) {
    ++reloads_failed_;
    error_log_->Write(LogLevel::kError, "config.reload",
                      "reload failed; keeping the running configuration: " + error);
    return;
  }
  std::string pending = RestartOnlyChanges(*running_config_, running_workers_, *config);
  if (!pending.empty()) {
    error_log_->Write(LogLevel::kWarn, "config.restart_needed",
                      pending +
                          " changed: applied at the next restart only (restart "
                          "tidegate); everything else is reloaded");
  }
  ++generation_;
  snapshot_ = std::move(snapshot);
  for (auto& worker : workers_) worker->PublishSnapshot(snapshot_);
  ++reloads_ok_;
  if (control_plane_started_) control_plane_->Reconfigure(snapshot_->config);
  error_log_->Write(LogLevel::kInfo, "config.reload",
                    "configuration reloaded (generation " + std::to_string(generation_) + ")");
  WriteConfigWarnings(*snapshot_->config);
}

void Server::WriteConfigWarnings(const config::Config& config) {
  // One key per line, so the rate limit never hides one (as config.error.N).
  for (size_t i = 0; i < config.warnings.size(); ++i) {
    error_log_->Write(LogLevel::kWarn, "config.warning." + std::to_string(i), config.warnings[i]);
  }
}

void Server::BeginDrain(Worker::DrainMode mode) {
  if (upgrade_ != nullptr && mode == Worker::DrainMode::kCloseIdle) upgrade_->Abandon();
  if (draining_) {
    // A second SIGTERM/SIGINT: stop now.
    StopWorkers();
    event_base_loopexit(base_.get(), nullptr);
    return;
  }
  draining_ = true;
  error_log_->Write(LogLevel::kInfo, "server.drain", "draining in-flight requests");
  StopControlPlane();
  listen_sockets_.clear();
  for (auto& worker : workers_) worker->BeginDrain(mode);
  timeval tv = ToTimeval(snapshot_->config->server.drain_timeout);
  evtimer_add(drain_timer_.get(), &tv);
}

void Server::OnWorkerDrained(int) {
  // Worker thread: post to the control thread.
  drained_workers_.fetch_add(1);
  event_active(worker_event_.get(), EV_READ, 0);
}

void Server::OnWorkerEvent(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  if (self->drained_workers_.load() >= static_cast<int>(self->workers_.size())) {
    event_base_loopexit(self->base_.get(), nullptr);
  }
}

void Server::OnDrainTimeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  self->error_log_->Write(LogLevel::kWarn, "server.drain",
                          "drain_timeout reached; closing the remaining connections");
  self->StopWorkers();
  event_base_loopexit(self->base_.get(), nullptr);
}

std::vector<const WorkerStats*> Server::WorkerStatsList() const {
  std::vector<const WorkerStats*> out;
  out.reserve(workers_.size());
  for (const auto& worker : workers_) out.push_back(&worker->stats());
  return out;
}

void Server::StopControlPlane() {
  if (!control_plane_started_) return;
  control_plane_started_ = false;
  control_plane_->Stop();
}

void Server::StopWorkers() {
  for (auto& worker : workers_) worker->ForceStop();
  for (auto& worker : workers_) worker->Join();
}

}  // namespace tidegate::proxy
