// The in-process RoomStore (the default, `[state] backend = "local"`): one
// room's state in this process. Export()/Import() hand the whole persistable
// state to the state file (app/state_persistence.h, docs/state.md), which
// saves it every second and reads it back at start.
//
// Contract: thread-safe. Every method runs the room_logic step under one
// mutex and calls `done` before returning (never later). Each operation is
// O(log buckets); nothing is allocated per queued visitor. Snapshot() takes
// the same mutex briefly. The gate calls the store only for visitors without
// a valid pass, for queued visitors' polls, and once per bucket
// (kBucketMillis) per admitted shopper, so admitted requests rarely touch it;
// SessionEnded() (every admitted request) reads an atomic and locks only
// while ended-session records exist. The claim and session-end records are
// state_.integrity (queue/room_integrity.h), one struct to export.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "queue/room_logic.h"
#include "queue/room_store.h"

namespace tidegate::queue {

class LocalRoomStore : public RoomStore {
 public:
  void Arrive(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
              bool may_admit_directly, Done<ArriveOutcome> done) override;
  void Claim(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms, uint64_t number,
             uint64_t session, uint64_t issuer, Done<ClaimOutcome> done) override;
  void Admit(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
             Done<int64_t> done) override;
  void RenewSession(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                    int64_t old_bucket, uint64_t session, Done<int64_t> done) override;
  void EndSession(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                  int64_t bucket, uint64_t session, int64_t pass_expires_ms,
                  Done<bool> done) override;
  bool SessionEnded(uint64_t session, int64_t now_ms) const override;
  void Tick(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
            Done<RoomCounters> done) override;
  void Mark(const StoreCaller& caller, const std::string& name, int64_t now_ms,
            Done<uint64_t> done) override;
  void Keep(const StoreCaller& caller, const std::string& name, uint64_t proposed, int64_t now_ms,
            Done<uint64_t> done) override;
  RoomCounters Snapshot() const override;

  // Everything that must survive a restart for queued visitors to keep
  // their place and admitted ones their session: the room's counters and
  // invitation state, the scheduled events' marks and the kept values (the
  // queue order's method history and seed). O(1) in the number of
  // visitors (bucket maps are pruned to a few minutes). The JSON form is
  // queue/room_state_json.h.
  struct Persisted {
    RoomState state;
    std::map<std::string, uint64_t> marks;
  };
  // A consistent copy, taken under the mutex (any thread).
  Persisted Export() const;
  // Replaces the state (at start, before the room serves). Any thread.
  void Import(Persisted persisted);

 private:
  template <typename T, typename Step>
  void Run(const RoomLimits& limits, int64_t now_ms, const Done<T>& done, Step step);

  mutable std::mutex mutex_;
  RoomState state_;
  RoomCounters last_;
  // state_.integrity.ended.size(), readable without the mutex: the admitted
  // hot path skips the lock while no session was ended.
  std::atomic<size_t> ended_count_{0};
  std::map<std::string, uint64_t> marks_;
};

}  // namespace tidegate::queue
