// The waiting room's two filters (docs/waiting-room.md):
//
// * QueueStatusFactory — a page of the built-in router (proxy/builtin_router.h,
//   registered in app/filter_chain.cc on kQueueStatusPath, case-insensitive):
//   answers /.tidegate/queue[?room=NAME] with the
//   visitor's status as JSON (interface.md: in_queue, position,
//   estimated_wait_seconds [lo, hi], refresh_seconds; plus wait_text,
//   updated_text, progress, message for the page's script). An invited
//   visitor gets its pass cookie here ({"in_queue": false, "admitted":
//   true}). Every request it is given is answered (now, or when the store
//   replies).
// * RoomGateFactory — on a protected route (the room's RE2 `match` on the
//   normalised path, proxy/path_normalizer.h): a valid pass → forwarded
//   (renewed when its bucket changed: a fresh pass cookie is added to the
//   origin's response); otherwise admitted at once or queued (wait cookie +
//   queue page, or JSON for Accept: application/json), with the room's
//   queued_status (429/503 add Retry-After). Skips /.tidegate/* targets
//   (the router, earlier in the chain, answers them anyway). A CORS
//   preflight (proxy::IsCorsPreflight) passes untouched: no ticket, no
//   session, no pass check, no count.
//   Removes the origin's `Tidegate-Session` response header from every
//   response; `Tidegate-Session: end` ends the visitor's session (frees the
//   slot, clears the pass cookie). Answered by proxy::Answerer::kQueue.
// * A filter waiting for a shared store's reply holds a PendingVisit
//   (queue/room_visit.h); OnDestroy() cancels it, so a reply arriving after
//   the client went away is dropped without touching the freed filter.
//
// Contract: factories are immutable and shared by the workers; per-request
// filters live on one worker thread. Both read the operators' overrides per
// request (Published<RuntimeState>) and the room's live state from the
// RoomRegistry, which outlives every snapshot.
#pragma once

#include <memory>

#include "proxy/filter.h"
#include "queue/waiting_room.h"

namespace tidegate::queue {

inline constexpr std::string_view kQueueStatusPath = "/.tidegate/queue";

class QueueStatusFactory : public proxy::FilterFactory {
 public:
  explicit QueueStatusFactory(std::shared_ptr<const WaitingRoom> room);
  std::unique_ptr<proxy::StreamFilter> CreateFilter(
      proxy::FilterCallbacks& callbacks) const override;

 private:
  std::shared_ptr<const WaitingRoom> room_;
};

class RoomGateFactory : public proxy::FilterFactory {
 public:
  explicit RoomGateFactory(std::shared_ptr<const WaitingRoom> room);
  std::unique_ptr<proxy::StreamFilter> CreateFilter(
      proxy::FilterCallbacks& callbacks) const override;

 private:
  std::shared_ptr<const WaitingRoom> room_;
};

}  // namespace tidegate::queue
