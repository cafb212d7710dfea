// What happens to one visitor of one room: the decision shared by the gate
// (a request on a protected route) and the status endpoint (a poll of
// /.tidegate/queue). docs/waiting-room.md, "A visitor's path".
//
// Contract: called on a worker thread; uses only const WaitingRoom state and
// the room's thread-safe store.
// * The decision is returned at once when it needs no store call (a valid
//   pass in the current bucket: MAC verified, nothing else — no store call,
//   no allocation) or when the store completed before returning (the
//   LocalRoomStore always does; so does a failing shared store).
// * Otherwise EvaluateVisit returns nullopt after calling waiter.Defer()
//   exactly once; the callback it returned gets the decision later, on the
//   same worker thread (caller.loop), at most once — never if the
//   store's connection is closed first (shutdown). The callback must guard
//   itself against its owner being gone (a weak token); the pending call
//   keeps the WaitingRoom alive (it holds `wr`).
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
  };
  Outcome outcome = Outcome::kForward;
  bool admitted = false;                 // holds (or just got) a valid pass
  bool admitted_now = false;             // this visit turned a ticket or a newcomer into a pass
  std::vector<std::string> set_cookies;  // Set-Cookie values to send
  int64_t pass_bucket = -1;              // the pass's session bucket (for Tidegate-Session: end)
  uint64_t position = 0;                 // queued: visitors ahead + 1
  WaitRange wait;
  int progress = 0;
  // Queued in a scheduled event's pre-queue: no position until the draw at
  // draw_at_ms (queue/room_events.h); position, wait and progress are 0.
  bool awaiting_draw = false;
  int64_t draw_at_ms = 0;
};

class VisitWaiter {
 public:
  using Later = std::function<void(Visit)>;
  virtual ~VisitWaiter() = default;
  // Called when the decision waits for the store (see above).
  virtual Later Defer() = 0;
};

std::optional<Visit> EvaluateVisit(const std::shared_ptr<const WaitingRoom>& wr,
                                   const CompiledRoom& room, const RoomLimits& limits,
                                   const proxy::HeaderList& headers, bool tls, VisitKind kind,
                                   const StoreCaller& caller, VisitWaiter& waiter);

}  // namespace tidegate::queue
