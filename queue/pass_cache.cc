#include "queue/pass_cache.h"

#include <openssl/crypto.h>

#include <cstring>
#include <functional>

#include "common/signed_token.h"

namespace tidegate::queue {

namespace {

// Where a token's MAC starts: its last 43 characters (0 for a text too
// short to hold one). The MAC is 256 pseudo-random bits: it alone picks the
// slot (hashing a third of the text), and it alone needs constant time.
size_t MacStart(std::string_view text) {
  constexpr size_t kMacChars = common::SignedTokenCodec::kMacChars;
  return text.size() > kMacChars ? text.size() - kMacChars : 0;
}

uint64_t SlotHash(std::string_view text) {
  return std::hash<std::string_view>{}(text.substr(MacStart(text)));
}

}  // namespace

std::optional<PassToken> PassCache::Find(std::string_view text, std::string_view room) const {
  uint64_t hash = SlotHash(text);
  const Shard& shard = shards_[hash % kShards];
  std::lock_guard<std::mutex> lock(shard.mutex);
  const Slot& slot = shard.slots[(hash / kShards) % kSlotsPerShard];
  if (slot.hash != hash || slot.text.size() != text.size() || slot.text.empty() ||
      slot.token.room != room) {
    return std::nullopt;
  }
  size_t mac = MacStart(text);
  if (std::memcmp(slot.text.data(), text.data(), mac) != 0 ||
      CRYPTO_memcmp(slot.text.data() + mac, text.data() + mac, text.size() - mac) != 0) {
    return std::nullopt;
  }
  return slot.token;
}

void PassCache::Insert(std::string_view text, const PassToken& token) {
  if (text.empty()) return;
  uint64_t hash = SlotHash(text);
  Shard& shard = shards_[hash % kShards];
  std::lock_guard<std::mutex> lock(shard.mutex);
  Slot& slot = shard.slots[(hash / kShards) % kSlotsPerShard];
  slot.hash = hash;
  slot.text.assign(text.data(), text.size());
  slot.token = token;
}

}  // namespace tidegate::queue
