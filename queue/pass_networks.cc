#include "queue/pass_networks.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "queue/ticket_rate_limit.h"

namespace tidegate::queue {
namespace {

// MurmurHash3's 64-bit finalizer: every bit of the keyed input reaches the
// 32 bits kept.
uint64_t Finalize(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

}  // namespace

uint32_t PassNetworkOf(uint64_t key, std::string_view client_ip) {
  // No address (a unix-socket listener, a test): no network. Also keeps
  // memcmp/memcpy below from a null pointer (an empty view's data()).
  if (client_ip.empty()) return 0;
  // The last answer of this thread: a connection's next requests (keep-alive)
  // cost a comparison, not an address parse (~100 ns).
  thread_local struct {
    char ip[64];
    size_t size = SIZE_MAX;
    uint64_t key = 0;
    uint32_t network = 0;
  } last;
  if (client_ip.size() == last.size && key == last.key &&
      std::memcmp(client_ip.data(), last.ip, client_ip.size()) == 0) {
    return last.network;
  }
  std::optional<uint64_t> network = ClientNetworkKey(client_ip);
  uint32_t h = 0;
  if (network) {
    h = static_cast<uint32_t>(Finalize(*network ^ key) >> 32);
    if (h == 0) h = 1;
  }
  if (client_ip.size() <= sizeof last.ip) {
    std::memcpy(last.ip, client_ip.data(), client_ip.size());
    last.size = client_ip.size();
    last.key = key;
    last.network = h;
  }
  return h;
}

PassNetworks::PassNetworks() : shards_(new Shard[kShards]) {}
PassNetworks::~PassNetworks() = default;

bool PassNetworks::Use(uint64_t session, uint32_t network, int64_t now_ms) {
  if (session == 0 || network == 0) return true;
  Shard& shard = shards_[Finalize(session) % kShards];
  std::lock_guard<std::mutex> lock(shard.mutex);
  auto live = [now_ms](const Seen& s) {
    return s.network != 0 && now_ms - s.last_ms < kWindowMillis;
  };
  auto it = shard.sessions.find(session);
  if (it == shard.sessions.end()) {
    if (now_ms - shard.swept_ms >= kWindowMillis) {  // drop the sessions nobody used lately
      shard.swept_ms = now_ms;
      std::erase_if(shard.sessions, [&](const auto& entry) {
        for (const Seen& s : entry.second) {
          if (live(s)) return false;
        }
        return true;
      });
    }
    if (shard.sessions.size() >= kSessionsPerShard) {
      untracked_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    Networks fresh{};
    fresh[0] = Seen{network, now_ms};
    shard.sessions.emplace(session, fresh);
    return true;
  }
  Networks& seen = it->second;
  Seen* free_slot = nullptr;
  for (Seen& s : seen) {
    if (s.network == network) {
      s.last_ms = std::max(s.last_ms, now_ms);
      return true;
    }
    if (!live(s) && free_slot == nullptr) free_slot = &s;
  }
  if (free_slot == nullptr) return false;  // kMaxNetworks others within the window
  *free_slot = Seen{network, now_ms};
  return true;
}

size_t PassNetworks::sessions() const {
  size_t n = 0;
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mutex);
    n += shards_[i].sessions.size();
  }
  return n;
}

}  // namespace tidegate::queue
