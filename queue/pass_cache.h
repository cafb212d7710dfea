// PassCache: pass tokens already verified, by their exact text, so that a
// shopper's next requests with the same pass cookie (every page and asset of
// a visit, until the session moves to the next 10-s bucket and the pass is
// renewed) skip the base64 decoding and the HMAC. Owned by a TokenCodec,
// which every configuration reload builds anew: a new codec starts empty,
// so a retired key's tokens are never served from an old cache.
//
// Contract:
// * Thread-safe: 16 shards, each behind its own mutex, held for a lookup or
//   an insert (no allocation on a hit). Bounded: 16 × 256 direct-mapped
//   slots; an insert replaces whatever held the slot.
// * Find() returns a cached token only for the exact same text (the 64-bit
//   hash of its MAC first, then every byte) and the same room; the caller
//   still checks the times (a cached pass expires like any other). The MAC
//   (the last 43 characters) is compared in constant time (CRYPTO_memcmp),
//   the signed fields before it (key id, room, times, session: no secret)
//   with memcmp, which reads 32 bytes a step where CRYPTO_memcmp reads one
//   (the whole text through CRYPTO_memcmp and std::hash was ~1,200
//   instructions per cached pass, a fifth of an admitted request's room
//   work; callgrind, benches/RESULTS.md).
// * Only tokens that passed full verification are inserted.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "queue/token.h"

namespace tidegate::queue {

class PassCache {
 public:
  static constexpr size_t kShards = 16;
  static constexpr size_t kSlotsPerShard = 256;

  std::optional<PassToken> Find(std::string_view text, std::string_view room) const;
  void Insert(std::string_view text, const PassToken& token);

 private:
  struct Slot {
    uint64_t hash = 0;
    std::string text;  // empty: unused
    PassToken token;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::array<Slot, kSlotsPerShard> slots;
  };

  std::array<Shard, kShards> shards_;
};

}  // namespace tidegate::queue
