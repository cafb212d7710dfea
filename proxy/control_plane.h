// A hook for control-thread services that are not part of the proxy core
// (today the admin API): the Server starts, reconfigures and stops it, and
// lends it read-only views of what the core counts. proxy/ knows only this
// interface; app/ implements it (dependency direction: features depend on
// proxy/, never the reverse).
//
// Contract: every method of ControlPlane and ControlPlaneHost runs on the
// control thread (the thread running `control_base`).
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "proxy/error_log.h"
#include "proxy/listen_handover.h"
#include "proxy/worker_stats.h"

namespace tidegate::proxy {

// What the Server lends a control plane. Valid from Start() until Stop().
class ControlPlaneHost {
 public:
  virtual ~ControlPlaneHost() = default;
  // Every running worker's counters (read them with relaxed loads only, as
  // WorkerStats allows). Empty before the workers start.
  virtual std::vector<const WorkerStats*> WorkerStatsList() const = 0;
  // SIGHUP reloads applied / refused since start.
  virtual uint64_t ConfigReloads() const = 0;
  virtual uint64_t ConfigReloadFailures() const = 0;
  // The process's error log (thread-safe, shared).
  virtual ErrorLog& error_log() const = 0;
  // Binary upgrade: the listening socket the previous process handed over
  // under `key` (proxy/listen_handover.h, e.g. AdminListenKey(...)), whose
  // ownership passes to the caller; -1 when there is none (bind as usual).
  virtual int TakeInheritedSocket(const std::string& /*key*/) const { return -1; }
};

class ControlPlane {
 public:
  virtual ~ControlPlane() = default;

  // After the control base, the logs and the first snapshot exist, after the
  // shop addresses were probed free and before the workers start. False +
  // *error ("admin: …") refuses to start the process. `host` must outlive
  // Stop().
  virtual bool Start(event_base* control_base, std::shared_ptr<const config::Config> config,
                     const ControlPlaneHost& host, std::string* error) = 0;

  // Before a SIGHUP reload is applied (the new configuration loaded and
  // checked): false + *error refuses it, the running configuration stays
  // (e.g. the new file takes the signing key from a room the operators
  // switched on at run time). Accepts by default.
  virtual bool AcceptsReload(const config::Config& /*config*/, std::string* /*error*/) const {
    return true;
  }

  // After each successful SIGHUP reload (the new snapshot is published).
  // Problems are logged by the control plane; the reload itself stands.
  virtual void Reconfigure(std::shared_ptr<const config::Config> config) = 0;

  // At drain start (stop serving: close listeners) and again before the
  // control base is freed. Idempotent; nothing of the base is used afterwards.
  virtual void Stop() = 0;

  // Binary upgrade (SIGUSR2), while started: the sockets this control plane
  // listens on, with their keys (fds borrowed), handed to the new process.
  virtual std::vector<ListenSocket> ListenSockets() const { return {}; }

  // Binary upgrade, before the new process starts: write out what the new
  // process must read at its start (e.g. the local state file). Nothing to
  // do by default.
  virtual void BeforeHandover() {}

  // Binary upgrade, once the new process serves and before this one drains:
  // stop writing what the new process now owns (the local state file).
  virtual void AfterHandover() {}
};

}  // namespace tidegate::proxy
