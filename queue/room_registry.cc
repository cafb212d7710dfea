#include "queue/room_registry.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "queue/local_room_store.h"
#include "queue/redis_room_store.h"
#include "queue/room_logic.h"
#include "queue/token.h"

namespace tidegate::queue {

uint64_t LocalIssuerId() {
  static const uint64_t id = NewSessionId();
  return id;
}

// A RedisRoomStore with [state].on_failure applied (room_registry.h).
// Thread-safe: the local fallback state is under a mutex; the shared
// store's callbacks run on the calling thread.
class FailoverRoomStore : public RoomStore {
 public:
  FailoverRoomStore(std::string room, std::unique_ptr<RedisRoomStore> shared,
                    config::StoreFailureMode mode, RoomRuntime* runtime)
      : room_(std::move(room)), shared_(std::move(shared)), mode_(mode), runtime_(runtime) {}

  void Arrive(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
              bool may_admit_directly, Done<ArriveOutcome> done) override {
    Route<ArriveOutcome>(
        limits, now_ms, std::move(done),
        [=, this](Done<ArriveOutcome> d) {
          shared_->Arrive(caller, limits, now_ms, may_admit_directly, std::move(d));
        },
        [=](RoomState& s) {
          ArriveOutcome o = ArriveStep(s, limits, now_ms, may_admit_directly);
          if (!o.admitted) o.issuer = LocalIssuerId();  // numbered here, not by Redis
          return o;
        });
  }
  void Claim(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms, uint64_t number,
             uint64_t session, uint64_t issuer, Done<ClaimOutcome> done) override {
    Route<ClaimOutcome>(
        limits, now_ms, std::move(done),
        [=, this](Done<ClaimOutcome> d) {
          shared_->Claim(caller, limits, now_ms, number, session, issuer, std::move(d));
        },
        [=](RoomState& s) {
          ClaimOutcome o = ClaimStep(s, limits, now_ms, number, session, issuer);
          if (o.lapsed) o.issuer = LocalIssuerId();
          return o;
        });
  }
  void Admit(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
             Done<int64_t> done) override {
    Route<int64_t>(
        limits, now_ms, std::move(done),
        [=, this](Done<int64_t> d) { shared_->Admit(caller, limits, now_ms, std::move(d)); },
        [=](RoomState& s) { return AdmitStep(s, limits, now_ms); });
  }
  void RenewSession(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                    int64_t old_bucket, uint64_t session, Done<int64_t> done) override {
    Route<int64_t>(
        limits, now_ms, std::move(done),
        [=, this](Done<int64_t> d) {
          shared_->RenewSession(caller, limits, now_ms, old_bucket, session, std::move(d));
        },
        [=, this](RoomState& s) {
          return RenewStep(s, limits, now_ms, CarriedBucket(s, old_bucket), session);
        });
  }
  void EndSession(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                  int64_t bucket, uint64_t session, int64_t pass_expires_ms,
                  Done<bool> done) override {
    Route<bool>(
        limits, now_ms, std::move(done),
        [=, this](Done<bool> d) {
          shared_->EndSession(caller, limits, now_ms, bucket, session, pass_expires_ms,
                              std::move(d));
        },
        [=, this](RoomState& s) {
          return EndStep(s, limits, now_ms, CarriedBucket(s, bucket), session, pass_expires_ms);
        });
  }
  // The shared store's mirror knows the ends made through Redis by this
  // process; while degraded, the local fallback's record too.
  bool SessionEnded(uint64_t session, int64_t now_ms) const override {
    if (shared_->SessionEnded(session, now_ms)) return true;
    if (!runtime_->degraded() || mode_ != config::StoreFailureMode::kLocal) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    return local_.integrity.ended.Contains(session, now_ms);
  }
  void Tick(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
            Done<RoomCounters> done) override {
    Route<RoomCounters>(
        limits, now_ms, std::move(done),
        [=, this](Done<RoomCounters> d) { shared_->Tick(caller, limits, now_ms, std::move(d)); },
        [=](RoomState& s) { return TickStep(s, limits, now_ms); });
  }
  // Marks never fall back to local state: every instance must agree on
  // them and EventMarks caches a known mark for the process's life, so a
  // mark is only ever taken from Redis (a failure is retried by the caller).
  void Mark(const StoreCaller& caller, const std::string& name, int64_t now_ms,
            Done<uint64_t> done) override {
    SharedOnly<uint64_t>(now_ms, std::move(done), [&](Done<uint64_t> d) {
      shared_->Mark(caller, name, now_ms, std::move(d));
    });
  }
  // Kept values (the queue order) never fall back to local state either,
  // for the same reason as marks.
  void Keep(const StoreCaller& caller, const std::string& name, uint64_t proposed, int64_t now_ms,
            Done<uint64_t> done) override {
    SharedOnly<uint64_t>(now_ms, std::move(done), [&](Done<uint64_t> d) {
      shared_->Keep(caller, name, proposed, now_ms, std::move(d));
    });
  }
  RoomCounters Snapshot() const override {
    if (runtime_->degraded() && mode_ == config::StoreFailureMode::kLocal) {
      std::lock_guard<std::mutex> lock(mutex_);
      return local_last_;
    }
    return shared_->Snapshot();
  }
  // RoomRegistry::SeedShared(), before the room serves.
  void SetSeed(const SharedSeed& seed) {
    std::lock_guard<std::mutex> lock(mutex_);
    seed_ = seed;
  }
  // RoomRegistry::ExportShared(): what this process knows of the counters.
  RoomCounters LastKnown() const {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (seeded_) return local_last_.updated_ms != 0 ? local_last_ : LocalSeedCounters();
    }
    RoomCounters c = shared_->Snapshot();
    if (c.updated_ms != 0) return c;
    std::lock_guard<std::mutex> lock(mutex_);
    return seed_.counters;  // never read from Redis since the start
  }
  uint64_t restores() const override { return shared_->restores(); }
  uint64_t mark_restores() const override { return shared_->mark_restores(); }

 private:
  // A call only the shared store answers: refused at once during the retry
  // delay of an outage, else sent, its result marking the store failed or
  // recovered.
  template <typename T, typename SharedCall>
  void SharedOnly(int64_t now_ms, Done<T> done, SharedCall shared_call) {
    if (runtime_->degraded() && now_ms < retry_at_ms_.load(std::memory_order_relaxed)) {
      StoreResult<T> out;
      out.ok = false;
      out.error = "redis unavailable (retrying soon)";
      if (done) done(out);
      return;
    }
    shared_call([this, now_ms, done = std::move(done)](const StoreResult<T>& r) {
      if (r.ok) {
        Recovered();
      } else {
        Failed(now_ms, r.error);
      }
      if (done) done(r);
    });
  }

  template <typename T, typename SharedCall, typename LocalStep>
  void Route(const RoomLimits& limits, int64_t now_ms, Done<T> done, SharedCall shared_call,
             LocalStep local_step) {
    if (runtime_->degraded() && now_ms < retry_at_ms_.load(std::memory_order_relaxed)) {
      Fallback<T>(limits, now_ms, done, local_step, "redis unavailable (retrying soon)");
      return;
    }
    shared_call(
        [this, limits, now_ms, done = std::move(done), local_step](const StoreResult<T>& r) {
          if (r.ok) {
            Recovered();
            if (done) done(r);
            return;
          }
          Failed(now_ms, r.error);
          Fallback<T>(limits, now_ms, done, local_step, r.error);
        });
  }

  template <typename T, typename LocalStep>
  void Fallback(const RoomLimits& limits, int64_t now_ms, const Done<T>& done,
                const LocalStep& step, const std::string& error) {
    StoreResult<T> out;
    if (mode_ != config::StoreFailureMode::kLocal) {
      out.ok = false;
      out.error = error;
    } else {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!seeded_) Seed(now_ms);
      out.value = step(local_);
      local_last_ = CountersOf(local_, limits, now_ms);
      shared_->RaiseTicketsFloor(local_.tickets);
    }
    if (done) done(out);
  }

  // The counters a local fallback starts from (mutex held): the last read
  // from Redis; by a process that never read them since its start, the
  // seed its predecessor saved, its tickets advanced by the margin.
  RoomCounters LocalSeedCounters() const {
    RoomCounters c = shared_->Snapshot();
    if (c.updated_ms != 0) return c;
    c = seed_.counters;
    c.tickets += seed_.ticket_margin;
    return c;
  }

  // Starts the local state from the last shared counters (mutex held):
  // tickets and serving carry on, the active sessions count as current.
  void Seed(int64_t now_ms) {
    RoomCounters c = LocalSeedCounters();
    local_.tickets = std::max(local_.tickets, c.tickets);
    local_.serving = std::max(local_.serving, c.serving);
    local_.admitted_total = std::max(local_.admitted_total, c.admitted_total);
    local_.sessions = BucketCounts();
    local_.invitations = BucketCounts();
    local_.claims = BucketCounts();
    local_.first_invited.clear();
    carried_bucket_ = BucketOf(now_ms);
    if (c.active > 0) local_.sessions.Add(carried_bucket_, c.active);
    local_.last_tick_ms = 0;  // a fresh credit burst
    seeded_ = true;
  }

  // The bucket of a pass admitted before this outage (mutex held): its
  // session was carried over into the seed's bucket (the shared snapshot
  // has no per-bucket counts), so ending or renewing it must count there,
  // else the carried place would stay taken until it expires.
  int64_t CarriedBucket(const RoomState& s, int64_t bucket) const {
    if (bucket < carried_bucket_ && s.sessions.Get(bucket) <= 0 &&
        s.sessions.Get(carried_bucket_) > 0) {
      return carried_bucket_;
    }
    return bucket;
  }

  void Failed(int64_t now_ms, const std::string& error) {
    runtime_->store_errors.fetch_add(1, std::memory_order_relaxed);
    retry_at_ms_.store(now_ms + kRetryMillis, std::memory_order_relaxed);
    bool was = runtime_->degraded_.exchange(true, std::memory_order_relaxed);
    int64_t last = last_warning_ms_.load(std::memory_order_relaxed);
    if (!was || now_ms - last >= 10'000) {
      last_warning_ms_.store(now_ms, std::memory_order_relaxed);
      runtime_->log_->Write(
          proxy::LogLevel::kWarn, "room.store",
          "room '" + room_ + "': shared store failed (" + error +
              "); on_failure = " + std::string(config::StoreFailureModeName(mode_)));
    }
  }

  void Recovered() {
    if (!runtime_->degraded()) return;
    if (runtime_->degraded_.exchange(false, std::memory_order_relaxed)) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        seeded_ = false;  // the next outage starts from the shared counters again
      }
      runtime_->log_->Write(proxy::LogLevel::kInfo, "room.store",
                            "room '" + room_ + "': shared store reachable again");
    }
  }

  std::string room_;
  std::unique_ptr<RedisRoomStore> shared_;
  config::StoreFailureMode mode_;
  RoomRuntime* runtime_;
  std::atomic<int64_t> retry_at_ms_{0};
  std::atomic<int64_t> last_warning_ms_{0};
  mutable std::mutex mutex_;
  RoomState local_;
  RoomCounters local_last_;
  bool seeded_ = false;
  int64_t carried_bucket_ = 0;  // where Seed() put the carried-over sessions
  SharedSeed seed_;             // RoomRegistry::SeedShared()'s, for this room
};

RoomRuntime::RoomRuntime(std::unique_ptr<RoomStore> store, RedisRoomLinks* links)
    : store_(std::move(store)), links_(links) {}

namespace {
// A change of limits that makes the measured speed meaningless: another
// mode, capacity or rate by more than a fifth, or a pre-queue (capacity 0)
// starting or ending.
bool LimitsMoved(const RoomLimits& before, const RoomLimits& now) {
  auto moved = [](double a, double b) { return std::abs(a - b) > 0.2 * std::max(a, b); };
  return before.mode != now.mode ||
         (before.total_active_users == 0) != (now.total_active_users == 0) ||
         moved(before.total_active_users, now.total_active_users) ||
         moved(before.new_users_per_minute, now.new_users_per_minute);
}
}  // namespace

void RoomRuntime::MaybeTick(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                            const std::function<void(RoomLimits*)>& prepare) {
  TickAfter(kTickMillis, caller, limits, now_ms, /*protect=*/true, prepare);
}

void RoomRuntime::MaybeTickIdle(const StoreCaller& caller, const RoomLimits& limits,
                                int64_t now_ms) {
  TickAfter(kIdleTickMillis, caller, limits, now_ms, /*protect=*/false);
}

void RoomRuntime::TickAfter(int64_t min_gap_ms, const StoreCaller& caller, const RoomLimits& limits,
                            int64_t now_ms, bool protect,
                            const std::function<void(RoomLimits*)>& prepare) {
  int64_t last = last_tick_ms_.load(std::memory_order_relaxed);
  if (now_ms - last < min_gap_ms) return;
  if (!last_tick_ms_.compare_exchange_strong(last, now_ms, std::memory_order_relaxed)) return;
  RoomLimits tick_limits = limits;
  if (prepare) prepare(&tick_limits);
  store_->Tick(caller, tick_limits, now_ms,
               [this, caller, limits, now_ms, protect](const StoreResult<RoomCounters>& result) {
                 if (!result.ok) {
                   if (links_ == nullptr) store_errors.fetch_add(1, std::memory_order_relaxed);
                   return;  // a shared store's failover counted it
                 }
                 const RoomCounters& c = result.value;
                 // Auto-protection moves the effective limits every second
                 // or two: that is the room working, not new limits. What
                 // restarts the measurement is a change of what it works
                 // under (the ceilings: configuration, overrides, events).
                 RoomLimits basis = limits;
                 if (protection.enabled()) {
                   ProtectCeilings ceilings = protection.status(now_ms, limits).ceilings;
                   basis.total_active_users = ceilings.total_active_users;
                   basis.new_users_per_minute = ceilings.new_users_per_minute;
                 }
                 {
                   std::lock_guard<std::mutex> lock(rate_mutex_);
                   // New limits (an operator's change, a reload, an
                   // event's phase): measure the speed afresh.
                   if (speed_limits_ && LimitsMoved(*speed_limits_, basis)) {
                     speed_.Restart();
                     shown_rate_.Reset();
                   }
                   speed_limits_ = basis;
                   // A pre-queue (nobody may be invited: total 0) is a
                   // standstill by design, not a slow queue.
                   bool could_invite = limits.total_active_users > 0;
                   speed_.Observe(now_ms, c.serving, c.tickets > c.serving && could_invite,
                                  limits.new_users_per_minute / 60.0);
                   // Nobody waiting: no estimate shown to hold, and the
                   // first in line of a room that just filled gets the
                   // turnover's at once (not what the empty room said).
                   if (c.queued() == 0) {
                     shown_rate_.Reset();
                   } else {
                     shown_rate_.Update(now_ms, MeasuredRateLocked(limits, c));
                   }
                 }
                 if (!protect) return;
                 protection.OnTick(c, now_ms);  // at most one decision per second
                 AfterTick(caller, now_ms);
               });
}

void RoomRuntime::AfterTick(const StoreCaller& caller, int64_t now_ms) {
  if (!protection.enabled()) return;
  // Several instances: one decides, the others adopt (about once a second).
  if (shared_protection_) shared_protection_->AfterTick(protection, caller, now_ms);
  if (protect_log_) protect_log_->Note(protection.status(now_ms), protection.decides(), now_ms);
}

double RoomRuntime::MeasuredRateLocked(const RoomLimits& limits, const RoomCounters& c) const {
  double rate = speed_.PerSecond(limits.new_users_per_minute / 60.0);
  bool stalled = !speed_.Measured() || speed_.Stalled();
  // A full room invites only as sessions end. While it is full, people
  // wait and nothing moved for a while (or nothing was measured under
  // these limits yet), the speed is at most the turnover of sessions that
  // last their whole duration: the front of the line of a room that just
  // filled (or whose limit an operator lowered) is not told "less than a
  // minute" for minutes. A full room whose line keeps moving (sessions
  // ended at checkout) is judged by its measured speed alone. This switch
  // flips with auto-protection's limit: ShownRate smooths the fall.
  // A room full only because auto-protection's door is still narrow and
  // opening (its slow start, a recovery) lets the line in as the door
  // grows, not as sessions end (audit 16 F2) — unless the line has stalled
  // anyway: then the door's growth is not reaching it, the turnover holds.
  if (stalled && c.queued() > 0 && c.active >= static_cast<int64_t>(limits.total_active_users) &&
      limits.session_ms > 0) {
    FullRoom room;
    room.limit = static_cast<double>(limits.total_active_users);
    room.session_seconds = static_cast<double>(limits.session_ms) / 1000.0;
    room.inside = static_cast<double>(c.active);
    if (!speed_.Stalled()) {
      RoomProtection::DoorOpening door = protection.Opening();
      room.opening_per_second = door.places_per_second;
      room.ceiling = static_cast<double>(door.ceiling);
    }
    rate = std::min(rate, FullRoomPerSecond(room, c.queued()));
  }
  return rate;
}

double RoomRuntime::QueueNumbersPerSecond(const RoomLimits& limits) const {
  RoomCounters c = store_->Snapshot();  // outside rate_mutex_ (the store has its own)
  std::lock_guard<std::mutex> lock(rate_mutex_);
  return shown_rate_.Bound(MeasuredRateLocked(limits, c));
}

WaitRange RoomRuntime::EstimateFor(uint64_t position, const RoomLimits& limits) const {
  WaitRange wait = EstimateWait(position, QueueNumbersPerSecond(limits));
  std::lock_guard<std::mutex> lock(rate_mutex_);
  wait.stalled = speed_.LongStalled();
  return wait;
}

RoomRegistry::RoomRegistry() = default;

RoomRegistry::~RoomRegistry() { CloseConnections(); }

namespace {

std::string MakeInstanceId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::random_device random;
  char suffix[17];
  std::snprintf(suffix, sizeof(suffix), "%08x%08x", random(), random());
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + suffix;
}

}  // namespace

void RoomRegistry::Configure(const config::StateConfig& state, int workers) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = state;
  // Every room's store applies the failure mode of the first configuration
  // (FailoverRoomStore keeps it): a reload does not change it, for old rooms
  // or new ones, and the gate and health say the one in force.
  if (!on_failure_in_force_) on_failure_in_force_ = state.on_failure;
  state_.on_failure = *on_failure_in_force_;
  if (instance_id_.empty()) instance_id_ = MakeInstanceId();
  if (state.backend == config::StateBackend::kRedis && (state.redis || !state.sentinels.empty()) &&
      !links_) {
    // With sentinels, follows the primary; with a password, AUTH first.
    redis::RedisConnection::Options options =
        redis::RedisConnection::Options::ForState(state, "redis (rooms)");
    // One slot per worker, then the control thread's (TickIdle).
    control_slot_ = workers > 0 ? workers : 0;
    links_ = std::make_unique<RedisRoomLinks>(std::move(options), control_slot_ + 1);
  }
}

config::StoreFailureMode RoomRegistry::on_failure() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_.on_failure;
}

std::shared_ptr<RoomRuntime> RoomRegistry::Get(const std::string& room) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::shared_ptr<RoomRuntime>& slot = rooms_[room];
  if (slot) return slot;
  if (state_.backend == config::StateBackend::kRedis && links_) {
    slot = std::make_shared<RoomRuntime>(nullptr, links_.get());
    RedisRoomOptions options;
    options.log = log_;
    auto shared = std::make_unique<RedisRoomStore>(room, options, links_.get());
    auto failover =
        std::make_unique<FailoverRoomStore>(room, std::move(shared), state_.on_failure, slot.get());
    if (auto seed = shared_seeds_.find(room); seed != shared_seeds_.end()) {
      failover->SetSeed(seed->second);
      slot->queue_order.Adopt(seed->second.order);
    }
    shared_[room] = failover.get();
    slot->store_ = std::move(failover);
    if (instance_id_.empty()) instance_id_ = MakeInstanceId();
    slot->shared_protection_ = std::make_unique<SharedProtection>(
        std::make_unique<RedisProtectLease>(room, RedisRoomOptions{}, links_.get(), instance_id_));
  } else {
    auto local = std::make_unique<LocalRoomStore>();
    if (auto saved = restored_.find(room); saved != restored_.end()) {
      local->Import(std::move(saved->second));
      restored_.erase(saved);
    }
    local_[room] = local.get();
    slot = std::make_shared<RoomRuntime>(std::move(local));
    slot->waits_valid_from_ms = waits_valid_from_ms_;
  }
  slot->log_ = log_;
  slot->protect_log_ = std::make_unique<RoomProtectLog>(room, log_);
  return slot;
}

void RoomRegistry::Restore(std::map<std::string, LocalRoomStore::Persisted> rooms) {
  std::lock_guard<std::mutex> lock(mutex_);
  restored_ = std::move(rooms);
}

void RoomRegistry::VoidWaitsIssuedBefore(int64_t unix_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  waits_valid_from_ms_ = unix_ms;
}

std::map<std::string, LocalRoomStore::Persisted> RoomRegistry::ExportLocal() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<std::string, LocalRoomStore::Persisted> out = restored_;
  for (const auto& [name, store] : local_) out[name] = store->Export();
  return out;
}

void RoomRegistry::SeedShared(std::map<std::string, SharedSeed> seeds) {
  std::lock_guard<std::mutex> lock(mutex_);
  shared_seeds_ = std::move(seeds);
}

std::map<std::string, SharedSeed> RoomRegistry::ExportShared() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<std::string, SharedSeed> out;
  for (const auto& [name, seed] : shared_seeds_) {
    out[name].counters = seed.counters;
    out[name].order = seed.order;
  }
  for (const auto& [name, store] : shared_) {
    SharedSeed& known = out[name];
    known.counters = store->LastKnown();
    auto room = rooms_.find(name);
    if (room == rooms_.end()) continue;
    QueueOrder::Known order = room->second->queue_order.Export();
    if (!order.spans.empty()) known.order = std::move(order);
  }
  return out;
}

void RoomRegistry::CloseConnections() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (links_) links_->CloseAll();
}

std::vector<std::string> RoomRegistry::DegradedRooms() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, runtime] : rooms_) {
    if (runtime->degraded()) out.push_back(name);
  }
  return out;
}

void RoomRegistry::TickIdle(
    event_base* control_loop,
    const std::function<std::optional<RoomLimits>(const std::string&)>& limits_of, int64_t now_ms) {
  StoreCaller caller;
  std::vector<std::pair<std::string, std::shared_ptr<RoomRuntime>>> shared;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!links_ || control_loop == nullptr) return;
    caller = {control_slot_, control_loop};
    for (const auto& [name, runtime] : rooms_) {
      if (runtime->asynchronous()) shared.emplace_back(name, runtime);
    }
  }
  // Outside the registry's mutex: a failing link answers at once, on this
  // thread, and the reply path may take other locks.
  for (const auto& [name, runtime] : shared) {
    std::optional<RoomLimits> limits = limits_of(name);
    if (!limits) continue;  // removed by a reload
    // The limits a visitor's poll would tick with (protection applied).
    runtime->MaybeTickIdle(caller, runtime->protection.Effective(*limits), now_ms);
  }
}

void RoomRegistry::SwitchProtection(const std::string& room, bool on) {
  std::shared_ptr<RoomRuntime> runtime;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return;
    runtime = it->second;
  }
  runtime->protection.Switch(on);
}

RoomRegistry::Report RoomRegistry::Snapshot(
    const std::function<std::optional<RoomLimits>(const std::string&)>& limits_of) const {
  std::lock_guard<std::mutex> lock(mutex_);
  Report report;
  // The clock the gates record origin samples with (the process's wall clock).
  const int64_t wall_now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  for (const auto& [name, runtime] : rooms_) {
    report.store_errors += runtime->store_errors.load(std::memory_order_relaxed);
    std::optional<RoomLimits> limits = limits_of(name);
    if (!limits) continue;  // no longer configured
    RoomCounters c = runtime->store().Snapshot();
    RoomReport m;
    m.name = name;
    m.queued = static_cast<int64_t>(c.queued());
    m.active = c.active;
    m.admitted_total = c.admitted_total;
    m.counter_restores = runtime->store().restores();
    m.mark_restores = runtime->store().mark_restores();
    // The wait at the rate in force: the protection's when it limits.
    WaitRange wait = runtime->EstimateFor(c.queued(), runtime->protection.Effective(*limits));
    m.estimated_wait_seconds = static_cast<double>(wait.high_seconds);
    for (size_t i = 0; i < kAbuseReasonCount; ++i) {
      m.abuse[i] = runtime->abuse.Get(static_cast<AbuseReason>(i));
    }
    // Before the room's first request since the start the ceilings are
    // the limits in force (restored or configured), not 0/0.
    m.protect = runtime->protection.status(wall_now_ms, *limits);
    if (runtime->shared_protection_) m.shared = runtime->shared_protection_->status();
    report.rooms.push_back(std::move(m));
  }
  return report;
}

}  // namespace tidegate::queue
