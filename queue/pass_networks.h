// How many client networks may use one pass session at once (audit 14 F2:
// one pass cookie copied to many clients on many addresses).
//
// * A pass records the network it was issued or renewed to
//   (PassNetworkOf: a 32-bit hash keyed by a room secret of
//   ClientNetworkKey — an IPv4 address exactly, an IPv6 address by its
//   /64 — never 0; 0 means "not known"). A request from that network is the
//   admitted hot path: one compare, no table.
// * A request from another network, a pass without the field (issued
//   before it existed), and every renewal go to PassNetworks::Use: within
//   kWindowMillis at most kMaxNetworks distinct networks may use a session;
//   the next one is refused (the caller treats it as having no pass).
//   kMaxNetworks = 4: a phone's Wi-Fi and cellular, each dual stack (IPv4
//   and IPv6). kWindowMillis = 2 minutes: 12 session buckets (a pass in use
//   is renewed every 10 s, so a network in use never drops out), short
//   enough that a shopper who moved on frees the slot soon.
//
// Contract: one PassNetworks per room, shared by every worker (it lives in
// queue::RoomRuntime, which outlives reloads); thread-safe (kShards
// mutex-protected shards, one short critical section per call). Memory is
// bounded: at most kSessions sessions (about 100 bytes each, allocated as
// used); a session none of whose networks was seen within the window is
// dropped when its shard is swept (once per window, on a new session).
// When a shard is full of live sessions, a new session is not tracked and
// not refused (counted in untracked()): the table never refuses a shopper it
// cannot count. Per process: instances sharing Redis count separately (a
// copy split over N instances gets up to N × kMaxNetworks networks).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace tidegate::queue {

// The network of `client_ip` as a pass records it: a hash of
// ClientNetworkKey(client_ip) keyed by `key` (a room secret); never 0.
// 0 when `client_ip` is not a textual IPv4 or IPv6 address (not known: no
// check is made). Thread-safe; remembers its last answer per thread (the same
// address again costs a comparison).
uint32_t PassNetworkOf(uint64_t key, std::string_view client_ip);

class PassNetworks {
 public:
  static constexpr size_t kMaxNetworks = 4;
  static constexpr int64_t kWindowMillis = 120'000;
  static constexpr size_t kShards = 16;
  static constexpr size_t kSessionsPerShard = 8192;
  static constexpr size_t kSessions = kShards * kSessionsPerShard;

  PassNetworks();
  ~PassNetworks();
  // Records that `network` uses `session` at `now_ms`: true when it may
  // (already one of the session's networks within the window, or fewer
  // than kMaxNetworks are); false, nothing recorded, when kMaxNetworks
  // other networks used the session within the window. `network` 0 or
  // `session` 0 (a pass from before session ids): true, nothing recorded.
  bool Use(uint64_t session, uint32_t network, int64_t now_ms);
  // Sessions tracked now (swept or not).
  size_t sessions() const;
  uint64_t untracked() const { return untracked_.load(std::memory_order_relaxed); }

 private:
  struct Seen {
    uint32_t network = 0;  // 0: free
    int64_t last_ms = 0;
  };
  using Networks = std::array<Seen, kMaxNetworks>;
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<uint64_t, Networks> sessions;
    int64_t swept_ms = 0;
  };
  std::unique_ptr<Shard[]> shards_;
  std::atomic<uint64_t> untracked_{0};
};

}  // namespace tidegate::queue
