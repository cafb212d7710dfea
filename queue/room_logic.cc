// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but
// a SHA256_CTX on the stack hashes without the per-call digest fetch of
// SHA256() and EVP (common/hmac_sha256.cc uses them the same way).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "queue/room_logic.h"

#include <openssl/sha.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

namespace tidegate::queue {
namespace {

// Buckets kept for the rate and ghost measurements (2 minutes).
constexpr int64_t kRateBuckets = 12;
// The claim ratio is measured over 6 cohorts (a minute of invitations): the
// claims of the visitors invited in those buckets against their number. The
// newest cohort used is the latest whose every live visitor has had a full
// refresh interval to poll (ClaimRatioNewestCohort).
constexpr int64_t kRatioBuckets = 6;
// Below this many invitations in the window, the ratio keeps its last value.
constexpr int64_t kRatioMinInvitations = 20;
constexpr double kMinClaimRatio = 0.1;
// Claims up to this many times the credit reserved for the kept cohorts'
// invitations are paid by that reservation (ClaimStep).
constexpr double kClaimReserveSlack = 1.1;

double RatePerMilli(const RoomLimits& limits) { return limits.new_users_per_minute / 60'000.0; }

double Burst(const RoomLimits& limits) {
  return std::max(1.0, RatePerMilli(limits) * kCreditBurstMillis);
}

int64_t Active(const RoomState& state, const RoomLimits& limits, int64_t cur) {
  return std::max<int64_t>(0, state.sessions.Sum(cur - SessionBuckets(limits) + 1, cur));
}

// Invited and not claimed yet (claims count by cohort), as the expected
// number of real visitors (ghosts discounted by the claim ratio), over the
// cohorts whose visitors may still be on their way (PendingCohortsFrom):
// an invitation that had its time no longer holds a place.
double Outstanding(const RoomState& state, const RoomLimits& limits, int64_t now_ms) {
  int64_t cur = BucketOf(now_ms);
  int64_t first = PendingCohortsFrom(limits, now_ms);
  double invited = static_cast<double>(state.invitations.Sum(first, cur)) * state.claim_ratio;
  double claimed = static_cast<double>(state.claims.Sum(first, cur));
  return std::max(0.0, invited - claimed);
}

bool HasSpace(const RoomState& state, const RoomLimits& limits, int64_t now_ms) {
  return static_cast<double>(Active(state, limits, BucketOf(now_ms))) +
             Outstanding(state, limits, now_ms) + 1.0 <=
         static_cast<double>(limits.total_active_users) + 1e-9;
}

// Refills the admission credit for the time elapsed since the last call.
void Refill(RoomState& state, const RoomLimits& limits, int64_t now_ms) {
  if (state.last_tick_ms == 0) {
    state.credit = Burst(limits);  // a new room lets a first burst in at once
    state.last_tick_ms = now_ms;
    return;
  }
  int64_t elapsed = std::clamp<int64_t>(now_ms - state.last_tick_ms, 0, 60'000);
  state.last_tick_ms = std::max(state.last_tick_ms, now_ms);
  state.credit = std::min(Burst(limits), state.credit + RatePerMilli(limits) * elapsed);
}

void Prune(RoomState& state, const RoomLimits& limits, int64_t cur) {
  state.sessions.PruneBefore(cur - SessionBuckets(limits));
  state.admissions.PruneBefore(cur - kRateBuckets);
  state.claims.PruneBefore(cur - kRateBuckets);
  state.invitations.PruneBefore(cur - kRateBuckets);
  // The cohorts also date invitations for the invitation window; the newest
  // is never dropped (it dates every number invited so far).
  auto keep_from = state.first_invited.lower_bound(cur - CohortBucketsKept(limits));
  if (keep_from == state.first_invited.end() && !state.first_invited.empty()) --keep_from;
  state.first_invited.erase(state.first_invited.begin(), keep_from);
  state.integrity.ended.Prune(cur * kBucketMillis);
}

// An invitation made in bucket b ends at the latest when b ends; a live
// visitor claims at its next poll, within refresh_ms of that.
int64_t ClaimRatioNewestCohort(const RoomLimits& limits, int64_t cur) {
  int64_t wait = (std::max<int64_t>(0, limits.refresh_ms) + kBucketMillis - 1) / kBucketMillis;
  return cur - 1 - std::min<int64_t>(wait, kRateBuckets - kRatioBuckets - 1);
}

void UpdateClaimRatio(RoomState& state, const RoomLimits& limits, int64_t cur) {
  int64_t newest = ClaimRatioNewestCohort(limits, cur);
  int64_t oldest = newest - kRatioBuckets + 1;
  int64_t invited = state.invitations.Sum(oldest, newest);
  if (invited < kRatioMinInvitations) return;
  int64_t claimed = state.claims.Sum(oldest, newest);
  state.claim_ratio =
      std::clamp(static_cast<double>(claimed) / static_cast<double>(invited), kMinClaimRatio, 1.0);
}

// `cohort` is the invitation's bucket for a queued visitor (-1: direct
// admission, or an invitation older than the buckets kept).
void CountAdmission(RoomState& state, int64_t cur, int64_t cohort = -1) {
  state.sessions.Add(cur, 1);
  state.admissions.Add(cur, 1);
  if (cohort >= 0) state.claims.Add(cohort, 1);
  ++state.admitted_total;
}

}  // namespace

void BucketCounts::Add(int64_t bucket, int64_t delta) {
  int64_t& value = counts_[bucket];
  value += delta;
  if (value == 0) counts_.erase(bucket);
}

int64_t BucketCounts::Get(int64_t bucket) const {
  auto it = counts_.find(bucket);
  return it == counts_.end() ? 0 : it->second;
}

int64_t BucketCounts::Sum(int64_t first, int64_t last) const {
  int64_t sum = 0;
  for (auto it = counts_.lower_bound(first); it != counts_.end() && it->first <= last; ++it) {
    sum += it->second;
  }
  return sum;
}

void BucketCounts::PruneBefore(int64_t first) {
  counts_.erase(counts_.begin(), counts_.lower_bound(first));
}

int64_t CohortOf(const RoomState& state, uint64_t number) {
  // The latest bucket whose first invited number is <= number. The scan
  // (at most 13 entries) matches the Lua twin's exactly, whatever the data.
  int64_t cohort = -1;
  for (const auto& [bucket, first] : state.first_invited) {
    if (first <= number && bucket > cohort) cohort = bucket;
  }
  return cohort;
}

int64_t PendingCohortsFrom(const RoomLimits& limits, int64_t now_ms) {
  int64_t since = now_ms - std::max<int64_t>(0, limits.refresh_ms);
  int64_t first = since >= 0 ? since / kBucketMillis : -1;
  return std::min(BucketOf(now_ms), first);
}

int64_t CohortBucketsKept(const RoomLimits& limits) {
  int64_t window =
      (std::max<int64_t>(0, limits.invite_window_ms) + kBucketMillis - 1) / kBucketMillis;
  return std::max<int64_t>(kRateBuckets, window + 1);
}

int64_t InvitedNoLaterThan(const RoomState& state, uint64_t number) {
  // The same scan as the Lua twin's (invited_no_later_than), whatever the data.
  int64_t cohort = -1;
  int64_t above = -1;
  for (const auto& [bucket, first] : state.first_invited) {
    if (first <= number) {
      if (bucket > cohort) cohort = bucket;
    } else if (above < 0 || bucket < above) {
      above = bucket;
    }
  }
  return cohort >= 0 ? cohort : above;
}

bool InvitationLapsed(const RoomState& state, const RoomLimits& limits, int64_t now_ms,
                      uint64_t number) {
  if (limits.invite_window_ms <= 0) return false;
  int64_t bucket = InvitedNoLaterThan(state, number);
  return bucket >= 0 && now_ms >= (bucket + 1) * kBucketMillis + limits.invite_window_ms;
}

int64_t SessionBuckets(const RoomLimits& limits) {
  return std::max<int64_t>(1, (limits.session_ms + kBucketMillis - 1) / kBucketMillis);
}

RoomCounters CountersOf(const RoomState& state, const RoomLimits& limits, int64_t now_ms) {
  int64_t cur = BucketOf(now_ms);
  RoomCounters c;
  c.tickets = state.tickets;
  c.serving = state.serving;
  c.active = Active(state, limits, cur);
  c.admitted_total = state.admitted_total;
  c.admitted_per_minute = static_cast<double>(state.admissions.Sum(cur - 6, cur - 1));
  c.claim_ratio = state.claim_ratio;
  c.updated_ms = now_ms;
  return c;
}

ArriveOutcome ArriveStep(RoomState& state, const RoomLimits& limits, int64_t now_ms,
                         bool may_admit_directly) {
  int64_t cur = BucketOf(now_ms);
  Refill(state, limits, now_ms);
  ArriveOutcome out;
  // Random: the last block's issued numbers may lie beyond `tickets`; Tick
  // ends on the ceiling only once none is left (WalkInvitations).
  bool nobody_waiting = state.serving >= InviteCeiling(state.tickets, limits.method);
  if (may_admit_directly && nobody_waiting && state.credit >= 1.0 &&
      HasSpace(state, limits, now_ms)) {
    state.credit -= 1.0;
    CountAdmission(state, cur);
    out.admitted = true;
    out.bucket = cur;
  } else {
    state.tickets = NextTicket(state.tickets, state.serving, limits.method, limits.last_block);
    out.ticket = state.tickets;
  }
  out.counters = CountersOf(state, limits, now_ms);
  return out;
}

namespace {

// One ticket, one admission, keyed by (number, issuer): issuer 0 is the
// store's ticket (the ring), another a local fallback's (room_integrity.h).
bool ClaimedBefore(const RoomState& state, uint64_t number, uint64_t issuer) {
  return issuer == 0 ? state.integrity.claimed.Test(number)
                     : state.integrity.claimed_by.Test(number, issuer);
}

void RecordClaim(RoomState& state, uint64_t number, uint64_t issuer) {
  if (issuer == 0) {
    state.integrity.claimed.Set(number);
    return;
  }
  if (state.serving >= kClaimWindow) {
    state.integrity.claimed_by.PruneThrough(state.serving - kClaimWindow);
  }
  state.integrity.claimed_by.Set(number, issuer);
}

}  // namespace

ClaimOutcome ClaimStep(RoomState& state, const RoomLimits& limits, int64_t now_ms, uint64_t number,
                       uint64_t session, uint64_t issuer) {
  int64_t cur = BucketOf(now_ms);
  ClaimOutcome out;
  bool invited = number != 0 && number <= state.serving;
  bool below_window = invited && state.serving - number >= kClaimWindow;
  if (invited && (below_window || ClaimedBefore(state, number, issuer))) {
    // The first claim's answer may have been lost: the holder of the same
    // wait cookie (the same session id) gets that session again while it
    // is counted and was not ended. Nothing is counted again.
    std::optional<int64_t> counted;
    if (!below_window && session != 0 && !state.integrity.ended.Contains(session, now_ms)) {
      counted = state.integrity.renewed.Find(session);
    }
    if (counted && *counted > cur - SessionBuckets(limits) && *counted <= cur) {
      out.admitted = true;
      out.again = true;
      out.bucket = *counted;
    } else {
      out.reused = true;
    }
  } else if (invited && InvitationLapsed(state, limits, now_ms, number)) {
    // Not claimed within the window: spent (a second try is `reused`, so a
    // kept cookie cannot mint tickets) and replaced by a ticket at the back.
    RecordClaim(state, number, issuer);
    state.tickets = NextTicket(state.tickets, state.serving, limits.method, limits.last_block);
    out.lapsed = true;
    out.ticket = state.tickets;
  } else if (invited &&
             Active(state, limits, cur) < static_cast<int64_t>(limits.total_active_users)) {
    int64_t cohort = CohortOf(state, number);
    if (cohort < cur - kRateBuckets) cohort = -1;  // dated for the window only
    Refill(state, limits, now_ms);
    // Reserved: what the kept cohorts' invitations were charged (x ratio),
    // pooled so that one lucky cohort is not charged twice, with a slack
    // for the ratio's own lag.
    double invited = static_cast<double>(state.invitations.Sum(cur - kRateBuckets, cur));
    double claimed = static_cast<double>(state.claims.Sum(cur - kRateBuckets, cur));
    bool reserved =
        cohort >= 0 && claimed + 1.0 <= invited * state.claim_ratio * kClaimReserveSlack + 1e-9;
    if (!reserved) state.credit = std::max(-Burst(limits), state.credit - 1.0);
    RecordClaim(state, number, issuer);
    CountAdmission(state, cur, cohort);
    // Where the session is counted, for a repeat claim (and its renewals).
    if (session != 0) state.integrity.renewed.Record(session, cur);
    out.admitted = true;
    out.bucket = cur;
  }
  out.counters = CountersOf(state, limits, now_ms);
  return out;
}

int64_t AdmitStep(RoomState& state, const RoomLimits& limits, int64_t now_ms) {
  int64_t cur = BucketOf(now_ms);
  CountAdmission(state, cur);
  return cur;
}

int64_t RenewStep(RoomState& state, const RoomLimits& limits, int64_t now_ms, int64_t old_bucket,
                  uint64_t session) {
  int64_t cur = BucketOf(now_ms);
  if (session != 0 && state.integrity.ended.Contains(session, now_ms)) return kSessionRefused;
  // A session renewed before is counted where that renewal put it, whatever
  // older pass the client sends again.
  if (session != 0) {
    if (std::optional<int64_t> renewed = state.integrity.renewed.Find(session)) {
      old_bucket = std::max(old_bucket, *renewed);
    }
  }
  if (old_bucket >= cur) return old_bucket;
  // Decrement the old bucket only while it still counts (inside the
  // session window) and is positive; a lapsed session is counted anew.
  if (old_bucket > cur - SessionBuckets(limits) && state.sessions.Get(old_bucket) > 0) {
    state.sessions.Add(old_bucket, -1);
  }
  state.sessions.Add(cur, 1);
  if (session != 0) state.integrity.renewed.Record(session, cur);
  return cur;
}

int64_t EndedRecordUntil(const RoomLimits& limits, int64_t now_ms, int64_t pass_expires_ms) {
  return std::max(pass_expires_ms, (BucketOf(now_ms) + 1) * kBucketMillis + limits.session_ms);
}

bool EndStep(RoomState& state, const RoomLimits& limits, int64_t now_ms, int64_t bucket,
             uint64_t session, int64_t pass_expires_ms) {
  if (session == 0) return false;
  int64_t until = EndedRecordUntil(limits, now_ms, pass_expires_ms);
  if (!state.integrity.ended.Insert(session, until, now_ms)) return false;
  // Ended with an older pass than its last renewal: counted there.
  if (std::optional<int64_t> renewed = state.integrity.renewed.Find(session)) {
    bucket = std::max(bucket, *renewed);
  }
  int64_t cur = BucketOf(now_ms);
  if (bucket <= cur && bucket > cur - SessionBuckets(limits) && state.sessions.Get(bucket) > 0) {
    state.sessions.Add(bucket, -1);
  }
  return true;
}

RoomCounters TickStep(RoomState& state, const RoomLimits& limits, int64_t now_ms) {
  int64_t cur = BucketOf(now_ms);
  Refill(state, limits, now_ms);
  Prune(state, limits, cur);
  state.integrity.renewed.Prune(cur - SessionBuckets(limits));
  UpdateClaimRatio(state, limits, cur);
  bool queueing =
      limits.mode != config::RoomMode::kOff && (limits.method == config::QueueingMethod::kFifo ||
                                                limits.method == config::QueueingMethod::kRandom);
  uint64_t ceiling = InviteCeiling(state.tickets, limits.method);
  if (queueing && ceiling > state.serving) {
    double space = static_cast<double>(limits.total_active_users) -
                   static_cast<double>(Active(state, limits, cur)) -
                   Outstanding(state, limits, now_ms);
    double allowed = std::min(state.credit, space);
    if (allowed > 0) {
      // Invite enough that the expected number of real visitors (ghosts
      // discounted) matches the credit: ghosts do not stall the queue. Only
      // numbers whose ticket was issued count (people, not numbers): the
      // empty numbers of the last shuffle block are passed over free.
      auto people = static_cast<uint64_t>(std::floor(allowed / state.claim_ratio + 1e-9));
      InviteWalk walk = people == 0 ? InviteWalk{state.serving, 0}
                                    : WalkInvitations(state.serving, state.tickets, people,
                                                      limits.method, limits.last_block);
      if (walk.serving > state.serving) {
        state.first_invited.emplace(cur, state.serving + 1);  // kept if already there
        state.integrity.claimed.ClearRange(state.serving + 1, walk.serving);
        state.serving = walk.serving;
        state.invitations.Add(cur, static_cast<int64_t>(walk.invited));
        state.credit -= static_cast<double>(walk.invited) * state.claim_ratio;
      }
    }
  }
  return CountersOf(state, limits, now_ms);
}

uint64_t InviteCeiling(uint64_t tickets, config::QueueingMethod method) {
  if (method != config::QueueingMethod::kRandom) return tickets;
  return (tickets + kShuffleBlock - 1) / kShuffleBlock * kShuffleBlock;
}

bool BlockOrder::Closed() const {
  return known &&
         std::none_of(ticket_at.begin(), ticket_at.end(), [](uint8_t t) { return t == kNoTicket; });
}

InviteWalk WalkInvitations(uint64_t serving, uint64_t tickets, uint64_t people,
                           config::QueueingMethod method, const BlockOrder& last) {
  InviteWalk walk{serving, 0};
  uint64_t ceiling = InviteCeiling(tickets, method);
  if (ceiling <= serving || people == 0) return walk;
  // Every number up to `full` is issued (whole blocks, or fifo).
  uint64_t full = ceiling == tickets ? tickets : (tickets - 1) / kShuffleBlock * kShuffleBlock;
  if (walk.serving < full) {
    uint64_t take = std::min(people, full - walk.serving);
    walk.serving += take;
    walk.invited += take;
  }
  if (walk.invited == people || walk.serving >= ceiling) return walk;
  // The last, partly filled block: numbers full + 1 … ceiling.
  if (!last.known || last.block != full / kShuffleBlock) return walk;
  uint64_t issued = tickets - full;  // its tickets issued (offsets 0 … issued - 1)
  for (uint64_t n = walk.serving + 1; n <= ceiling; ++n) {
    uint8_t at = last.ticket_at[n - full - 1];
    if (at != BlockOrder::kNoTicket && at >= issued) continue;  // empty: free
    if (walk.invited == people) return walk;  // someone is left: stop on the last invited
    ++walk.invited;
    walk.serving = n;
  }
  walk.serving = ceiling;  // nobody left before the ceiling
  return walk;
}

uint64_t NextTicket(uint64_t tickets, uint64_t serving, config::QueueingMethod method,
                    const BlockOrder& last) {
  uint64_t next = tickets + 1;
  if (method != config::QueueingMethod::kRandom || !last.Closed()) return next;
  uint64_t first = last.block * kShuffleBlock;  // the block holds first + 1 … first + 64
  if (next <= first || next > first + kShuffleBlock || serving <= first) return next;
  std::array<uint64_t, kShuffleBlock> number_of{};  // a ticket's offset -> its number
  for (uint64_t i = 0; i < kShuffleBlock; ++i) number_of[last.ticket_at[i]] = first + i + 1;
  // Passed numbers of the block are skipped; past its end, the next block.
  while (next <= first + kShuffleBlock && number_of[next - first - 1] <= serving) ++next;
  return next;
}

uint64_t PositionOf(uint64_t ticket, uint64_t number, uint64_t serving, const BlockOrder& order) {
  if (number <= serving) return 1;
  uint64_t first = order.block * kShuffleBlock;  // the block holds first + 1 … first + 64
  bool inside = ticket > first && ticket <= first + kShuffleBlock && number > first &&
                number <= first + kShuffleBlock;
  if (!inside || !order.Closed() || order.ticket_at[number - first - 1] != ticket - first - 1) {
    return number - serving;
  }
  uint64_t mine = ticket - first - 1;
  uint64_t ahead = serving < first ? first - serving : 0;  // earlier blocks: all issued before
  for (uint64_t n = std::max(serving, first) + 1; n < number; ++n) {
    if (order.ticket_at[n - first - 1] < mine) ++ahead;
  }
  return ahead + 1;
}

uint64_t ShuffledNumber(uint64_t ticket, std::string_view seed) {
  if (ticket == 0) return 0;
  return BlockShuffle((ticket - 1) / kShuffleBlock, seed).Number(ticket);
}

BlockShuffle::BlockShuffle(uint64_t block, std::string_view seed) : block_(block) {
  // The round functions are taken from SHA-256(seed | block): the seed, '|'
  // and the block number in decimal. Hashed from the stack: SHA256() would
  // fetch the digest (a lock and a table lookup) and the input was a string.
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, seed.data(), seed.size());
  char tail[1 + 20];
  tail[0] = '|';
  char* end = std::to_chars(tail + 1, tail + sizeof(tail), block).ptr;
  SHA256_Update(&ctx, tail, static_cast<size_t>(end - tail));
  static_assert(sizeof(digest_) == SHA256_DIGEST_LENGTH);
  SHA256_Final(digest_, &ctx);
}

uint64_t BlockShuffle::Number(uint64_t ticket) const {
  // A 4-round Feistel network on the 6-bit index inside the block: a
  // permutation by construction, with round functions taken from the
  // block's digest — unpredictable without the seed.
  static_assert(kShuffleBlock == 64, "the Feistel rounds work on two 3-bit halves");
  unsigned left = ((ticket - 1) % kShuffleBlock) >> 3;
  unsigned right = ((ticket - 1) % kShuffleBlock) & 7;
  for (int round = 0; round < 4; ++round) {
    unsigned f = digest_[round * 8 + right] & 7;
    unsigned next_right = left ^ f;
    left = right;
    right = next_right;
  }
  return block_ * kShuffleBlock + ((left << 3) | right) + 1;
}

}  // namespace tidegate::queue
