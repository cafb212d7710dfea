// Keeps one snapshot's origin servers current off the request path:
// re-resolves host names every [upstream].resolve_interval (keeping the last
// good answer when DNS fails) and runs the active health checks of
// [upstream.health] (rise/fall), on a thread of its own.
//
// Contract:
// * Built on the control thread by BuildSnapshot with the addresses resolved
//   at load; owned by the Snapshot (shared_ptr). The thread starts only when
//   there is work: a host name among the servers or a health-check path.
// * Workers read addresses() through Published (one acquire load per read,
//   proxy/published.h) and healthy(i) (a relaxed atomic); neither blocks.
// * The thread blocks in getaddrinfo and poll(), never a worker. It is
//   detached: ~UpstreamMonitor() only tells it to stop (it ends after its
//   current lookup or check, bounded by the health timeout) and never waits,
//   so dropping the last snapshot reference on a worker costs nothing.
//   After ~UpstreamMonitor() returns the thread touches nothing outside its
//   own shared state (the HealthBoard may then be destroyed).
// * Reports (addresses, checks, resolve errors) go to the HealthBoard
//   (may be null) after each round, for /v1/state, /metrics and
//   /.tidegate/health.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "config/config.h"
#include "proxy/health_board.h"
#include "proxy/published.h"
#include "proxy/upstream_addresses.h"

namespace tidegate::proxy {

class UpstreamMonitor {
 public:
  UpstreamMonitor(const config::UpstreamConfig& config, std::vector<UpstreamServer> initial,
                  uint64_t generation, HealthBoard* board);
  ~UpstreamMonitor();
  UpstreamMonitor(const UpstreamMonitor&) = delete;
  UpstreamMonitor& operator=(const UpstreamMonitor&) = delete;

  const Published<UpstreamAddresses>& addresses() const;
  // False while server `index` fails its active health checks.
  bool healthy(size_t index) const;
  // The per-server flags, for UpstreamSelector (size = server count).
  const std::atomic<bool>* healthy_flags() const;

  struct Shared;  // between the monitor and its thread (upstream_monitor.cc)

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace tidegate::proxy
