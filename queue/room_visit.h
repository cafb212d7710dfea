// What happens to one visitor of one room: the decision shared by the gate
// (a request on a protected route) and the status endpoint (a poll of
// /.tidegate/queue). docs/waiting-room.md, "A visitor's path".
//
// Contract: called on a worker thread; uses only const WaitingRoom state and
// the room's thread-safe store.
// * The decision is returned at once when it needs no store call (a valid
//   pass in the current bucket: MAC verified, its network compared — from
//   another network, also counted in the room's PassNetworks — no store
//   call, no allocation) or when the store completed before returning (the
//   LocalRoomStore always does; so does a failing shared store).
// * Otherwise EvaluateVisit returns nullopt after arming `pending` (the
//   waiter's cancellation handle); the waiter's Decided() gets the decision
//   later, on the same worker thread (caller.loop), at most once — never
//   after `pending` was cancelled or destroyed (the waiter went away), never
//   if the store's connection is closed first (shutdown). The pending store
//   call keeps the WaitingRoom alive (it holds `wr`).
// * One ticket, one admission: a wait cookie whose number was already
//   claimed is answered kQueued with notice kTicketUsed (the cookie is
//   cleared, counted as abuse kTicketReused), never a second pass.
// * An ended session: a pass whose session the store knows ended
//   (RoomStore::SessionEnded, checked on every admitted request, cached
//   passes included) is ignored — the visitor goes on as a newcomer, with
//   notice kSessionEnded and the pass cookie cleared (abuse kSessionEnded);
//   a renewal the store refuses (ended on another instance) answers kQueued
//   with that notice.
// * A lost place: a newcomer whose request carries an authentic wait cookie
//   of this room whose ticket lapsed (up to a day ago: the browser keeps the
//   cookie that long) goes on as any newcomer — same join checks, a
//   newcomer's place — and a new ticket comes with notice kPlaceExpired (the
//   lapsed cookie is replaced; an admission clears it).
// * A shared pass: a pass whose session is in use from
//   PassNetworks::kMaxNetworks other client networks (`client_ip`,
//   queue/pass_networks.h) within the window is ignored — the visitor goes
//   on as a newcomer, with notice kPassShared and the pass cookie cleared
//   (abuse kPassShared). A pass used from its own network in its bucket
//   costs one compare more; every new or renewed pass records the network
//   of the request (an unknown `client_ip`: none, and no check).
// * A newcomer's join passes the room's abuse checks first (`client_ip`,
//   queue/join_guard.h): proof-of-work answer, joins per network per minute.
// * A store failure applies [state].on_failure: open → kForward (without a
//   pass), closed → kUnavailable (503). With on_failure = local the store
//   itself falls back to local state (queue/room_registry.h), so failures do
//   not reach here.
#pragma once

#include <event2/event.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "queue/room_notice.h"
#include "queue/waiting_room.h"

namespace tidegate::queue {

enum class VisitKind {
  kRequest,  // a request on a protected route: a newcomer gets a ticket or a pass
  kPoll,     // /.tidegate/queue: reports, claims when invited, never issues a ticket
};

struct Visit {
  enum class Outcome {
    kForward,      // let the request through (pass, admission, bypass, shadow)
    kQueued,       // queue page / JSON
    kClosed,       // queueing_method reject: "sales closed"
    kNotQueued,    // poll without a ticket or pass
    kUnavailable,  // store failure with on_failure = closed
    kChallenge,    // join_challenge = "pow": solve `challenge` first (no ticket yet)
    kRefused,      // a join refused for abuse (`refusal`): no ticket
  };
  Outcome outcome = Outcome::kForward;
  bool admitted = false;                 // holds (or just got) a valid pass
  bool admitted_now = false;             // this visit turned a ticket or a newcomer into a pass
  std::vector<std::string> set_cookies;  // Set-Cookie values to send
  int64_t pass_bucket = -1;              // the pass's session bucket (for Tidegate-Session: end)
  uint64_t pass_session = 0;             // the pass's session id (0: a pass from before ids)
  int64_t pass_expires_ms = 0;           // the pass's expiry
  // Why a visitor with a used ticket or an ended session is queued again
  // (position 0 then: no place is shown until they reload), or why a
  // returning visitor has a new place (kPlaceExpired, with its position).
  RoomNotice notice = RoomNotice::kNone;
  uint64_t position = 0;  // queued: visitors ahead + 1
  WaitRange wait;
  int progress = 0;
  // Queued in a scheduled event's pre-queue: no position until the draw at
  // draw_at_ms (queue/room_events.h); position, wait and progress are 0.
  bool awaiting_draw = false;
  int64_t draw_at_ms = 0;
  // Queued, but the place of the ticket is not known to this process yet
  // (a room without scheduled events whose queue order has not been read
  // from the shared store: its first requests, or a start or an upgrade
  // while the store is unreachable — queue/queue_order.h). The visitor keeps
  // the ticket; the page says so, without a position, and asks again.
  bool place_unknown = false;
  // Join checks (queue/join_guard.h).
  std::string challenge;               // kChallenge: the token to solve
  std::optional<AbuseReason> refusal;  // kRefused; kChallenge after a refused answer
  int retry_after_seconds = 0;         // kRefused
  // The wall time (ms) the visit was judged at when a store that answers
  // at once decided it; 0 otherwise (the page then reads the clock).
  int64_t decided_ms = 0;
};

// Who waits for a decision that needs the store (a per-request filter).
class VisitWaiter {
 public:
  virtual ~VisitWaiter() = default;
  // The decision, from the worker's loop (see above).
  virtual void Decided(Visit visit) = 0;
};

// The cancellation handle of a decision that waits for the store.
//
// Ownership: the waiter owns its PendingVisit (a member); the store's
// callback and the handle share one small call record that points at the
// waiter. Cancel() (or the handle's destruction) clears that pointer, so a
// reply arriving after the waiter is gone finds no waiter and is dropped —
// it never touches the waiter's memory. Worker thread only (the store
// replies on the calling loop); not copyable, not movable (the record is
// tied to the waiter's address).
class PendingVisit {
 public:
  explicit PendingVisit(VisitWaiter& waiter) : waiter_(waiter) {}
  ~PendingVisit() { Cancel(); }
  PendingVisit(const PendingVisit&) = delete;
  PendingVisit& operator=(const PendingVisit&) = delete;

  // Starts a wait (EvaluateVisit does): returns the callback the store's
  // reply goes to; it calls waiter.Decided() once unless cancelled first. A
  // previous wait of this handle is cancelled.
  std::function<void(Visit)> Arm();
  // Drops the pending decision: Decided() is not called for it, ever.
  // Idempotent; safe from inside Decided().
  void Cancel();
  // True between Arm() and the decision (or Cancel()).
  bool pending() const;

 private:
  struct Call {
    VisitWaiter* waiter = nullptr;  // null once decided or cancelled
  };
  VisitWaiter& waiter_;
  std::shared_ptr<Call> call_;
};

std::optional<Visit> EvaluateVisit(const std::shared_ptr<const WaitingRoom>& wr,
                                   const CompiledRoom& room, const RoomLimits& limits,
                                   const proxy::HeaderList& headers, bool tls, VisitKind kind,
                                   const StoreCaller& caller, PendingVisit& pending,
                                   std::string_view client_ip = {});

}  // namespace tidegate::queue
