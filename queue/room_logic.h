// The waiting room's arithmetic: a pure state machine over RoomState, one
// function per RoomStore method (queue/room_store.h), with the clock passed
// in. LocalRoomStore runs it under a mutex; a Redis store runs the same
// steps in Lua. docs/waiting-room.md explains the algorithm.
//
// Contract: pure functions (no I/O, no clock, no randomness), not
// thread-safe on one RoomState (the caller serialises). Memory is bounded:
// bucket maps are pruned to session_duration (sessions) or a few minutes
// (the cohorts: the invitation window, at most an hour of buckets).
#pragma once

#include <cstdint>
#include <map>
#include <string_view>

#include "queue/room_integrity.h"
#include "queue/room_store.h"

namespace tidegate::queue {

// Counts per time bucket (kBucketMillis), pruned from below.
class BucketCounts {
 public:
  void Add(int64_t bucket, int64_t delta);
  int64_t Get(int64_t bucket) const;
  // Sum of buckets in [first, last].
  int64_t Sum(int64_t first, int64_t last) const;
  // Drops buckets < first.
  void PruneBefore(int64_t first);
  size_t size() const { return counts_.size(); }
  // Every bucket and its count (persistence: queue/room_state_json.h).
  const std::map<int64_t, int64_t>& entries() const { return counts_; }

 private:
  std::map<int64_t, int64_t> counts_;
};

struct RoomState {
  uint64_t tickets = 0;
  uint64_t serving = 0;
  uint64_t admitted_total = 0;
  double credit = 0;         // admissions the rate still allows now (token bucket)
  int64_t last_tick_ms = 0;  // 0 = never ticked (credit starts full)
  double claim_ratio = 1;
  BucketCounts sessions;     // active sessions by last-seen bucket
  BucketCounts admissions;   // every admission by bucket (measured rate)
  BucketCounts claims;       // admissions of queued visitors by the bucket they were invited in
  BucketCounts invitations;  // serving advances by bucket
  // Bucket -> the first queue number invited in it (numbers are invited in
  // order, so a claimed number's cohort is the latest bucket whose first
  // number is <= it). Pruned with the other rate buckets.
  std::map<int64_t, uint64_t> first_invited;
  // Claimed numbers and ended sessions (queue/room_integrity.h).
  RoomIntegrity integrity;
};

// The bucket `number` was invited in, or -1 when that is older than the
// buckets kept.
int64_t CohortOf(const RoomState& state, uint64_t number);

// The oldest cohort whose invitations still hold places: an invitation of
// bucket b was made before b ended and its visitor, if real, claims at its
// next poll, within refresh_ms; from (b + 1) * kBucketMillis + refresh_ms on
// it is judged a ghost and its place is given on (audit 14 F4: before, two
// whole buckets, 10-20 s, whatever the refresh interval). The current
// bucket always counts.
int64_t PendingCohortsFrom(const RoomLimits& limits, int64_t now_ms);

// How many buckets of cohorts (first_invited) Tick keeps: the 2 minutes of
// rate buckets, or the invitation window and one bucket when longer; the
// newest cohort is kept whatever its age.
int64_t CohortBucketsKept(const RoomLimits& limits);

// The latest bucket `number` (invited: <= serving) can have been invited
// in: its cohort, or, older than the cohorts kept, the oldest kept bucket
// whose first number is above it (numbers are invited in order); -1 when
// nothing kept dates it (no cohort recorded yet, or they were lost: a
// failover's fresh local state), and then it does not lapse.
int64_t InvitedNoLaterThan(const RoomState& state, uint64_t number);

// True when `number` was invited at least limits.invite_window_ms before
// now_ms, counted from the end of the bucket it was invited in (so never
// sooner than the window); false when the window is 0 or nothing dates it.
bool InvitationLapsed(const RoomState& state, const RoomLimits& limits, int64_t now_ms,
                      uint64_t number);

// Admission credit may accumulate for this long at most (burst size).
inline constexpr int64_t kCreditBurstMillis = 5'000;

// Number of session buckets inside session_duration (at least 1).
int64_t SessionBuckets(const RoomLimits& limits);

RoomCounters CountersOf(const RoomState& state, const RoomLimits& limits, int64_t now_ms);

ArriveOutcome ArriveStep(RoomState& state, const RoomLimits& limits, int64_t now_ms,
                         bool may_admit_directly);
// One ticket, one admission: an invited number is admitted once (the room
// has a place), recorded in state.integrity.claimed; a number claimed
// before, or below the claim window's low-water mark, is `reused` (never
// admitted), except a repeat claim with the first claim's `session` while
// that session is still counted and not ended: admitted `again` into it
// (its bucket, nothing counted; RoomStore::Claim). The first claim records
// `session` (not 0) in state.integrity.renewed at the current bucket. The
// admission is paid from the credit its invitation reserved
// (Tick charged claim_ratio per invitation); a claim beyond what the kept
// cohorts reserved (their claims > 1.1 x invitations x ratio, over the
// last 2 minutes), or of a cohort no longer kept, costs one credit (which
// may go down to -burst): claims cannot outrun new_users_per_minute by
// inflating the ghost correction.
// An invited number never claimed whose invitation is older than
// limits.invite_window_ms (InvitationLapsed) is `lapsed` instead, full room
// or not: not admitted, nothing counted, the number recorded as claimed (a
// second try is `reused`) and a new ticket issued at the back (NextTicket,
// limits.last_block as for ArriveStep), returned in `ticket`.
// `issuer`: who numbered the ticket (queue/token.h WaitToken::issuer; 0
// the store): claims are recorded per (number, issuer), so the same number
// from two issuers is two tickets, each admitted once (RoomStore::Claim).
ClaimOutcome ClaimStep(RoomState& state, const RoomLimits& limits, int64_t now_ms, uint64_t number,
                       uint64_t session = 0, uint64_t issuer = 0);
int64_t AdmitStep(RoomState& state, const RoomLimits& limits, int64_t now_ms);
// Moves session `session` from old_bucket to the current one; -1 (and no
// change) when that session was ended (kSessionRefused).
inline constexpr int64_t kSessionRefused = -1;
int64_t RenewStep(RoomState& state, const RoomLimits& limits, int64_t now_ms, int64_t old_bucket,
                  uint64_t session);
// Ends session `session` (counted in `bucket`, its pass expiring at
// pass_expires_ms) once: the first call records it as ended (until every
// pass of it has expired) and frees its place; later calls change nothing
// and return false. Session 0 (a pass from before session ids) cannot be
// told apart from others: nothing is recorded or freed, it lapses.
bool EndStep(RoomState& state, const RoomLimits& limits, int64_t now_ms, int64_t bucket,
             uint64_t session, int64_t pass_expires_ms);
// How long an ended session's record must be kept: until the last pass
// that may have been issued for it (at now_ms at the latest) expires.
int64_t EndedRecordUntil(const RoomLimits& limits, int64_t now_ms, int64_t pass_expires_ms);
RoomCounters TickStep(RoomState& state, const RoomLimits& limits, int64_t now_ms);

// queueing_method random: the queue number of ticket `ticket`, a keyed
// permutation of the block of kShuffleBlock consecutive tickets it belongs to
// (so arrivals close in time are shuffled among themselves, blocks stay in
// order, and nobody can predict a number without the key). `seed` is a
// secret (HMAC of the room name under the signing key). fifo: the ticket.
uint64_t ShuffledNumber(uint64_t ticket, std::string_view seed);

// ShuffledNumber for the tickets of one block, the block's digest computed
// once (a block order takes 64 numbers of one block). No allocation.
class BlockShuffle {
 public:
  BlockShuffle(uint64_t block, std::string_view seed);
  // ShuffledNumber(ticket, seed) for a ticket of this block (ticket >= 1,
  // (ticket - 1) / kShuffleBlock == block).
  uint64_t Number(uint64_t ticket) const;

 private:
  uint64_t block_;
  unsigned char digest_[32];
};

// The highest number Tick() may invite: the tickets issued, rounded up to
// the end of their shuffle block for random.
uint64_t InviteCeiling(uint64_t tickets, config::QueueingMethod method);

// Tick's walk over the queue numbers: from `serving`, invite `people`
// numbers whose ticket was issued. With `tickets` issued, every number of
// the blocks before the last one is issued; in the last, partly filled
// block (method random, up to InviteCeiling) `last` tells which are
// (empty numbers are passed over free, never counted). Without a known
// order of that block, the walk stops before it (a later tick, with the
// order known, goes on). The walk ends on the last number invited, or on
// the ceiling when no issued number is left before it (so that
// serving >= ceiling means nobody waits).
struct InviteWalk {
  uint64_t serving = 0;  // the new serving
  uint64_t invited = 0;  // issued numbers invited (<= people)
};
InviteWalk WalkInvitations(uint64_t serving, uint64_t tickets, uint64_t people,
                           config::QueueingMethod method, const BlockOrder& last);

// The ticket Arrive issues after `tickets`: the next one, except that in a
// random room a ticket of the last, partly filled block whose number a walk
// already passed (number <= serving: passed over free while empty) is never
// issued — a newcomer there would be invited at once, past the rate and
// ahead of nobody (docs/waiting-room.md "Random order"). `last` is the
// caller's order of the block holding ticket `tickets` (RoomLimits'
// last_block); unknown, another block or not a plain permutation (an
// event's draw meets it): the next ticket.
uint64_t NextTicket(uint64_t tickets, uint64_t serving, config::QueueingMethod method,
                    const BlockOrder& last);

// The order of block `block` when the place of each of its tickets is
// `place(ticket)` (nullopt: not known, and then nothing is): used by
// WaitingRoom::BlockOrderOf, separate for tests.
template <typename PlaceFn>
BlockOrder OrderOfBlock(uint64_t block, PlaceFn&& place) {
  BlockOrder o;
  o.block = block;
  o.ticket_at.fill(BlockOrder::kNoTicket);
  for (uint64_t i = 0; i < kShuffleBlock; ++i) {
    auto p = place(block * kShuffleBlock + i + 1);
    if (!p) return BlockOrder{};
    if (*p <= block * kShuffleBlock || *p > (block + 1) * kShuffleBlock) continue;
    uint8_t& at = o.ticket_at[*p - block * kShuffleBlock - 1];
    if (at != BlockOrder::kNoTicket) return BlockOrder{};  // two tickets, one place
    at = static_cast<uint8_t>(i);
  }
  o.known = true;
  return o;
}

// The position shown to the holder of `ticket`, placed at `number`, while
// `serving` is invited: 1 + the people ahead (numbers in (serving, number))
// whose ticket was issued before `ticket`. `order` is the order of the
// ticket's block; when it is not Closed() (an event draw meets the block,
// or nothing is known), every number ahead counts: number - serving. So the
// position never exceeds the people waiting ahead + 1 and never goes up
// while serving advances (someone who joins later and is drawn ahead in the
// same block is not counted: docs/waiting-room.md "Random order").
uint64_t PositionOf(uint64_t ticket, uint64_t number, uint64_t serving, const BlockOrder& order);

}  // namespace tidegate::queue
