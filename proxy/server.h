// The control thread: owns the configuration, the logs and the workers;
// handles signals (SIGHUP reload, SIGTERM/SIGINT drain, SIGUSR2 binary
// upgrade through an UpgradeAgent); publishes snapshots.
//
// Contract: Run() is called once, on the main thread, after
// evthread_use_pthreads(). It returns the process exit code: 0 after a clean
// drain, 1 when start-up failed (the reason is printed to stderr).
// An optional ControlPlane (proxy/control_plane.h, e.g. the admin API wired
// in by app/) is started on the control thread before the workers, told of
// every successful reload, and stopped at drain start; the Server is its
// ControlPlaneHost (worker counters, reload counts, error log).
// With an UpgradeAgent (proxy/upgrade_agent.h), listening sockets handed over
// by a previous process are adopted instead of bound (an address that has
// one is not probed), and SIGUSR2 hands this process's sockets to a new one,
// then drains (Worker::DrainMode::kHandover) once it serves.
//
// Start-up order: every shop and TLS socket bound (not listening yet) or
// adopted, then the control plane started (it binds or adopts the admin
// listener), then the BeforeServing callback (the first moment the process
// knows it will serve: app/ writes its state folder only from there), then
// the workers (listen(), threads).
// A start that fails before the callback never calls it.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "proxy/access_log.h"
#include "proxy/control_plane.h"
#include "proxy/error_log.h"
#include "proxy/libevent_handles.h"
#include "proxy/snapshot.h"
#include "proxy/upgrade_agent.h"
#include "proxy/worker.h"

namespace tidegate::proxy {

// Where configuration comes from (the binary wires config::LoadConfig in).
class ConfigSource {
 public:
  virtual ~ConfigSource() = default;
  // Control thread. On failure returns nullptr and fills *errors with
  // "file:line:col key: message" lines.
  virtual std::shared_ptr<const config::Config> Load(std::vector<std::string>* errors) = 0;
};

class Server : public Worker::Observer, public ControlPlaneHost {
 public:
  // `control_plane` (may be null) is borrowed and must outlive the Server.
  Server(ConfigSource& source, const FilterChainBuilder& filters,
         ControlPlane* control_plane = nullptr);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts with `config` (already loaded and validated) and serves until
  // drained. Blocks.
  int Run(std::shared_ptr<const config::Config> config);

  // Before Run(). `agent` is borrowed and must outlive the Server. Without
  // one, SIGUSR2 is refused with a log line.
  void SetUpgradeAgent(UpgradeAgent* agent) { upgrade_ = agent; }

  // Before Run(). Called once by Run(), on the control thread, when every
  // listener (shop, TLS, admin) is bound or adopted and before any worker
  // accepts; false (with *error, printed to stderr) refuses the start.
  using BeforeServing = std::function<bool(std::string* error)>;
  void SetBeforeServing(BeforeServing callback) { before_serving_ = std::move(callback); }

  // ControlPlaneHost (control thread).
  std::vector<const WorkerStats*> WorkerStatsList() const override;
  uint64_t ConfigReloads() const override { return reloads_ok_; }
  uint64_t ConfigReloadFailures() const override { return reloads_failed_; }
  ErrorLog& error_log() const override { return *error_log_; }
  int TakeInheritedSocket(const std::string& key) const override;

 private:
  static void OnSignal(evutil_socket_t signal, short, void* arg);
  static void OnWorkerEvent(evutil_socket_t, short, void* arg);
  static void OnDrainTimeout(evutil_socket_t, short, void* arg);

  // Run(), first part: event loop, logs, first snapshot, listen addresses
  // (each probed free). False after printing why to stderr.
  bool Prepare(const std::shared_ptr<const config::Config>& config,
               std::vector<config::Address>* addresses);
  void Reload();
  // config.warnings (config/config.h) to the error log, at start and after a reload.
  void WriteConfigWarnings(const config::Config& config);
  // Creates the workers and binds (or adopts) their listeners; Run() starts
  // them afterwards (Worker::Start: listen, thread).
  bool BindWorkers(const config::ServerConfig& server, std::string* error);
  // Run(), once serving: what a later SIGUSR2 hands over, leftovers closed,
  // the previous process told.
  void FinishAdoption();
  void Upgrade();
  void BeginDrain(Worker::DrainMode mode);
  void OnWorkerDrained(int worker) override;  // worker thread
  void StopWorkers();
  void StopControlPlane();

  ConfigSource& source_;
  const FilterChainBuilder& filters_;
  ControlPlane* control_plane_;               // borrowed, may be null
  UpgradeAgent* upgrade_ = nullptr;           // borrowed, may be null
  BeforeServing before_serving_;              // may be empty
  std::vector<ListenSocket> listen_sockets_;  // shop and admin, for SIGUSR2
  bool control_plane_started_ = false;
  uint64_t reloads_ok_ = 0;
  uint64_t reloads_failed_ = 0;
  EventBasePtr base_;
  std::shared_ptr<ErrorLog> error_log_;
  std::unique_ptr<AccessLog> access_log_;  // outlives the workers (declared first)
  std::shared_ptr<const Snapshot> snapshot_;
  // The configuration the process started with: its listen addresses,
  // worker count, log paths, time zone and state folder stay in force until
  // a restart, so a reload is compared with it (not with the previous
  // reload: a change that was reverted needs no restart).
  std::shared_ptr<const config::Config> running_config_;
  int running_workers_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<EventPtr> signal_events_;
  EventPtr worker_event_;
  EventPtr drain_timer_;
  std::atomic<int> drained_workers_{0};
  bool draining_ = false;
  uint64_t generation_ = 1;
};

}  // namespace tidegate::proxy
