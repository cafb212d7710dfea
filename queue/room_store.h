// RoomStore: where the state of one waiting room lives. Two implementations:
// LocalRoomStore (queue/local_room_store.h, in-process, the default) and a
// Redis store (one atomic Lua script per method, every key of the room under
// one hash tag `tidegate:{room}:…`).
//
// The room model (docs/waiting-room.md; O(1) memory per room whatever the
// number of queued visitors):
// * `tickets`  — a counter; every queued visitor gets the next number, which
//                is written into its signed wait cookie. No ticket is stored.
// * `serving`  — the highest number invited in. A visitor whose number is
//                <= serving is admitted when it next asks (Claim).
// * sessions   — active shoppers counted in time buckets of kBucketMillis:
//                a pass cookie remembers the bucket it was last counted in;
//                renewing moves it from that bucket to the current one.
//                Active = sum of the buckets inside session_duration.
// * admissions are counted per bucket (the measured admission rate, for
//                the wait estimate); invitations and claims are counted by
//                the bucket of the invitation (its cohort: the first number
//                invited in each bucket is kept), so the share of invited
//                visitors who really come back (ghosts) is measured per
//                cohort, exactly, whatever the invitation rate does.
// * credit     — a token bucket of admissions, refilled at
//                new_users_per_minute; Tick() turns credit into invitations,
//                scaled up by the measured ghost share so that the rate of
//                REAL admissions stays at target (ghosts do not stall it).
// The arithmetic is queue/room_logic.h (pure, one function per method below);
// a shared store runs the same arithmetic atomically (a Lua script per call).
//
// Threads and completion:
// * Every method may be called from any worker thread, which names itself
//   in `caller` (StoreCaller below). `done` is called exactly once, on the
//   calling thread: either before the method returns (LocalRoomStore always
//   does this), or later from `caller.loop` (a shared store). Callers must
//   cope with both (the gate guards its per-request object with a weak
//   pointer).
// * `now_ms` is the caller's wall clock (milliseconds since the Unix epoch).
//   LocalRoomStore uses it as is (tests inject a fake clock); a shared store
//   may replace it by the store's own clock (Redis TIME) so that instances
//   with skewed clocks agree.
// * Snapshot() never blocks and never fails: the last counters this process
//   knows (LocalRoomStore: the current ones).
// * On failure a result has ok = false and an `error`; the gate then applies
//   [state].on_failure. A store never throws.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "config/config.h"

struct event_base;

namespace tidegate::queue {

// The worker making a store call: its index (0 … workers - 1, as
// proxy::StreamInfo::worker) and its event loop. A shared store answers on
// `loop` through that worker's own connection; LocalRoomStore ignores both.
// A test driving a shared store from its own loop on the main thread passes
// {0, its loop}.
struct StoreCaller {
  int worker = 0;
  event_base* loop = nullptr;
};

// Size of the time buckets sessions, admissions and invitations are counted in.
inline constexpr int64_t kBucketMillis = 10'000;
inline int64_t BucketOf(int64_t now_ms) { return now_ms / kBucketMillis; }

// Tickets of queueing_method random are shuffled in blocks of this size
// (queue/room_logic.h ShuffledNumber).
inline constexpr uint64_t kShuffleBlock = 64;

// Which ticket of shuffle block `block` (numbers block * kShuffleBlock + 1 …
// + kShuffleBlock) holds each number of that block, so that Tick() can tell
// the numbers whose ticket was issued from the empty ones of the last,
// partly filled block (it invites people, not numbers: docs/waiting-room.md
// "Random order"). Built by the caller from the room's queue order
// (WaitingRoom::BlockOrderOf); the store keeps nothing of it.
struct BlockOrder {
  // kNoTicket: no ticket of this block is placed there (an event's draw
  // placed another block's ticket there): counted as issued.
  static constexpr uint8_t kNoTicket = 0xff;
  bool known = false;  // false: nothing known (Tick does not enter the block)
  uint64_t block = 0;
  // ticket_at[i]: the offset inside the block (0 … kShuffleBlock - 1) of
  // the ticket placed at number block * kShuffleBlock + i + 1.
  std::array<uint8_t, kShuffleBlock> ticket_at{};
  // True when every number of the block holds one of the block's own
  // tickets (a permutation of the block: no event draw meets it).
  bool Closed() const;
};

// The room's settings in force (configuration merged with the operators'
// run-time overrides, state::EffectiveRoomSettings). Passed on every call so
// that a PATCH /v1/rooms applies at once and a store keeps no configuration.
struct RoomLimits {
  config::RoomMode mode = config::RoomMode::kAuto;
  config::QueueingMethod method = config::QueueingMethod::kFifo;
  uint32_t total_active_users = 500;
  uint32_t new_users_per_minute = 200;
  int64_t session_ms = 300'000;
  // How often a queued visitor polls ([rooms.NAME].refresh_interval): an
  // invitation is judged (claimed or ghost) only once every live visitor
  // has had the time to poll.
  int64_t refresh_ms = 5'000;
  // How long an invitation may be claimed ([rooms.NAME].invitation_window,
  // at least 3 x refresh_ms: InvitationWindowMs in queue/room_events.h): a
  // number invited longer ago than this, counted from the end of the bucket
  // it was invited in, and never claimed is lapsed (room_logic.h
  // ClaimStep). 0: invitations never lapse.
  int64_t invite_window_ms = 0;
  // queueing_method random: the order of the block holding the last ticket
  // issued, as the caller knows it (Tick: which numbers are empty; Arrive:
  // which tickets are never issued, room_logic.h NextTicket; BlockOrder
  // above).
  BlockOrder last_block;
};

// The room's counters, as last known to this process.
struct RoomCounters {
  uint64_t tickets = 0;            // tickets issued so far (the last ticket's number)
  uint64_t serving = 0;            // highest ticket number invited in
  int64_t active = 0;              // sessions counted inside session_duration
  uint64_t admitted_total = 0;     // admissions (direct + claimed) since the room exists
  double admitted_per_minute = 0;  // measured over the last complete minute of buckets
  double claim_ratio = 1;          // share of invited visitors who came back (ghost correction)
  int64_t updated_ms = 0;          // the store clock when these were read (0 = never)
  uint64_t queued() const { return tickets > serving ? tickets - serving : 0; }
};

template <typename T>
struct StoreResult {
  bool ok = true;
  std::string error;  // set when !ok
  T value{};
};

struct ArriveOutcome {
  bool admitted = false;  // true: a session was counted in `bucket`; false: `ticket` issued
  uint64_t ticket = 0;    // the new ticket when queued
  // Who numbered `ticket`: 0 the store; a local fallback sets its process's
  // id (LocalIssuerId(), room_registry.h), written into the wait token.
  uint64_t issuer = 0;
  int64_t bucket = 0;     // the session's bucket when admitted
  RoomCounters counters;  // after the operation
};

struct ClaimOutcome {
  bool admitted = false;  // false: not invited yet (number > serving), the room is full, or reused
  bool reused = false;    // the number was claimed before (or is below the claim window)
  // The number was invited longer than RoomLimits::invite_window_ms ago and
  // never claimed: not admitted, the number is spent (a second claim of it
  // is `reused`) and `ticket` is a new ticket at the back of the line.
  bool lapsed = false;
  uint64_t ticket = 0;  // lapsed: the new ticket
  uint64_t issuer = 0;  // lapsed: who numbered it (as ArriveOutcome::issuer)
  // Admitted again: a repeat claim of this number with the session the
  // first claim started (still counted, not ended); nothing counted again.
  bool again = false;
  int64_t bucket = 0;  // the session's bucket when admitted (again: where it is counted now)
  RoomCounters counters;
};

class RoomStore {
 public:
  template <typename T>
  using Done = std::function<void(const StoreResult<T>&)>;

  virtual ~RoomStore() = default;

  // A visitor without a pass and without a ticket. When `may_admit_directly`
  // (mode auto) and nobody is waiting, the room has space (active + invited
  // but unclaimed < total_active_users) and admission credit is left, it is
  // admitted at once (a session counted in the current bucket, one credit
  // spent); otherwise it gets the next ticket. mode queue_all passes false.
  virtual void Arrive(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                      bool may_admit_directly, Done<ArriveOutcome> done) = 0;

  // A queued visitor asks to come in with its queue number (the ticket, or
  // for queueing_method random the shuffled number, queue/room_logic.h).
  // Admitted when number <= serving, active < total_active_users and the
  // number was never claimed: one ticket, one admission (atomically: of two
  // clients presenting the same number at once, on any instances, exactly
  // one is admitted; the other gets `reused`). A claim consumes admission
  // credit (room_logic.h, ClaimStep). An invitation not claimed within
  // limits.invite_window_ms is `lapsed`: no admission, a new ticket at the
  // back instead (docs/waiting-room.md, "The invitation window").
  // `session`: the id of the session the claim starts, derived from the
  // wait cookie (TokenCodec::ClaimSessionId; 0: none). The first claim
  // records it as counted in the current bucket (the renewed-session
  // record). A repeat claim of a claimed number with the same id, while
  // that session is still counted (inside session_duration) and was not
  // ended, is admitted `again` into that session, in the bucket it is
  // counted in, counting nothing (the answer to the first claim may have
  // been lost: docs/waiting-room.md, "Claims and session end"); any other
  // repeat claim is `reused`.
  // `issuer`: the wait token's (queue/token.h; 0: a ticket of the store).
  // "Claimed" is recorded per (number, issuer): the same number issued by
  // Redis and by an instance's local fallback during an outage (or by two
  // instances' fallbacks) is two tickets, each admitted once.
  virtual void Claim(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                     uint64_t number, uint64_t session, uint64_t issuer,
                     Done<ClaimOutcome> done) = 0;

  // Admits unconditionally (queueing_method passthrough, shadow mode): a
  // session counted in the current bucket; returns the bucket.
  virtual void Admit(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                     Done<int64_t> done) = 0;

  // Moves an active session from `old_bucket` to the current bucket (the
  // old one is decremented only while it is still inside session_duration).
  // Returns the current bucket, or kSessionRefused (-1) when `session` was
  // ended (its pass no longer works). Called only when the bucket changed,
  // so at most once per kBucketMillis per shopper: no store work on the
  // admitted hot path otherwise.
  virtual void RenewSession(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                            int64_t old_bucket, uint64_t session, Done<int64_t> done) = 0;

  // Ends session `session` (counted in `bucket`, its pass expiring at
  // pass_expires_ms) once (Tidegate-Session: end): true the first time
  // (the place is freed and the session recorded as ended until its passes
  // expire), false afterwards (nothing changes). Session 0 (a pass signed
  // before session ids existed) is never recorded: false, it lapses.
  virtual void EndSession(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                          int64_t bucket, uint64_t session, int64_t pass_expires_ms,
                          Done<bool> done) = 0;

  // The admitted hot path's check, synchronous and cheap (no I/O): true
  // when this process knows `session` was ended. LocalRoomStore: its own
  // record (an atomic read when no session was ended, else a lock and a
  // hash lookup). A shared store: the sessions ended through this process
  // and those its renewals found ended; a session ended on another instance
  // is refused here at the pass's next renewal (within kBucketMillis).
  virtual bool SessionEnded(uint64_t session, int64_t now_ms) const = 0;

  // Advances `serving` by what the limits allow since the previous tick
  // (elapsed time × new_users_per_minute, scaled by the claim ratio, capped by
  // free places and by the tickets issued), prunes old buckets and returns
  // the counters. Calling it more often never admits more. Meant to run every
  // ~250 ms for a room with visitors waiting (any instance, any thread).
  virtual void Tick(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                    Done<RoomCounters> done) = 0;

  // Scheduled events: records the room's `tickets` counter under `name` the
  // first time it is called for that name (any instance), and returns the
  // recorded value on every call (so every instance agrees where a pre-queue
  // began and ended). O(1) memory per name; names are few (two per event).
  virtual void Mark(const StoreCaller& caller, const std::string& name, int64_t now_ms,
                    Done<uint64_t> done) = 0;

  // Records `proposed` under `name` the first time a non-zero value is
  // proposed for that name (any instance), and returns the recorded value on
  // every call; proposed 0 only reads (0 = nothing recorded yet). Shares the
  // marks' namespace and storage (state file, Redis hash); values below
  // 2^53 (exact as Lua and JSON numbers).
  // The queue order (queue/queue_order.h) keeps its method history and
  // shuffle seed this way, so that every instance agrees on them.
  virtual void Keep(const StoreCaller& caller, const std::string& name, uint64_t proposed,
                    int64_t now_ms, Done<uint64_t> done) = 0;

  // The last known counters; never blocks, never fails.
  virtual RoomCounters Snapshot() const = 0;

  // A shared store that lost the room's state (Redis restarted empty,
  // flushed, a replica behind): how often its counters were raised back
  // to what this process had seen, and how often the queue order's marks
  // were proposed again. Zero for a store that cannot lose state (local).
  // Any thread.
  virtual uint64_t restores() const { return 0; }
  virtual uint64_t mark_restores() const { return 0; }
};

}  // namespace tidegate::queue
