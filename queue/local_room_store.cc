#include "queue/local_room_store.h"

namespace tidegate::queue {

template <typename T, typename Step>
void LocalRoomStore::Run(const RoomLimits& limits, int64_t now_ms, const Done<T>& done, Step step) {
  StoreResult<T> result;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    result.value = step();
    last_ = CountersOf(state_, limits, now_ms);
    ended_count_.store(state_.integrity.ended.size(), std::memory_order_relaxed);
  }
  // Outside the lock: the callback may call the store again.
  if (done) done(result);
}

void LocalRoomStore::Arrive(const StoreCaller& /*caller*/, const RoomLimits& limits, int64_t now_ms,
                            bool may_admit_directly, Done<ArriveOutcome> done) {
  Run(limits, now_ms, done, [&] { return ArriveStep(state_, limits, now_ms, may_admit_directly); });
}

void LocalRoomStore::Claim(const StoreCaller& /*caller*/, const RoomLimits& limits, int64_t now_ms,
                           uint64_t number, uint64_t session, uint64_t issuer,
                           Done<ClaimOutcome> done) {
  Run(limits, now_ms, done,
      [&] { return ClaimStep(state_, limits, now_ms, number, session, issuer); });
}

void LocalRoomStore::Admit(const StoreCaller& /*caller*/, const RoomLimits& limits, int64_t now_ms,
                           Done<int64_t> done) {
  Run(limits, now_ms, done, [&] { return AdmitStep(state_, limits, now_ms); });
}

void LocalRoomStore::RenewSession(const StoreCaller& /*caller*/, const RoomLimits& limits,
                                  int64_t now_ms, int64_t old_bucket, uint64_t session,
                                  Done<int64_t> done) {
  Run(limits, now_ms, done, [&] { return RenewStep(state_, limits, now_ms, old_bucket, session); });
}

void LocalRoomStore::EndSession(const StoreCaller& /*caller*/, const RoomLimits& limits,
                                int64_t now_ms, int64_t bucket, uint64_t session,
                                int64_t pass_expires_ms, Done<bool> done) {
  Run(limits, now_ms, done,
      [&] { return EndStep(state_, limits, now_ms, bucket, session, pass_expires_ms); });
}

bool LocalRoomStore::SessionEnded(uint64_t session, int64_t now_ms) const {
  if (session == 0 || ended_count_.load(std::memory_order_relaxed) == 0) return false;
  std::lock_guard<std::mutex> lock(mutex_);
  return state_.integrity.ended.Contains(session, now_ms);
}

void LocalRoomStore::Tick(const StoreCaller& /*caller*/, const RoomLimits& limits, int64_t now_ms,
                          Done<RoomCounters> done) {
  Run(limits, now_ms, done, [&] { return TickStep(state_, limits, now_ms); });
}

void LocalRoomStore::Mark(const StoreCaller& /*caller*/, const std::string& name, int64_t now_ms,
                          Done<uint64_t> done) {
  StoreResult<uint64_t> result;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    result.value = marks_.try_emplace(name, state_.tickets).first->second;
  }
  if (done) done(result);
}

void LocalRoomStore::Keep(const StoreCaller& /*caller*/, const std::string& name, uint64_t proposed,
                          int64_t /*now_ms*/, Done<uint64_t> done) {
  StoreResult<uint64_t> result;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (proposed != 0) {
      result.value = marks_.try_emplace(name, proposed).first->second;
    } else if (auto it = marks_.find(name); it != marks_.end()) {
      result.value = it->second;
    }
  }
  if (done) done(result);
}

LocalRoomStore::Persisted LocalRoomStore::Export() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return Persisted{state_, marks_};
}

void LocalRoomStore::Import(Persisted persisted) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = std::move(persisted.state);
  marks_ = std::move(persisted.marks);
  // The counters a snapshot shows until the first operation recomputes them
  // with the limits in force.
  last_ = RoomCounters{};
  last_.tickets = state_.tickets;
  last_.serving = state_.serving;
  last_.admitted_total = state_.admitted_total;
  last_.claim_ratio = state_.claim_ratio;
  for (const auto& [bucket, count] : state_.sessions.entries()) last_.active += count;
  ended_count_.store(state_.integrity.ended.size(), std::memory_order_relaxed);
}

RoomCounters LocalRoomStore::Snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_;
}

}  // namespace tidegate::queue
