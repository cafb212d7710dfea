// The binary upgrade as the Server sees it (SIGUSR2, nginx's convention).
// proxy/ knows only this interface; app/binary_upgrade.h implements it
// (spawning a process is not the proxy core's business).
//
// Contract: every method runs on the control thread (the thread running the
// Server's control base). The agent is borrowed by the Server and must
// outlive it.
#pragma once

#include <event2/event.h>

#include <functional>
#include <vector>

#include "proxy/error_log.h"
#include "proxy/listen_handover.h"

namespace tidegate::proxy {

class UpgradeAgent {
 public:
  virtual ~UpgradeAgent() = default;

  // The sockets the previous process handed over (empty on a plain start).
  // The Server takes the ones matching its addresses in Run() before any
  // bind, and closes the rest once serving.
  virtual InheritedSockets& inherited() = 0;

  // Run() calls this once the process serves (control plane and workers
  // started, adopted sockets accepting), on every start: tells the previous
  // process, if any, that it may stop accepting and drain (and records this
  // process as the serving one, e.g. in a pid file).
  virtual void AnnounceServing(ErrorLog& log) = 0;

  // SIGUSR2: starts the binary again with the same arguments and hands it
  // `sockets` (borrowed; they stay open here). Returns at once; later, on
  // the control thread, calls `on_serving` once the new process announced
  // itself (the Server then drains), or logs why it failed and keeps
  // this process serving (the agent may then be asked again). A request
  // while one is in progress is refused with a log line (returns false).
  virtual bool Begin(event_base* control_base, const std::vector<ListenSocket>& sockets,
                     ErrorLog& log, std::function<void()> on_serving) = 0;

  // Drain or shutdown of this process: an upgrade in progress is abandoned
  // (the half-started process is told to stop). Idempotent.
  virtual void Abandon() = 0;
};

}  // namespace tidegate::proxy
