// RoomRegistry: the waiting rooms' live state, kept across configuration
// reloads (a SIGHUP must not forget who is queued), one RoomRuntime per room
// name.
//
// Contract:
// * Created once by the binary (it must outlive every snapshot and worker);
//   thread-safe. Configure() (control thread, before each WaitingRoom::Build)
//   gives the [state] section; Get() creates a room's store on first use by
//   its [state].backend: a LocalRoomStore (local), or a RedisRoomStore
//   (queue/redis_room_store.h) behind a failover store applying
//   [state].on_failure (redis). A room keeps its store for the process's
//   life: changing backend, address or on_failure needs a restart.
// * Redis connections: one per worker (a slot per worker index, sized by
//   Configure()'s `workers`), made on the worker's first store call, and
//   one for the control thread (TickIdle) in the slot after them.
//   CloseConnections() must run after the workers
//   stopped and before their event_bases are freed: app/main.cc calls it
//   when proxy::Server::Run() has returned (workers joined, bases freed only
//   by ~Server). The destructor closes them too (for tests that own loops).
// * RoomRuntime::MaybeTick() may be called by any worker on any request: at
//   most one Tick() per kTickMillis per process runs (an atomic
//   compare-and-swap picks the caller), so the queue moves while visitors
//   poll, with no timer. With Redis every instance ticks; the script makes
//   extra ticks harmless (the credit is refilled from `last_tick` in Redis).
// * Idle rooms on Redis: ticks follow traffic, so a room nobody visits
//   would never notice Redis failing nor recovering (health would lie).
//   TickIdle() (control thread, once a second: app/admin_control_plane.cc)
//   ticks every Redis room whose last tick is kIdleTickMillis old, on the
//   control thread's own Redis link (the slot after the workers'): at most
//   one store call per room per second, none while the room's retry delay
//   runs (kRetryMillis). It moves the queue as a visitor's poll would, but
//   leaves auto-protection alone (an instance without shoppers must not
//   take the room's decision). Local rooms: nothing to do.
// * on_failure (docs/waiting-room.md, "Failure modes"), for a Redis room:
//   every Redis error counts in store_errors and marks the room degraded for
//   kRetryMillis, during which Redis is not tried (no timeout per visitor);
//   then the next call tries again. While degraded:
//   - local: the room runs on an in-process state seeded from the last
//     counters seen (tickets, serving, active sessions; by a process that
//     has not read them from Redis since its start, those it saved before
//     it: SeedShared() below, plus a margin of numbers), with the full
//     configured limits; tickets issued then are carried back to Redis and
//     carry this process's issuer id (LocalIssuerId()), so that another
//     instance's local numbers, or Redis's, are other tickets: claims are
//     keyed by (number, issuer) (RoomStore::Claim);
//   - open / closed: calls fail (the gate forwards / answers 503).
//   Mark() (scheduled events) never falls back: it fails until Redis is
//   back, so every instance agrees on the marks.
//   Warnings go to the rooms' log (log(): the server's error log, keys
//   room.store and room.store_restored): one at each transition, then at
//   most one per 10 s.
// * Snapshot() is for the control thread (/metrics, GET /v1/state).
#pragma once

#include <event2/event.h>

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "queue/eta.h"
#include "queue/event_marks.h"
#include "queue/join_challenge.h"
#include "queue/local_room_store.h"
#include "queue/pass_networks.h"
#include "queue/protect_room.h"
#include "queue/queue_order.h"
#include "queue/room_abuse.h"
#include "queue/room_log.h"
#include "queue/room_protect_log.h"
#include "queue/room_store.h"
#include "queue/shared_protection.h"
#include "queue/ticket_rate_limit.h"

namespace tidegate::queue {

inline constexpr int64_t kTickMillis = 250;
// A room on Redis not ticked for this long is ticked without traffic
// (RoomRegistry::TickIdle).
inline constexpr int64_t kIdleTickMillis = 1'000;
// A failing Redis is retried after this long (per room, per process).
inline constexpr int64_t kRetryMillis = 1'000;

class RedisRoomLinks;
class FailoverRoomStore;

// What a Redis room's local fallback starts from when this process has not
// read the room's counters from Redis since its start (a restart or an
// upgrade while Redis is down): the counters the process before it saw,
// from the state folder (app/state_persistence.h), and how many ticket
// numbers past them that process or another instance may have issued
// since (skipped, never issued twice).
struct SharedSeed {
  RoomCounters counters;
  uint64_t ticket_margin = 0;
  // The room's queue order as that process knew it (QueueOrder::Adopt):
  // its queued shoppers keep their places and can be let in while Redis is
  // down, instead of waiting without a position until it answers.
  QueueOrder::Known order;
};

// This process's issuer id (random, never 0, drawn once per process): the
// issuer of every ticket a local fallback numbers (queue/token.h
// WaitToken::issuer). A restarted or upgraded process draws another.
uint64_t LocalIssuerId();

class RoomRuntime {
 public:
  explicit RoomRuntime(std::unique_ptr<RoomStore> store, RedisRoomLinks* links = nullptr);

  RoomStore& store() { return *store_; }
  // True when store results may arrive after the call returned (Redis).
  bool asynchronous() const { return links_ != nullptr; }
  // Runs a Tick when the last one is kTickMillis old (on `caller`'s link).
  // `prepare`, when set, completes the limits the tick runs with (their
  // last_block: WaitingRoom::FillLastBlock), only when a tick is due.
  void MaybeTick(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                 const std::function<void(RoomLimits*)>& prepare = {});
  // Runs a Tick when the last one is kIdleTickMillis old, without
  // auto-protection's work (RoomRegistry::TickIdle).
  void MaybeTickIdle(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms);
  // Smoothed queue numbers invited per second (queue/eta.h); the
  // configured rate until measured (bounded by what was seen so far), and
  // never more than a full room's turnover (total_active_users per session
  // duration) while the room is full and people wait — or, while
  // auto-protection opens a door still below its ceiling, the door's growth
  // (queue/eta.h, FullRoomPerSecond). Measuring restarts
  // when the limits in force before auto-protection change (an operator,
  // a reload, an event's phase: the ceilings), never when only
  // auto-protection's effective limits move (every second or two). The
  // value returned falls by at most half per ShownRate::kHalvingMillis
  // from one tick to the next (rises pass at once) while people wait; a
  // restart, or a tick with nobody waiting, lets it fall at once.
  double QueueNumbersPerSecond(const RoomLimits& limits) const;
  // EstimateWait at QueueNumbersPerSecond, `stalled` set when nobody was
  // invited for QueueSpeed::LongStalled()'s time while people waited.
  WaitRange EstimateFor(uint64_t position, const RoomLimits& limits) const;
  // A shared store failing right now (on_failure in force).
  bool degraded() const { return degraded_.load(std::memory_order_relaxed); }

  // Wait cookies issued before this Unix time in ms are void in this room
  // (a local room started without its saved state: app/state_persistence.h);
  // 0: every valid wait cookie counts. Set before the room is handed out.
  int64_t waits_valid_from_ms = 0;
  std::atomic<uint64_t> shadow_would_queue{0};  // shadow mode: would have been queued
  std::atomic<uint64_t> sessions_ended{0};      // Tidegate-Session: end
  std::atomic<uint64_t> bypassed{0};            // bypass rules
  std::atomic<uint64_t> store_errors{0};
  // Refusals of clients gaming the room (queue/room_abuse.h).
  RoomAbuseCounters abuse;
  // Join checks (queue/join_guard.h): answers already used, joins per network.
  ChallengeReplays challenge_replays;
  TicketRateLimiter ticket_rate;
  // Networks using each pass session (queue/pass_networks.h).
  PassNetworks pass_networks;
  // Scheduled events' marks (queue/event_marks.h).
  EventMarks event_marks;
  // Which tickets are shuffled and the shuffle seed (queue/queue_order.h).
  QueueOrder queue_order;
  // Auto-protection ([rooms.NAME.protect], queue/protect_room.h): fed by
  // the gate's origin outcomes and by every tick's counters.
  RoomProtection protection;
  // With a Redis store: the lease that makes one instance decide for the
  // room (queue/shared_protection.h); null for a local room.
  const SharedProtection* shared_protection() const { return shared_protection_.get(); }

 private:
  friend class RoomRegistry;
  friend class FailoverRoomStore;
  // Runs a Tick when the last one is `min_gap_ms` old (one caller wins).
  void TickAfter(int64_t min_gap_ms, const StoreCaller& caller, const RoomLimits& limits,
                 int64_t now_ms, bool protect,
                 const std::function<void(RoomLimits*)>& prepare = {});
  // Protection's work after each successful tick: the shared decision
  // (Redis rooms) and the change-of-direction log.
  void AfterTick(const StoreCaller& caller, int64_t now_ms);

  std::unique_ptr<RoomStore> store_;
  RedisRoomLinks* links_ = nullptr;
  std::unique_ptr<SharedProtection> shared_protection_;
  std::unique_ptr<RoomProtectLog> protect_log_;
  std::shared_ptr<const RoomLog> log_ = std::make_shared<RoomLog>();  // the registry's
  std::atomic<int64_t> last_tick_ms_{0};
  std::atomic<bool> degraded_{false};
  mutable std::mutex rate_mutex_;
  // The speed before ShownRate's bound (rate_mutex_ held; `c` the counters).
  double MeasuredRateLocked(const RoomLimits& limits, const RoomCounters& c) const;

  QueueSpeed speed_;
  ShownRate shown_rate_;
  // The limits speed_ was measured under, auto-protection's effective
  // values replaced by its ceilings.
  std::optional<RoomLimits> speed_limits_;
};

class RoomRegistry {
 public:
  RoomRegistry();
  ~RoomRegistry();
  RoomRegistry(const RoomRegistry&) = delete;
  RoomRegistry& operator=(const RoomRegistry&) = delete;

  // The [state] section rooms created from now on use; `workers` is the
  // resolved worker count (proxy::ResolveWorkerCount), fixed for the
  // process's life: the Redis links get one slot per worker the first time
  // a Redis backend is configured.
  void Configure(const config::StateConfig& state, int workers);
  // [state].on_failure in force: the first Configure's, for the process's
  // life (a reload that changes it is told to restart: admin/admin_runtime).
  config::StoreFailureMode on_failure() const;
  std::shared_ptr<RoomRuntime> Get(const std::string& room);
  // See the lifetime rule above. Idempotent.
  void CloseConnections();
  // Where every room's log lines go (queue/room_log.h): the binary gives
  // the server's error log (app/admin_control_plane.cc, at its start, before
  // the workers). Any thread.
  RoomLog& log() { return *log_; }
  // What /metrics and GET /v1/state show of the rooms.
  struct RoomReport {
    std::string name;
    int64_t queued = 0;
    int64_t active = 0;
    uint64_t admitted_total = 0;
    double estimated_wait_seconds = 0;                // of the last visitor in line
    std::array<uint64_t, kAbuseReasonCount> abuse{};  // by AbuseReason
    ProtectStatus protect;                            // auto-protection (protect_room.h)
    std::optional<SharedProtectStatus> shared;        // the shared decision (Redis rooms)
    uint64_t counter_restores = 0;                    // RoomStore::restores()
    uint64_t mark_restores = 0;                       // RoomStore::mark_restores()
  };
  struct Report {
    std::vector<RoomReport> rooms;  // every room still configured
    uint64_t store_errors = 0;      // every known room's, removed ones included
  };
  // `limits_of` gives the room's settings in force (nullopt: no longer
  // configured).
  Report Snapshot(
      const std::function<std::optional<RoomLimits>(const std::string&)>& limits_of) const;
  // The operators' auto-protection switch in force for `room` (the effective
  // state::EffectiveRoom::protect), applied now rather than at the room's
  // next request (WaitingRoom::Limits), so that a report right after
  // `PATCH {"protect": false}` does not show the old cut. Any thread.
  void SwitchProtection(const std::string& room, bool on);
  // Names of rooms whose shared store is failing now (for health reports).
  std::vector<std::string> DegradedRooms() const;
  // See "Idle rooms on Redis" above. Control thread only, `control_loop`
  // being its event_base (the link of the control slot lives on it and is
  // closed by CloseConnections()). `limits_of` gives a room's limits in
  // force (queue::LimitsInForce; nullopt: no longer configured, not
  // ticked). Does nothing without a Redis backend.
  void TickIdle(event_base* control_loop,
                const std::function<std::optional<RoomLimits>(const std::string&)>& limits_of,
                int64_t now_ms);

  // Persistence of local rooms (backend = "local", docs/state.md). Restore()
  // (at start, before the first Get) gives the states read from the state
  // file: a room created later by Get() with a local store starts from its
  // saved state. ExportLocal() copies every local room's state (each under
  // its store's mutex), plus the restored states of rooms not created yet,
  // so that a flush never forgets a room that has not served since the
  // start. Any thread; the state file is written from the control thread.
  void Restore(std::map<std::string, LocalRoomStore::Persisted> rooms);
  // Every local room created from now on voids the wait cookies issued
  // before `unix_ms` (RoomRuntime::waits_valid_from_ms). At start, before
  // the first Get.
  void VoidWaitsIssuedBefore(int64_t unix_ms);
  std::map<std::string, LocalRoomStore::Persisted> ExportLocal() const;

  // Persistence of Redis rooms' last known counters (backend = "redis",
  // docs/state.md "A restart while Redis is down"). SeedShared() (at
  // start, before the first Get) gives what the process before saved: a
  // Redis room's local fallback starts from it (tickets plus the margin)
  // when this process never read the room from Redis. ExportShared() gives
  // per Redis room the counters this process knows — read from Redis, or
  // its local fallback's while it runs, else the seed (without its margin)
  // — and its queue order (QueueOrder::Export, else the seed's), plus the
  // seeds of rooms not created yet. Any thread.
  void SeedShared(std::map<std::string, SharedSeed> seeds);
  std::map<std::string, SharedSeed> ExportShared() const;

 private:
  mutable std::mutex mutex_;
  config::StateConfig state_;
  std::optional<config::StoreFailureMode> on_failure_in_force_;
  std::unique_ptr<RedisRoomLinks> links_;
  int control_slot_ = 0;  // the control thread's slot in links_ (after the workers')
  // This process in the rooms' protection leases: "host:pid:random".
  std::string instance_id_;
  std::map<std::string, std::shared_ptr<RoomRuntime>> rooms_;
  std::map<std::string, LocalRoomStore*> local_;               // the local stores of rooms_
  std::map<std::string, LocalRoomStore::Persisted> restored_;  // not created yet
  std::map<std::string, FailoverRoomStore*> shared_;           // the Redis stores of rooms_
  std::map<std::string, SharedSeed> shared_seeds_;             // SeedShared()'s
  int64_t waits_valid_from_ms_ = 0;
  std::shared_ptr<RoomLog> log_ = std::make_shared<RoomLog>();
};

}  // namespace tidegate::queue
