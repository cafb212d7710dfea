// [rooms.NAME] max_tickets_per_ip_per_minute: how many places in line (a
// ticket, or a direct admission) one client network may take per minute
// (docs/waiting-room.md, "Threat model").
//
// * The client network: an IPv4 address; an IPv4-mapped IPv6 address
//   ("::ffff:203.0.113.7", a dual-stack listener) counts as that IPv4
//   address; any other IPv6 address counts by its /64 (one subscriber's
//   prefix: a phone or a home gets a whole /64 and can change its address
//   inside it at will). An unparsable address is not limited.
// * Fixed one-minute windows (wall clock, floor(now / 60 s)): a client may
//   take up to the cap at the end of one minute and again at the start of
//   the next.
//
// Contract: one TicketRateLimiter per room, shared by every worker (it lives
// in queue::RoomRuntime, which outlives reloads); thread-safe (64
// mutex-protected shards, one short critical section per call). Memory is
// bounded: kSlots exact counters of 16 bytes (512 KB), allocated shard by
// shard on first use. A slot is free again once its minute is over. When the
// probe window of a new network is full of this minute's networks, that
// network is not limited (counted in untracked()): the table never refuses
// a shopper it cannot count. Per process: instances sharing Redis count
// separately.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace tidegate::queue {

// The key of the client network `ip` belongs to (see above); nullopt when
// `ip` is not a textual IPv4 or IPv6 address.
std::optional<uint64_t> ClientNetworkKey(std::string_view ip);

class TicketRateLimiter {
 public:
  static constexpr size_t kShards = 64;
  static constexpr size_t kSlotsPerShard = 512;
  static constexpr size_t kSlots = kShards * kSlotsPerShard;

  TicketRateLimiter();
  ~TicketRateLimiter();
  // Counts one join of `client_ip` at `now_ms`; false (and nothing counted)
  // when the network already took `per_minute` this minute. per_minute = 0:
  // always true, nothing counted.
  bool Allow(std::string_view client_ip, uint32_t per_minute, int64_t now_ms);
  // Seconds until the current window ends (Retry-After of a refusal).
  static int SecondsToNextWindow(int64_t now_ms);
  uint64_t untracked() const { return untracked_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    uint64_t key = 0;
    uint32_t minute = 0;  // window number + 1; 0 = never used
    uint32_t count = 0;
  };
  struct Shard {
    std::mutex mutex;
    std::vector<Slot> slots;  // empty until first use
  };
  std::unique_ptr<Shard[]> shards_;
  std::atomic<uint64_t> untracked_{0};
};

}  // namespace tidegate::queue
