// RoomRegistry: the waiting rooms' live state, kept across configuration
// reloads (a SIGHUP must not forget who is queued), one RoomRuntime per room
// name.
//
// Contract:
// * Created once by the binary (it must outlive every snapshot and worker);
//   thread-safe. Get() creates the room's store on first use (a
//   LocalRoomStore today; the Redis store will be chosen here by
//   [state].backend).
// * RoomRuntime::MaybeTick() may be called by any worker on any request: at
//   most one Tick() per kTickMillis runs (an atomic compare-and-swap picks
//   the caller), so the queue moves while visitors poll, with no timer.
// * FillMetrics() is for the control thread (/metrics, GET /v1/state).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "admin/metrics.h"
#include "queue/eta.h"
#include "queue/event_marks.h"
#include "queue/room_store.h"

namespace tidegate::queue {

inline constexpr int64_t kTickMillis = 250;

class RoomRuntime {
 public:
  explicit RoomRuntime(std::unique_ptr<RoomStore> store);

  RoomStore& store() { return *store_; }
  // Runs a Tick when the last one is kTickMillis old.
  void MaybeTick(const RoomLimits& limits, int64_t now_ms);
  // Smoothed measured admissions per second; the configured rate until measured.
  double AdmissionsPerSecond(const RoomLimits& limits) const;
  WaitRange EstimateFor(uint64_t position, const RoomLimits& limits) const;

  std::atomic<uint64_t> shadow_would_queue{0};  // shadow mode: would have been queued
  std::atomic<uint64_t> sessions_ended{0};      // Tidegate-Session: end
  std::atomic<uint64_t> bypassed{0};            // bypass rules
  std::atomic<uint64_t> store_errors{0};
  // Scheduled events' marks (queue/event_marks.h).
  EventMarks event_marks;

 private:
  std::unique_ptr<RoomStore> store_;
  std::atomic<int64_t> last_tick_ms_{0};
  mutable std::mutex rate_mutex_;
  AdmissionRate rate_;
};

class RoomRegistry {
 public:
  std::shared_ptr<RoomRuntime> Get(const std::string& room);
  // Appends one RoomMetrics per known room (queued, active, admitted_total,
  // estimated wait of the last visitor in line) and sets
  // room_counters_available. `limits_of` gives the room's settings in force.
  void FillMetrics(const std::function<std::optional<RoomLimits>(const std::string&)>& limits_of,
                   admin::MetricsSnapshot* metrics) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<RoomRuntime>> rooms_;
};

}  // namespace tidegate::queue
