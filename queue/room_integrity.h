// One ticket, one admission; one end per session: the two records of a
// room that keep a scripted client from entering twice with one place
// (docs/waiting-room.md, "Claims and session end"). Part of RoomState
// (queue/room_logic.h), kept in one struct (RoomIntegrity) so that a state
// file can export and import it as a whole.
//
// * ClaimedNumbers — which invited queue numbers were already claimed: a
//   ring bitmap of kClaimWindow bits, bit (n % kClaimWindow) for number n,
//   covering the numbers (serving - kClaimWindow, serving]. Tickets are
//   dense integers, so this is O(1) memory per room (at most 128 KiB,
//   grown in 64-bit words as `serving` grows) whatever the queue length.
//   Low-water mark: a number at or below serving - kClaimWindow counts as
//   claimed (an invitation more than 1,048,576 numbers old: about 8.7 hours
//   at 2,000 invitations a minute, beyond the wait cookie's 6 hours at the
//   usual rates). When `serving` advances, the slots of the newly invited
//   numbers are cleared (ClearRange), which is O(numbers invited).
// * IssuedClaims — the claimed numbers of tickets issued by an instance's
//   local fallback during a Redis outage (a wait token with an issuer, not
//   0: queue/token.h): keyed by (number, issuer), so that such a ticket and
//   the same number issued by the store or by another instance are two
//   tickets, each claimed once. Entries at or below serving - kClaimWindow
//   are pruned (they count as claimed anyway, as for ClaimedNumbers); only
//   outages issue such tickets, so it holds at most an outage's claims.
//   Not persisted (a local room never issues them).
// * EndedSessions — the session ids ended by `Tidegate-Session: end`, each
//   until the last pass of that session expires; pruned by expiry (in
//   insertion order, expiries are nearly monotone) and capped at
//   kMaxEndedSessions entries (beyond that the oldest record is dropped
//   first: its pass is then the first to expire anyway).
// * RenewedSessions — the bucket each renewed session is counted in now, so
//   that a renewal moves a session once: a client that keeps sending its
//   old pass (ignoring the renewed Set-Cookie) is found in its current
//   bucket instead of being added again on every request. A record lasts
//   while its bucket is inside the session window (pruned by bucket, in
//   insertion order, which is bucket order) and is capped at
//   kMaxRenewedSessions entries (the oldest dropped first).
//
// The Redis twin (queue/redis_room_scripts.h) keeps the same records in a
// string bitmap (SETBIT/GETBIT at n % kClaimWindow) and three sorted sets
// (ended: session id -> until_ms; renewed: session id -> bucket;
// claimed_by: "<issuer>:<number>" -> number).
//
// Contract: plain values, not thread-safe (the store serialises, like the
// rest of RoomState).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tidegate::queue {

inline constexpr uint64_t kClaimWindow = uint64_t{1} << 20;
inline constexpr size_t kMaxEndedSessions = 200'000;
inline constexpr size_t kMaxRenewedSessions = 200'000;

class ClaimedNumbers {
 public:
  bool Test(uint64_t number) const;
  void Set(uint64_t number);
  // Clears the slots of numbers first..last (inclusive); a span of
  // kClaimWindow or more clears everything.
  void ClearRange(uint64_t first, uint64_t last);
  // The ring's words (slot i is bit i % 64 of word i / 64); for export.
  const std::vector<uint64_t>& words() const { return words_; }
  std::vector<uint64_t>& mutable_words() { return words_; }

 private:
  std::vector<uint64_t> words_;
};

class IssuedClaims {
 public:
  bool Test(uint64_t number, uint64_t issuer) const {
    return claimed_.count({number, issuer}) != 0;
  }
  void Set(uint64_t number, uint64_t issuer) { claimed_.insert({number, issuer}); }
  // Drops the entries of numbers <= `last`.
  void PruneThrough(uint64_t last) {
    claimed_.erase(claimed_.begin(), claimed_.upper_bound({last, UINT64_MAX}));
  }
  size_t size() const { return claimed_.size(); }

 private:
  std::set<std::pair<uint64_t, uint64_t>> claimed_;  // (number, issuer)
};

class EndedSessions {
 public:
  // True when `session` was ended and its record still runs at now_ms.
  bool Contains(uint64_t session, int64_t now_ms) const;
  // Records `session` as ended until `until_ms`; false when it already was.
  bool Insert(uint64_t session, int64_t until_ms, int64_t now_ms);
  // Drops the records that ran out at now_ms.
  void Prune(int64_t now_ms);
  size_t size() const { return until_.size(); }
  // (until_ms, session) in insertion order; for export (Insert rebuilds).
  const std::deque<std::pair<int64_t, uint64_t>>& entries() const { return order_; }

 private:
  std::unordered_map<uint64_t, int64_t> until_;
  std::deque<std::pair<int64_t, uint64_t>> order_;
};

class RenewedSessions {
 public:
  // The bucket `session` was last renewed into, if recorded.
  std::optional<int64_t> Find(uint64_t session) const;
  // Records that `session` is counted in `bucket` now (bucket >= every
  // bucket recorded before: the store's clock only moves forward).
  void Record(uint64_t session, int64_t bucket);
  // Drops the records of buckets at or below `oldest_outside` (left the
  // session window).
  void Prune(int64_t oldest_outside);
  size_t size() const { return bucket_.size(); }
  // Calls f(bucket, session) for every record, oldest first; for export
  // (Record rebuilds).
  template <typename F>
  void ForEach(F f) const {
    for (const auto& [bucket, session] : order_) {
      auto it = bucket_.find(session);
      if (it != bucket_.end() && it->second == bucket) f(bucket, session);
    }
  }

 private:
  std::unordered_map<uint64_t, int64_t> bucket_;
  std::deque<std::pair<int64_t, uint64_t>> order_;  // (bucket, session)
};

struct RoomIntegrity {
  ClaimedNumbers claimed;   // the store's tickets (issuer 0)
  IssuedClaims claimed_by;  // tickets with an issuer
  EndedSessions ended;
  RenewedSessions renewed;
};

}  // namespace tidegate::queue
