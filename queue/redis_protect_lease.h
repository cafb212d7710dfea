// RedisProtectLease: with rooms on Redis, one auto-protection decision per
// room shared by every instance (docs/waiting-room.md, "Auto-protection",
// "Several instances"). One instance holds a lease on the room's
// `<prefix>:{room:NAME}:protect` hash and is the only one whose controller
// writes the effective limits; the others read them and apply them as they
// are, so three instances admit what one decision allows, not three times
// that.
//
// The protocol is one atomic Lua script per sync (kProtectSync below), run
// about once a second per instance and room:
//   1. the caller holds a live lease and brings a decision: it is stored
//      (fencing: an instance whose lease lapsed can never overwrite the
//      decision of the instance that took over);
//   2. the lease is renewed by its holder, or taken by a caller that may
//      lead (it measured origin responses lately) when it is free or lapsed;
//   3. the reply carries who leads and the decision in force.
// A new leader is told the decision in force before it may publish, so its
// controller continues from there instead of jumping.
//
// Why the leader's own measurements suffice: latency and error rate are the
// origin's, shared by every instance; an instance with no origin traffic
// never takes the lease (may_lead = false).
//
// Contract:
// * Sync(): on the worker thread named by `caller` (it uses that worker's
//   RedisRoomLink); `done` is called exactly once on that thread, as for
//   RoomStore methods (synchronously with an error when the worker has no
//   link), unless the links are closed first.
// * The lease holder's id is any string without NUL (the registry uses
//   "host:pid:random"); lease_ms should be a few sync periods (3 s).
// * Clock: Redis TIME unless `use_redis_time` is false (tests pass theirs).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "queue/redis_room_store.h"
#include "redis/script_runner.h"

namespace tidegate::queue {

// The controller's decision as shared through Redis.
struct SharedProtectDecision {
  uint32_t new_users_per_minute = 0;  // effective admission rate
  uint32_t total_active_users = 0;    // effective active limit
  std::string direction;              // of the last move: "up" | "down" | "hold"
  std::string reason;                 // why it last moved (for operators)
  double p90_ms = 0;                  // the leader's measured p90 origin latency
  double error_rate = 0;              // the leader's measured origin error share
  int64_t moved_at_ms = 0;            // when it last moved (0 = never)
  int64_t published_ms = 0;           // when the leader wrote it (store clock)
};

struct ProtectSyncReply {
  bool leader = false;      // this instance holds the lease (now)
  std::string leader_id;    // who holds it ("" = nobody)
  int64_t lease_until_ms = 0;
  bool has_decision = false;  // a decision was ever published for the room
  SharedProtectDecision decision;
  int64_t now_ms = 0;  // the store clock
};

class RedisProtectLease {
 public:
  template <typename T>
  using Done = std::function<void(const StoreResult<T>&)>;

  RedisProtectLease(const std::string& room, RedisRoomOptions options, RedisRoomLinks* links,
                    std::string instance_id, int64_t lease_ms = 3'000);

  // See the protocol above. `publish`: the decision this instance's
  // controller made (stored only when the caller holds a live lease); null
  // to only read. `may_lead`: this instance may take a free lease.
  void Sync(const StoreCaller& caller, int64_t now_ms, bool may_lead,
            const SharedProtectDecision* publish, Done<ProtectSyncReply> done);

  const std::string& instance_id() const { return instance_id_; }
  const std::string& key() const { return key_; }

 private:
  RedisRoomOptions options_;
  RedisRoomLinks* links_;
  std::string instance_id_;
  int64_t lease_ms_;
  std::string key_;
  redis::ScriptRunner script_;
};

// Parses the script's reply (exposed for tests); false on a reply of the
// wrong shape.
bool ParseProtectSyncReply(const redis::RedisReply& reply, ProtectSyncReply* out);

}  // namespace tidegate::queue
