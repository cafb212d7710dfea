// RedisProtectLease: with rooms on Redis, one auto-protection decision per
// room shared by every instance (docs/waiting-room.md, "Auto-protection",
// "Several instances"). One instance holds a lease on the room's
// `<prefix>:{room:NAME}:protect` hash and is the only one whose controller
// decides; the others adopt its decision (the controller's whole state,
// queue/protect_controller.h) and apply the same effective limits, so three
// instances admit what one decision allows, not three times that.
//
// The protocol is one atomic Lua script per sync (scripts::kProtectSync),
// run about once a second per instance and room (queue/shared_protection.h):
//   1. the caller holds a live lease and brings a decision: it is stored
//      (fencing: an instance whose lease lapsed can never overwrite the
//      decision of the instance that took over);
//   2. the lease is renewed by its holder, or taken by a caller that may
//      lead (it measured origin responses lately) when it is free or lapsed;
//   3. the reply carries who leads and the decision in force.
// A new leader adopts the decision in force before it decides, so its
// controller continues from there instead of starting over.
//
// Why the leader's own measurements suffice: latency and error rate are the
// origin's, the same whichever instance forwarded the request; an instance
// without origin traffic never takes the lease (may_lead = false).
//
// Contract:
// * Sync(): on the worker thread named by `caller` (that worker's
//   RedisRoomLink); `done` is called exactly once on that thread, as for
//   RoomStore methods (synchronously with an error when the worker has no
//   link), unless the links are closed first (then never).
// * The instance id is any string (the registry uses "host:pid:random");
//   lease_ms should be a few sync periods (3 s).
// * Clock: Redis TIME unless options.use_redis_time is false (tests).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "queue/redis_room_store.h"
#include "redis/script_runner.h"

namespace tidegate::queue {

struct ProtectSyncReply {
  bool leader = false;    // this instance holds the lease (now)
  std::string leader_id;  // who holds it ("" = nobody)
  int64_t lease_until_ms = 0;
  int64_t published_ms = 0;  // when the decision was written (0 = never)
  std::string decision;      // the leader's ProtectState as JSON ("" = none yet)
  int64_t now_ms = 0;        // the store clock
};

class RedisProtectLease {
 public:
  template <typename T>
  using Done = std::function<void(const StoreResult<T>&)>;

  RedisProtectLease(const std::string& room, RedisRoomOptions options, RedisRoomLinks* links,
                    std::string instance_id, int64_t lease_ms = 3'000);

  // See the protocol above. `publish`: this instance's decision (stored
  // only when the caller holds a live lease); null to only read.
  // `may_lead`: this instance may take a free lease.
  void Sync(const StoreCaller& caller, int64_t now_ms, bool may_lead, const std::string* publish,
            Done<ProtectSyncReply> done);

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

// Parses the script's reply (exposed for tests); false on a wrong shape.
bool ParseProtectSyncReply(const redis::RedisReply& reply, ProtectSyncReply* out);

}  // namespace tidegate::queue
