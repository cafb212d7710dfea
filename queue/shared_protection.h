// SharedProtection: auto-protection of one room shared by the instances on
// Redis (docs/waiting-room.md, "Auto-protection: several instances,
// visibility, operator control"): drives the room's RedisProtectLease
// (queue/redis_protect_lease.h) from its ticks, lets the controller of
// RoomProtection (queue/protect_room.h) decide only while this instance
// holds the lease, and makes it adopt the leader's decision otherwise.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "queue/protect_room.h"
#include "queue/redis_protect_lease.h"

namespace tidegate::queue {

// What this instance knows of the shared decision (GET /v1/state, /metrics).
struct SharedProtectStatus {
  bool shared = false;     // the room is on Redis
  bool leader = false;     // this instance decides
  std::string leader_id;   // "" = nobody (or never synced)
  int64_t synced_ms = 0;   // the last successful sync (store clock; 0 = never)
  std::string last_error;  // of the last failed sync ("" = none)
};

// Runs the lease for one room's RoomProtection: AfterTick() is called after
// every store tick of the room (RoomRuntime::MaybeTick, any worker); at
// most one sync per kSyncMillis is in flight. The instance's controller
// decides only while it holds the lease; otherwise it adopts the leader's
// state. When Redis fails, the instance decides on its own again (each
// instance then protects the origin with its own share of the traffic).
// Thread-safe (atomics and one mutex for the status).
class SharedProtection {
 public:
  static constexpr int64_t kSyncMillis = 1'000;

  explicit SharedProtection(std::unique_ptr<RedisProtectLease> lease) : lease_(std::move(lease)) {}

  void AfterTick(RoomProtection& protection, const StoreCaller& caller, int64_t now_ms);
  SharedProtectStatus status() const;

 private:
  void OnReply(RoomProtection& protection, const StoreResult<ProtectSyncReply>& r, int64_t now_ms);

  std::unique_ptr<RedisProtectLease> lease_;
  std::atomic<int64_t> last_sync_ms_{0};
  std::atomic<bool> in_flight_{false};
  mutable std::mutex mutex_;
  SharedProtectStatus status_;
  int64_t adopted_ms_ = 0;  // published_ms of the last adopted decision (under mutex_)
};

}  // namespace tidegate::queue
