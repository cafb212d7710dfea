#include "queue/room_visit.h"

#include <algorithm>

#include "proxy/cookie_header.h"
#include "queue/cookies.h"
#include "queue/join_guard.h"
#include "queue/room_abuse.h"
#include "queue/room_events.h"
#include "queue/room_logic.h"

namespace tidegate::queue {
namespace {

using config::QueueingMethod;
using config::RoomMode;
using Outcome = Visit::Outcome;

// How long a wait cookie keeps a place (closing the tab and coming back
// keeps it).
constexpr int64_t kWaitCookieMillis = 6 * 3'600'000;
// A wait cookie this old is issued again for kWaitCookieMillis more when the
// visitor polls or reloads (same ticket, same issue time): the place lasts
// while the visitor keeps coming back, however long the wait.
constexpr int64_t kWaitRenewMillis = 10 * 60'000;
// The browser keeps a wait cookie this long after its ticket lapsed, so that
// a visitor who comes back later is told their place was lost (kPlaceExpired)
// instead of silently getting a new one. The lapsed ticket is worth nothing
// else: the visitor joins as a newcomer.
constexpr int64_t kLapsedWaitMillis = 24 * 3'600'000;
// About how long a signed wait or pass token is, beside its room name
// (key id, base64 of the numbers, the MAC): for one allocation per cookie.
constexpr size_t kTokenBytes = 150;

// What a store reply needs to finish the decision. `keep` holds the
// WaitingRoom (and so `room`) alive while a call is pending.
struct Context {
  std::shared_ptr<const WaitingRoom> keep;
  const WaitingRoom* wr = nullptr;
  const CompiledRoom* room = nullptr;
  RoomLimits limits;
  StoreCaller caller;
  bool tls = false;
  int64_t now = 0;
  uint64_t number = 0;    // claim: the queue number
  uint64_t ticket = 0;    // claim: the ticket (the position shown)
  int64_t issued_ms = 0;  // claim: when the wait cookie was issued
  Visit base;             // renewal: the visit so far
  // renewal: the pass's session id; claim: the wait cookie's
  // (TokenCodec::ClaimSessionId); 0: a new one is drawn.
  uint64_t session = 0;
  // A pass of an ended session came with the request: the answer says so
  // and clears it (unless a new pass replaces it).
  bool session_ended = false;
  // Newcomer: the request carried an authentic wait cookie of this room whose
  // ticket lapsed (FindLapsedWait): a new place says so, an admission clears it.
  bool place_lapsed = false;
  // Newcomer: the request carried an authentic wait cookie of this room
  // issued before a start that lost the room's numbering (FindWait): a new
  // place says so.
  bool place_lost = false;
  // The client's network as a pass records it (PassNetworkOf; 0: not known).
  uint32_t network = 0;
  // A pass came with the request but its session is in use from too many
  // other networks (queue/pass_networks.h): the answer says so and clears it
  // (unless a new pass replaces it).
  bool pass_shared = false;
};

void GrantPass(const Context& c, int64_t bucket, Visit* v) {
  const std::string& name = c.room->config.name;
  PassToken pass{name,
                 c.now,
                 bucket,
                 (bucket + 1) * kBucketMillis + c.limits.session_ms,
                 c.session != 0 ? c.session : NewSessionId(),
                 c.network};
  // The network the pass is issued to is the session's first (or, renewed,
  // one it already has): copies elsewhere count against it.
  c.room->runtime->pass_networks.Use(pass.session, c.network, c.now);
  v->set_cookies.push_back(SetCookieWith(
      c.room->cookie_name(CookieKind::kPass, c.tls), c.tls, std::nullopt, kTokenBytes + name.size(),
      [&](std::string* out) { c.wr->codec()->AppendPass(pass, out); }));
  v->admitted = true;
  v->pass_bucket = bucket;
  v->pass_session = pass.session;
  v->pass_expires_ms = pass.expires_ms;
  v->outcome = Outcome::kForward;
}

// Queued again without a place (a used ticket, an ended session).
void RefusedAgain(const Context& c, RoomNotice notice, CookieKind clear, Visit* v) {
  v->outcome = Outcome::kQueued;
  v->admitted = false;
  v->notice = notice;
  v->set_cookies.push_back(ClearCookieValue(c.room->cookie_name(clear, c.tls), c.tls));
}

// The visit went on as a newcomer after an ended session's pass, or a pass
// used from too many networks: say why, and clear that pass unless a new
// one replaces it.
void NoteEndedSession(const Context& c, Visit* v) {
  if ((!c.session_ended && !c.pass_shared) || v->admitted) return;
  v->notice = c.session_ended ? RoomNotice::kSessionEnded : RoomNotice::kPassShared;
  v->set_cookies.insert(v->set_cookies.begin(),
                        ClearCookieValue(c.room->cookie_name(CookieKind::kPass, c.tls), c.tls));
}

Visit Failure(const Context& c) {
  Visit v;
  v.outcome = c.wr->on_failure() == config::StoreFailureMode::kOpen ? Outcome::kForward
                                                                    : Outcome::kUnavailable;
  return v;
}

// A ticket without a known place is waiting for an event's draw during the
// pre-queue, and for kDrawSettleMillis after the start (the draw is made by
// the first tick after it, and read by the other instances within a second
// or two: queue/queue_order.h). Later, or outside any event, the order is
// simply not known (the store not read yet, or unreachable).
constexpr int64_t kDrawSettleMillis = 10'000;

bool DrawAwaited(const EventState& events, int64_t now) {
  if (events.phase == EventPhase::kPrequeue) return true;
  return events.phase == EventPhase::kLive && events.event != nullptr &&
         now - ToUnixMs(events.event->start) < kDrawSettleMillis;
}

void FillQueued(const WaitingRoom& wr, const CompiledRoom& room, const RoomLimits& limits,
                uint64_t ticket, uint64_t number, int64_t issued_ms, int64_t now,
                const StoreCaller& caller, Visit* v) {
  v->outcome = Outcome::kQueued;
  if (number == UINT64_MAX) {  // PlaceOf: no place known
    EventState events = EventStateAt(room.config.events, now);
    if (!DrawAwaited(events, now)) {
      // No draw to wait for (no event, or its draw is long past): the queue
      // order is not known yet (the shared store not read yet, or unreachable).
      v->place_unknown = true;
      return;
    }
    // A pre-queue ticket before the draw, or the draw under way.
    v->awaiting_draw = true;
    v->draw_at_ms = events.phase == EventPhase::kPrequeue ? events.next_change_ms : now;
    return;
  }
  v->position = wr.PositionOf(room, limits, ticket, number, now, caller);
  v->wait = room.runtime->EstimateFor(v->position, limits);
  double waited = static_cast<double>(std::max<int64_t>(0, now - issued_ms)) / 1000.0;
  double remaining = static_cast<double>(v->wait.low_seconds + v->wait.high_seconds) / 2.0;
  v->progress = waited + remaining <= 0
                    ? 0
                    : std::clamp(static_cast<int>(100.0 * waited / (waited + remaining)), 0, 99);
}

Visit FinishRenew(const Context& c, const StoreResult<int64_t>& r) {
  if (r.ok && r.value == kSessionRefused) {  // ended, on another instance
    c.room->runtime->abuse.Count(AbuseReason::kSessionEnded);
    Visit v;
    RefusedAgain(c, RoomNotice::kSessionEnded, CookieKind::kPass, &v);
    return v;
  }
  Visit v = c.base;
  // A failed renewal keeps the visitor in: its pass is still valid.
  if (r.ok) GrantPass(c, r.value, &v);
  return v;
}

// Sets the wait cookie for `ticket` (defined below).
void AddWaitCookie(const WaitingRoom& wr, const CompiledRoom& room, bool tls,
                   const WaitToken& ticket, Visit* v);

Visit FinishClaim(const Context& c, const StoreResult<ClaimOutcome>& r) {
  if (!r.ok) return Failure(c);
  Visit v;
  if (r.value.reused) {  // one ticket, one admission
    c.room->runtime->abuse.Count(AbuseReason::kTicketReused);
    RefusedAgain(c, RoomNotice::kTicketUsed, CookieKind::kWait, &v);
    return v;
  }
  if (r.value.lapsed) {  // not back within the invitation window: a new place at the back
    c.room->runtime->abuse.Count(AbuseReason::kInvitationLapsed);
    WaitToken ticket{c.room->config.name, r.value.ticket, c.now, c.now + kWaitCookieMillis,
                     r.value.issuer};
    AddWaitCookie(*c.wr, *c.room, c.tls, ticket, &v);  // replaces the spent one
    v.notice = RoomNotice::kInvitationLapsed;
    uint64_t number =
        c.wr->PlaceOf(*c.room, c.limits, ticket.ticket, c.now, c.caller).value_or(UINT64_MAX);
    FillQueued(*c.wr, *c.room, c.limits, ticket.ticket, number, c.now, c.now, c.caller, &v);
    return v;
  }
  if (r.value.admitted) {
    // `again`: the first claim's answer was lost; its session, where it is
    // counted (c.session is that session's id), counted once.
    GrantPass(c, r.value.bucket, &v);
    v.admitted_now = !r.value.again;
    v.set_cookies.push_back(ClearCookieValue(c.room->cookie_name(CookieKind::kWait, c.tls), c.tls));
    return v;
  }
  FillQueued(*c.wr, *c.room, c.limits, c.ticket, c.number, c.issued_ms, c.now, c.caller, &v);
  return v;
}

// An admitted newcomer's lapsed wait cookie is cleared: it would announce a
// lost place the next time they queue.
void ClearLapsedWait(const Context& c, Visit* v) {
  if (!c.place_lapsed) return;
  v->set_cookies.push_back(ClearCookieValue(c.room->cookie_name(CookieKind::kWait, c.tls), c.tls));
}

Visit FinishAdmit(const Context& c, const StoreResult<int64_t>& r) {
  if (!r.ok) return Failure(c);
  Visit v;
  GrantPass(c, r.value, &v);
  v.admitted_now = true;
  ClearLapsedWait(c, &v);
  return v;
}

// Sets the wait cookie for `ticket` (whose expires_ms is kWaitCookieMillis
// from now). The browser keeps it kLapsedWaitMillis longer than the ticket
// is valid, so that a late return is recognised (kPlaceExpired).
void AddWaitCookie(const WaitingRoom& wr, const CompiledRoom& room, bool tls,
                   const WaitToken& ticket, Visit* v) {
  v->set_cookies.push_back(SetCookieWith(
      room.cookie_name(CookieKind::kWait, tls), tls, (kWaitCookieMillis + kLapsedWaitMillis) / 1000,
      kTokenBytes + ticket.room.size(),
      [&](std::string* out) { wr.codec()->AppendWait(ticket, out); }));
}

Visit FinishArrive(const Context& c, const StoreResult<ArriveOutcome>& r) {
  if (!r.ok) return Failure(c);
  Visit v;
  if (r.value.admitted) {
    GrantPass(c, r.value.bucket, &v);
    v.admitted_now = true;
    ClearLapsedWait(c, &v);
    return v;
  }
  WaitToken ticket{c.room->config.name, r.value.ticket, c.now, c.now + kWaitCookieMillis,
                   r.value.issuer};
  v.set_cookies = TakeCookieList();  // storage of an earlier page's (queue/cookies.h)
  AddWaitCookie(*c.wr, *c.room, c.tls, ticket, &v);  // replaces a lapsed one
  if (c.place_lapsed) {
    c.room->runtime->abuse.Count(AbuseReason::kPlaceExpired);
    v.notice = RoomNotice::kPlaceExpired;
  } else if (c.place_lost) {
    v.notice = RoomNotice::kPlaceLost;  // the room's loss, not the visitor's doing: no abuse count
  }
  uint64_t number =
      c.wr->PlaceOf(*c.room, c.limits, ticket.ticket, c.now, c.caller).value_or(UINT64_MAX);
  FillQueued(*c.wr, *c.room, c.limits, ticket.ticket, number, c.now, c.now, c.caller, &v);
  return v;
}

// Runs one store call. A store that completes before returning (local, or
// a failing shared store) gives the decision at once, with no allocation
// beyond the store's; otherwise the context moves to the heap and the
// waiter gets the decision from the loop through `pending`.
// `ctx` by reference: the usual (synchronous) call reads it in place; only
// a pending call moves it.
template <typename T, typename Issue, typename Finish>
std::optional<Visit> Dispatch(Context& ctx, const std::shared_ptr<const WaitingRoom>& owner,
                              PendingVisit& pending, Issue issue, Finish finish) {
  RoomRuntime& runtime = *ctx.room->runtime;
  if (!runtime.asynchronous()) {
    std::optional<StoreResult<T>> r;
    issue([&r](const StoreResult<T>& x) { r = x; });
    if (!r) {
      StoreResult<T> failed;
      failed.ok = false;
      failed.error = "store did not complete";
      r = std::move(failed);
    }
    Visit v = finish(ctx, *r);
    NoteEndedSession(ctx, &v);
    v.decided_ms = ctx.now;
    return v;
  }
  struct Pending {
    Context ctx;
    bool returned = false;
    std::optional<Visit> now;
    std::function<void(Visit)> later;
  };
  auto p = std::make_shared<Pending>();
  p->ctx = std::move(ctx);
  p->ctx.keep = owner;
  issue([p, finish](const StoreResult<T>& r) {
    Visit v = finish(p->ctx, r);
    NoteEndedSession(p->ctx, &v);
    if (!p->returned) {
      p->now = std::move(v);
    } else if (p->later) {
      std::function<void(Visit)> later = std::move(p->later);
      p->later = nullptr;
      later(std::move(v));
    }
  });
  p->returned = true;
  if (p->now) return std::move(p->now);
  p->later = pending.Arm();
  return std::nullopt;
}

// The valid pass cookie with the latest bucket (a forged one never wins).
std::optional<PassToken> FindPass(const TokenCodec& codec, const proxy::HeaderList& headers,
                                  const CompiledRoom& room, bool tls, int64_t now) {
  const std::string& name = room.config.name;
  std::optional<PassToken> pass;
  proxy::ForEachCookie(headers, room.cookie_name(CookieKind::kPass, tls),
                       [&](std::string_view value) {
                         std::optional<PassToken> p = codec.VerifyPass(value, name, now);
                         if (p && (!pass || p->bucket > pass->bucket)) pass = std::move(p);
                       });
  return pass;
}

// The valid wait cookie with the lowest ticket; one issued before the room's
// waits_valid_from_ms (a start without its saved numbering) is void, and
// sets *voided (its holder is told why they have a new place).
std::optional<WaitToken> FindWait(const TokenCodec& codec, const proxy::HeaderList& headers,
                                  const CompiledRoom& room, bool tls, int64_t now, bool* voided) {
  const std::string& name = room.config.name;
  const int64_t valid_from = room.runtime ? room.runtime->waits_valid_from_ms : 0;
  std::optional<WaitToken> wait;
  proxy::ForEachCookie(headers, room.cookie_name(CookieKind::kWait, tls),
                       [&](std::string_view value) {
                         std::optional<WaitToken> w = codec.VerifyWait(value, name, now);
                         if (w && w->issued_ms < valid_from) {  // its room lost count
                           *voided = true;
                           return;
                         }
                         if (w && (!wait || w->ticket < wait->ticket)) wait = std::move(w);
                       });
  return wait;
}

// True when a wait cookie of this room is authentic but its ticket lapsed
// less than kLapsedWaitMillis ago (a forged cookie, another room's, or one
// the browser should no longer hold is no proof of a lost place).
bool FindLapsedWait(const TokenCodec& codec, const proxy::HeaderList& headers,
                    const CompiledRoom& room, bool tls, int64_t now) {
  const std::string& name = room.config.name;
  bool found = false;
  proxy::ForEachCookie(
      headers, room.cookie_name(CookieKind::kWait, tls), [&](std::string_view value) {
        if (!found && codec.VerifyLapsedWait(value, name, now, kLapsedWaitMillis)) {
          found = true;
        }
      });
  return found;
}

// Shadow mode: counts a newcomer who would have been queued.
void CountShadow(const CompiledRoom& room, const RoomLimits& limits) {
  RoomCounters c = room.runtime->store().Snapshot();
  bool would_queue = limits.mode == RoomMode::kQueueAll || c.queued() > 0 ||
                     c.active >= static_cast<int64_t>(limits.total_active_users);
  if (would_queue) room.runtime->shadow_would_queue.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

std::optional<Visit> EvaluateVisit(const std::shared_ptr<const WaitingRoom>& owner,
                                   const CompiledRoom& room, const RoomLimits& limits,
                                   const proxy::HeaderList& headers, bool tls, VisitKind kind,
                                   const StoreCaller& caller, PendingVisit& pending,
                                   std::string_view client_ip) {
  const WaitingRoom& wr = *owner;
  Visit v;
  const TokenCodec* codec = wr.codec();
  if (codec == nullptr) return v;  // no keys: the loader refuses active rooms without them
  int64_t now = wr.NowMs();
  RoomStore& store = room.runtime->store();
  // Random: Tick is told which numbers of the last block are empty (places
  // looked up under the method in force, `limits`).
  // One pointer captured: the std::function MaybeTick takes keeps it in
  // place (a closure of five references was a heap allocation per request).
  struct LastBlock {
    const WaitingRoom& wr;
    const CompiledRoom& room;
    const RoomLimits& limits;
    int64_t now;
    const StoreCaller& caller;
  } last_block{wr, room, limits, now, caller};
  auto fill_last_block = [at = &last_block](RoomLimits* tick) {
    at->wr.FillLastBlock(at->room, at->limits, at->now, at->caller, tick);
  };
  if (limits.method == config::QueueingMethod::kFifo && room.runtime->queue_order.AnyShuffled() &&
      room.runtime->queue_order.ShuffledAt(store.Snapshot().tickets)) {
    // The last tickets were issued shuffled (before a switch to fifo): Tick
    // invites to the end of their block, or the last places would wait for
    // later arrivals (queue/queue_order.h).
    RoomLimits tick_limits = limits;
    tick_limits.method = config::QueueingMethod::kRandom;
    room.runtime->MaybeTick(caller, tick_limits, now, fill_last_block);
  } else {
    room.runtime->MaybeTick(caller, limits, now, fill_last_block);
  }

  Context ctx;
  ctx.wr = &wr;
  ctx.room = &room;
  ctx.limits = limits;
  ctx.caller = caller;
  ctx.tls = tls;
  ctx.now = now;

  // 1. A valid pass: inside. Renew only when the bucket changed.
  std::optional<PassToken> pass = FindPass(*codec, headers, room, tls, now);
  // An ended session's pass no longer works (a cached pass included: the
  // check is after the verification, on every request).
  if (pass && pass->session != 0 && store.SessionEnded(pass->session, now)) {
    room.runtime->abuse.Count(AbuseReason::kSessionEnded);
    ctx.session_ended = true;
    pass.reset();
  }
  // A pass used from another network than its own, a pass from before
  // networks, and every renewal: the session's networks are counted; one
  // too many is refused its pass (queue/pass_networks.h). The pass's own
  // network in its bucket is the hot path: this compare only.
  ctx.network = PassNetworkOf(room.pass_network_key, client_ip);
  if (pass && (pass->network != ctx.network || pass->bucket != BucketOf(now)) &&
      !room.runtime->pass_networks.Use(pass->session, ctx.network, now)) {
    room.runtime->abuse.Count(AbuseReason::kPassShared);
    ctx.pass_shared = true;
    pass.reset();
  }
  if (pass) {
    v.admitted = true;
    v.pass_bucket = pass->bucket;
    v.pass_session = pass->session;
    v.pass_expires_ms = pass->expires_ms;
    if (pass->bucket == BucketOf(now)) return v;  // the hot path: no store call
    ctx.base = std::move(v);
    ctx.session = pass->session;
    int64_t old_bucket = pass->bucket;
    uint64_t session = pass->session;
    return Dispatch<int64_t>(
        ctx, owner, pending,
        [&](auto done) {
          store.RenewSession(caller, limits, now, old_bucket, session, std::move(done));
        },
        FinishRenew);
  }
  if (limits.method == QueueingMethod::kReject) {
    v.outcome = Outcome::kClosed;
    NoteEndedSession(ctx, &v);
    return v;
  }
  // 2. A valid wait cookie: claim when invited, else report the position.
  bool wait_voided = false;
  std::optional<WaitToken> wait = FindWait(*codec, headers, room, tls, now, &wait_voided);
  bool shadow = !room.config.enforced;
  if (wait && limits.method != QueueingMethod::kPassthrough && !shadow) {
    std::optional<uint64_t> place = wr.PlaceOf(room, limits, wait->ticket, now, caller);
    if (!place && room.config.events.empty() && room.runtime->asynchronous()) {
      // The room's queue order is not known to this process yet (its first
      // requests): PlaceOf asked the shared store; a read queued behind
      // those requests on this worker's connection answers after them, and
      // the place is known then (queue/queue_order.h).
      ctx.issued_ms = wait->issued_ms;
      ctx.ticket = wait->ticket;
      ctx.session = codec->ClaimSessionId(*wait);
      uint64_t session = ctx.session;
      auto number = std::make_shared<uint64_t>(UINT64_MAX);
      RoomLimits at_limits = limits;
      // Random: a lapsed claim issues a ticket as Arrive does (NextTicket).
      if (limits.method == QueueingMethod::kRandom) {
        wr.FillLastBlock(room, limits, now, caller, &at_limits);
      }
      const WaitingRoom* w = &wr;
      const CompiledRoom* r = &room;
      uint64_t ticket = wait->ticket;
      uint64_t issuer = wait->issuer;
      return Dispatch<ClaimOutcome>(
          ctx, owner, pending,
          [&store, w, r, at_limits, ticket, issuer, session, now, caller, number](auto done) {
            store.Keep(caller, "order|method|0", 0, now,
                       [&store, w, r, at_limits, ticket, issuer, session, now, caller, number,
                        done](const StoreResult<uint64_t>&) {
                         std::optional<uint64_t> p = w->PlaceOf(*r, at_limits, ticket, now, caller);
                         *number = p.value_or(UINT64_MAX);
                         if (!p || *p > store.Snapshot().serving) {
                           done(StoreResult<ClaimOutcome>{});  // queued, not invited yet
                           return;
                         }
                         store.Claim(caller, at_limits, now, *p, session, issuer, done);
                       });
          },
          [number](const Context& c, const StoreResult<ClaimOutcome>& result) {
            Context placed = c;
            placed.number = *number;
            return FinishClaim(placed, result);
          });
    }
    uint64_t number = place.value_or(UINT64_MAX);
    if (number <= store.Snapshot().serving) {
      // Random: a lapsed claim issues a ticket as Arrive does (NextTicket).
      RoomLimits claim_limits = limits;
      if (limits.method == QueueingMethod::kRandom) {
        wr.FillLastBlock(room, limits, now, caller, &claim_limits);
      }
      ctx.number = number;
      ctx.ticket = wait->ticket;
      ctx.issued_ms = wait->issued_ms;
      ctx.session = codec->ClaimSessionId(*wait);
      uint64_t session = ctx.session;
      return Dispatch<ClaimOutcome>(
          ctx, owner, pending,
          [&](auto done) {
            store.Claim(caller, claim_limits, now, number, session, wait->issuer, std::move(done));
          },
          FinishClaim);
    }
    FillQueued(wr, room, limits, wait->ticket, number, wait->issued_ms, now, caller, &v);
    if (now >= wait->expires_ms - kWaitCookieMillis + kWaitRenewMillis) {
      WaitToken renewed = *wait;  // the same ticket and issue time (the progress shown)
      renewed.expires_ms = now + kWaitCookieMillis;
      AddWaitCookie(wr, room, tls, renewed, &v);
    }
    NoteEndedSession(ctx, &v);
    return v;
  }
  if (kind == VisitKind::kPoll) {
    v.outcome = Outcome::kNotQueued;
    NoteEndedSession(ctx, &v);
    return v;
  }
  // 3. A newcomer. A lapsed wait cookie gives no place, no pass and no
  // exemption from the join checks: only the notice of a new place.
  ctx.place_lapsed = !wait && FindLapsedWait(*codec, headers, room, tls, now);
  ctx.place_lost = !wait && wait_voided;
  if (limits.method == QueueingMethod::kPassthrough || shadow) {
    if (shadow) CountShadow(room, limits);
    return Dispatch<int64_t>(
        ctx, owner, pending, [&](auto done) { store.Admit(caller, limits, now, std::move(done)); },
        FinishAdmit);
  }
  if (std::optional<Visit> refused = CheckJoin(wr, room, headers, client_ip, now)) {
    NoteEndedSession(ctx, &*refused);  // the ended pass is cleared all the same
    return refused;
  }
  bool may_admit = limits.mode == RoomMode::kAuto;
  // The room's queue order before the ticket (queue/queue_order.h): with a
  // shared store its answers precede Arrive's on this connection, so the
  // new ticket's place is known when Arrive answers.
  room.runtime->queue_order.Update(store, caller, limits.method == QueueingMethod::kRandom,
                                   room.shuffle_seed, now);
  // Random: Arrive is told the last block's order, so that it never issues a
  // ticket whose number a walk already passed (NextTicket, room_logic.h).
  // (Fifo rooms, the default, build no copy.)
  std::optional<RoomLimits> shuffled;
  const RoomLimits* arrive_limits = &limits;
  if (limits.method == QueueingMethod::kRandom) {
    shuffled.emplace(limits);
    wr.FillLastBlock(room, limits, now, caller, &*shuffled);
    arrive_limits = &*shuffled;
  }
  return Dispatch<ArriveOutcome>(
      ctx, owner, pending,
      [&](auto done) { store.Arrive(caller, *arrive_limits, now, may_admit, std::move(done)); },
      FinishArrive);
}

std::function<void(Visit)> PendingVisit::Arm() {
  Cancel();
  call_ = std::make_shared<Call>();
  call_->waiter = &waiter_;
  return [call = call_](Visit visit) {
    VisitWaiter* waiter = call->waiter;
    if (waiter == nullptr) return;  // cancelled: the waiter is gone or going
    call->waiter = nullptr;         // at most once
    waiter->Decided(std::move(visit));
  };
}

void PendingVisit::Cancel() {
  if (!call_) return;
  call_->waiter = nullptr;
  call_.reset();
}

bool PendingVisit::pending() const { return call_ != nullptr && call_->waiter != nullptr; }

}  // namespace tidegate::queue
