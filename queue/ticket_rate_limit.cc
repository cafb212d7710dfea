#include "queue/ticket_rate_limit.h"

#include <arpa/inet.h>

#include <cstring>

namespace tidegate::queue {
namespace {

constexpr size_t kProbe = 8;
constexpr int64_t kWindowMs = 60'000;

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t V4Key(const unsigned char* v4) {
  uint32_t a = 0;
  std::memcpy(&a, v4, 4);
  // Distinct from any IPv6 /64 key: the family is mixed in.
  return Mix((uint64_t{4} << 32) | ntohl(a));
}

}  // namespace

std::optional<uint64_t> ClientNetworkKey(std::string_view ip) {
  char text[INET6_ADDRSTRLEN + 1];
  size_t zone = ip.find('%');  // "fe80::1%eth0": the zone is not part of the address
  if (zone != std::string_view::npos) ip = ip.substr(0, zone);
  if (ip.empty() || ip.size() >= sizeof text) return std::nullopt;
  std::memcpy(text, ip.data(), ip.size());
  text[ip.size()] = '\0';
  unsigned char bytes[16];
  if (inet_pton(AF_INET, text, bytes) == 1) return V4Key(bytes);
  if (inet_pton(AF_INET6, text, bytes) != 1) return std::nullopt;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes, kMapped, sizeof kMapped) == 0) return V4Key(bytes + 12);
  uint64_t prefix = 0;
  for (int i = 0; i < 8; ++i) prefix = (prefix << 8) | bytes[i];
  return Mix(prefix ^ 0x6a09e667f3bcc908ULL);
}

TicketRateLimiter::TicketRateLimiter() : shards_(new Shard[kShards]) {}
TicketRateLimiter::~TicketRateLimiter() = default;

int TicketRateLimiter::SecondsToNextWindow(int64_t now_ms) {
  int64_t left = kWindowMs - (now_ms % kWindowMs + kWindowMs) % kWindowMs;
  return static_cast<int>((left + 999) / 1000);
}

bool TicketRateLimiter::Allow(std::string_view client_ip, uint32_t per_minute, int64_t now_ms) {
  if (per_minute == 0) return true;
  std::optional<uint64_t> key = ClientNetworkKey(client_ip);
  if (!key) return true;
  uint32_t minute = static_cast<uint32_t>(now_ms / kWindowMs) + 1;
  Shard& shard = shards_[*key % kShards];
  size_t start = static_cast<size_t>((*key / kShards) % kSlotsPerShard);
  std::lock_guard<std::mutex> lock(shard.mutex);
  if (shard.slots.empty()) shard.slots.resize(kSlotsPerShard);
  Slot* free_slot = nullptr;
  for (size_t i = 0; i < kProbe; ++i) {
    Slot& s = shard.slots[(start + i) % kSlotsPerShard];
    if (s.minute == minute && s.key == *key) {
      if (s.count >= per_minute) return false;
      ++s.count;
      return true;
    }
    if (s.minute != minute && free_slot == nullptr) free_slot = &s;
  }
  if (free_slot == nullptr) {
    untracked_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  *free_slot = Slot{*key, minute, 1};
  return true;
}

}  // namespace tidegate::queue
