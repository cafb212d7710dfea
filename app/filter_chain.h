// The one place where the request filter chain is assembled, in order (the
// features and proxy's built-in routes; filter_chain.cc says why each sits
// where it does). proxy/ never depends on the features.
#pragma once

#include <chrono>

#include "banner/banner_filter.h"
#include "common/time_source.h"
#include "maintenance/maintenance_gate.h"
#include "proxy/health_board.h"
#include "proxy/published.h"
#include "proxy/snapshot.h"
#include "queue/room_registry.h"
#include "state/runtime_state.h"

namespace tidegate::app {

class TidegateFilterChain : public proxy::FilterChainBuilder {
 public:
  // `runtime_state` (operators' switches) and `health` (what
  // /.tidegate/health reports; the rooms' store failures are added to it
  // here) and `time` (the clock the features read) must outlive every
  // snapshot.
  TidegateFilterChain(std::chrono::steady_clock::time_point started,
                      const proxy::Published<state::RuntimeState>* runtime_state,
                      proxy::HealthBoard* health, const common::TimeSource& time);
  bool Build(const config::Config& config, int workers, proxy::FilterChain* chain,
             std::string* error) const override;
  proxy::HealthBoard* health_board() const override { return health_; }
  // The waiting rooms' live state: kept across reloads (owned here because
  // this object outlives every snapshot). For /metrics and GET /v1/state.
  queue::RoomRegistry& rooms() const { return *rooms_; }
  // The banner's counters, kept across reloads (for /metrics).
  const banner::BannerStats& banner_stats() const { return *banner_stats_; }
  // The maintenance gate's counters by feature, kept across reloads.
  const maintenance::MaintenanceStats& maintenance_stats() const { return *maintenance_stats_; }

 private:
  std::chrono::steady_clock::time_point started_;
  const proxy::Published<state::RuntimeState>* runtime_state_;
  proxy::HealthBoard* health_;
  const common::TimeSource& time_;
  std::shared_ptr<queue::RoomRegistry> rooms_ = std::make_shared<queue::RoomRegistry>();
  std::shared_ptr<banner::BannerStats> banner_stats_ = std::make_shared<banner::BannerStats>();
  std::shared_ptr<maintenance::MaintenanceStats> maintenance_stats_ =
      std::make_shared<maintenance::MaintenanceStats>();
};

}  // namespace tidegate::app
