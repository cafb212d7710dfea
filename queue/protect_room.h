// RoomProtection: auto-protection wired into one waiting room's live state
// (one per room, in RoomRuntime, kept across configuration reloads):
// the origin samples of the room's admitted requests (queue/protect_health.h),
// the controller (queue/protect_controller.h), and the effective limits the
// gate, the stores and the wait estimate use.
//
// Data flow:
//   RoomGateFilter::OnUpstreamOutcome ──Record()──▶ OriginHealthWindow
//   RoomRuntime::MaybeTick (store Tick reply) ──OnTick()──▶ ProtectController
//   WaitingRoom::Limits ──Apply()──▶ RoomLimits with the effective
//       total_active_users / new_users_per_minute (≤ the limits in force)
//
// Contract:
// * Thread-safe. Apply() and Record() run on workers for every request of
//   the room: Apply() reads atomics only (no lock); Record() takes the
//   window's mutex for a few increments, and only while protection is on.
//   OnTick() and status() take the controller's mutex (once per tick).
// * Configure() runs on the control thread when a snapshot is built.
// * Shared decisions (several instances on Redis): an instance that is not
//   the room's writer calls set_decides(false) and Adopt()s the writer's
//   state; it still records its own samples (status() shows them).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "config/config.h"
#include "proxy/filter.h"
#include "queue/protect_controller.h"
#include "queue/protect_health.h"
#include "queue/room_store.h"

namespace tidegate::queue {

// What GET /v1/state, `ctl state` and /metrics show of a room's protection.
struct ProtectStatus {
  bool enabled = false;
  ProtectSettings settings;
  ProtectCeilings ceilings;  // the limits in force without protection
  ProtectLimits effective;   // what the room applies now
  OriginHealth measured;     // this instance's samples, last 2 s
  ProtectState state;        // the last decision (move, reason, when)
  bool limiting() const {
    return enabled && (effective.total_active_users < ceilings.total_active_users ||
                       effective.new_users_per_minute < ceilings.new_users_per_minute);
  }
};

// True when an origin outcome counts as an error for max_error_rate: a
// status >= 500, a connect failure, a timeout, a reset before the head.
bool IsOriginError(const proxy::UpstreamOutcome& outcome);

class RoomProtection {
 public:
  // The room's [rooms.NAME.protect] (control thread, each snapshot). Turning
  // protection on starts from a fresh controller (slow start).
  void Configure(const config::RoomConfig::Protect& protect);
  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
  // The operators' run-time switch (PATCH /v1/rooms {"protect": …}, the
  // effective value state::EffectiveRoom::protect), applied by
  // WaitingRoom::Limits on every request: one atomic load when unchanged.
  // Switching on starts from a fresh controller, as Configure() does.
  void Switch(bool on);

  // One forwarded exchange of the room (worker). Ignored while off. A
  // sample slower than target_latency is accounted at the moment it
  // crossed the target (now - latency + target), not when it ended: until
  // then it was in flight and read as slow (Begin), and an answer (a 504
  // after response_timeout) that ends an exchange older than the window
  // says nothing about the origin now — after an origin recovers, its stale
  // timeouts must not shut the door.
  void Record(int64_t now_ms, const proxy::UpstreamOutcome& outcome);

  // What one exchange recorded so far (the gate keeps one per exchange).
  struct ExchangeSample {
    int64_t recorded_ms = -1;  // when its sample was recorded; -1 = none yet
    bool error = false;        // the sample counts as an error
    int64_t started_ms = -1;   // in flight since (Begin); -1 = not in flight
  };
  // The origin has the whole request (worker; the gate, when an admitted
  // shopper's request was handed on to the origin to its last byte: the
  // time a client takes to upload is not the origin's): in flight until
  // its first outcome, or End() when it ends without one. While in flight
  // for longer than target_latency it reads as a slow sample (F3: an
  // origin that stops answering must not read as healthy). Ignored while
  // off (an exchange begun while on is always ended).
  void Begin(int64_t now_ms, ExchangeSample* sample);
  // The exchange ends (OnDestroy): still in flight → no longer. Idempotent.
  void End(ExchangeSample* sample);
  // The outcomes of one exchange, in the order the stream reports them
  // (proxy/filter.h, StreamFilter::OnUpstreamOutcome): the first is
  // recorded as Record() does; a later one is the exchange's final outcome
  // (the origin's response replaced by the proxy's 502): when it is an
  // error and the sample was not, the sample becomes an error. One exchange
  // is one sample whatever the number of calls. Ignored while off.
  void Record(int64_t now_ms, const proxy::UpstreamOutcome& outcome, ExchangeSample* sample);

  // The room's limits in force (configuration + overrides) → the limits to
  // apply: unchanged while off or before the first decision; otherwise
  // total_active_users and new_users_per_minute lowered to the controller's.
  // Remembers `ceilings` for the next decision. Lock-free.
  RoomLimits Apply(const RoomLimits& ceilings);
  // The same without remembering `ceilings` (reports read at scrape time).
  RoomLimits Effective(const RoomLimits& ceilings) const;

  // The room's counters after a tick (any thread): runs the controller
  // (at most one decision per ProtectController::kDecisionMillis). Returns
  // true when it decided. Does nothing while off or when not the decider.
  bool OnTick(const RoomCounters& counters, int64_t now_ms);

  // Shared decisions (see above). Adopt() replaces the controller's state
  // and the effective limits with another instance's decision, at the point
  // of its opening ramp at now_ms (the decision's decided_ms is the
  // writer's clock: instances' clocks are assumed synchronised within a
  // small part of a second); a follower's OnTick() moves the ramp on.
  void set_decides(bool decides) { decides_.store(decides, std::memory_order_relaxed); }
  bool decides() const { return decides_.load(std::memory_order_relaxed); }
  void Adopt(const ProtectState& state, int64_t now_ms);

  // For the wait estimate of a full room (queue/eta.h, FullRoomPerSecond):
  // while the controller opens the door — its last decision a start (the
  // slow start from who is inside) or a grow, and the effective active
  // limit below its ceiling — the places it adds a second at least
  // (ProtectController::kStep per kDecisionMillis) and the ceiling it opens
  // up to; otherwise (off, no decision, a cut, a hold, at the ceiling)
  // {0, 0}: a full room is full, its sessions' turnover applies. Lock-free.
  struct DoorOpening {
    double places_per_second = 0;
    uint32_t ceiling = 0;  // total_active_users the door may open up to
  };
  DoorOpening Opening() const;

  ProtectStatus status(int64_t now_ms) const;
  // The same for a report that knows the room's limits in force now
  // (configuration + operators' overrides, e.g. restored from the state
  // file): until a request has shown the ceilings (Apply() never ran since
  // the start), they are `in_force`'s instead of 0/0.
  ProtectStatus status(int64_t now_ms, const RoomLimits& in_force) const;

 private:
  // When a sample of `outcome` ending at now_ms is accounted (see Record).
  int64_t AccountedAt(int64_t now_ms, const proxy::UpstreamOutcome& outcome) const;
  // Under mutex_: the controller's limits at now_ms → the atomics.
  void Publish(int64_t now_ms);
  ProtectStatus StatusWith(const ProtectCeilings& ceilings, int64_t now_ms) const;

  std::atomic<bool> enabled_{false};
  std::atomic<bool> decides_{true};
  // The effective limits (0 = no decision: apply the ceilings).
  std::atomic<uint32_t> effective_active_{0};
  std::atomic<uint32_t> effective_rate_{0};
  // The last decision opens the door (a start or a grow: Opening()).
  std::atomic<bool> opening_{false};
  // The last ceilings Apply() saw.
  std::atomic<uint32_t> ceiling_active_{0};
  std::atomic<uint32_t> ceiling_rate_{0};
  std::atomic<int64_t> target_ms_{500};  // target_latency (Record's accounting)
  OriginHealthWindow window_;
  mutable std::mutex mutex_;
  ProtectController controller_;
};

}  // namespace tidegate::queue
