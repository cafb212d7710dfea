#include "queue/pass_cache.h"

#include <openssl/crypto.h>

#include <functional>

namespace tidegate::queue {

std::optional<PassToken> PassCache::Find(std::string_view text, std::string_view room) const {
  uint64_t hash = std::hash<std::string_view>{}(text);
  const Shard& shard = shards_[hash % kShards];
  std::lock_guard<std::mutex> lock(shard.mutex);
  const Slot& slot = shard.slots[(hash / kShards) % kSlotsPerShard];
  if (slot.hash != hash || slot.text.size() != text.size() || slot.text.empty() ||
      CRYPTO_memcmp(slot.text.data(), text.data(), text.size()) != 0 || slot.token.room != room) {
    return std::nullopt;
  }
  return slot.token;
}

void PassCache::Insert(std::string_view text, const PassToken& token) {
  if (text.empty()) return;
  uint64_t hash = std::hash<std::string_view>{}(text);
  Shard& shard = shards_[hash % kShards];
  std::lock_guard<std::mutex> lock(shard.mutex);
  Slot& slot = shard.slots[(hash / kShards) % kSlotsPerShard];
  slot.hash = hash;
  slot.text.assign(text.data(), text.size());
  slot.token = token;
}

}  // namespace tidegate::queue
