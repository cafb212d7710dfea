// What happens to one visitor of one room: the decision shared by the gate
// (a request on a protected route) and the status endpoint (a poll of
// /.tidegate/queue). docs/waiting-room.md, "A visitor's path".
//
// Contract: called on a worker thread; uses only const WaitingRoom state and
// the room's thread-safe store. Store calls that do not complete before
// returning (a shared store) are reported as kUnavailable for now: the gate
// does not yet suspend requests (see docs/waiting-room.md, "Not built yet").
#pragma once

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
    kUnavailable,  // store failure with on_failure = closed (or an async store)
  };
  Outcome outcome = Outcome::kForward;
  bool admitted = false;                 // holds (or just got) a valid pass
  bool admitted_now = false;             // this visit turned a ticket or a newcomer into a pass
  std::vector<std::string> set_cookies;  // Set-Cookie values to send
  int64_t pass_bucket = -1;              // the pass's session bucket (for Tidegate-Session: end)
  uint64_t position = 0;                 // queued: visitors ahead + 1
  WaitRange wait;
  int progress = 0;
};

Visit EvaluateVisit(const WaitingRoom& wr, const CompiledRoom& room, const RoomLimits& limits,
                    const proxy::HeaderList& headers, bool tls, VisitKind kind);

}  // namespace tidegate::queue
