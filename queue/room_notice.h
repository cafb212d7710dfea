// Why a visitor who thought they were in (or next) sees the queue page
// again, and the kind sentence that tells them (docs/waiting-room.md,
// "Claims and session end").
//
// Contract: pure functions, thread-safe.
#pragma once

#include <string_view>

#include "pages/language.h"

namespace tidegate::queue {

enum class RoomNotice {
  kNone,
  kTicketUsed,    // the wait cookie's place was already used to enter
  kSessionEnded,  // the pass's session was ended (Tidegate-Session: end)
  kPlaceExpired,  // the wait cookie's ticket lapsed while the visitor was away: a new place
  // invited in, but not back within the invitation window: a new place
  kInvitationLapsed,
  // the wait cookie dates from before a start that lost the room's numbering
  // (an unusable rooms.json: RoomRuntime::waits_valid_from_ms): a new place
  kPlaceLost,
  // the pass was used from more networks at once than one shopper has
  // (queue/pass_networks.h): this one is treated as a newcomer
  kPassShared,
};

// "" for kNone; otherwise one sentence, in `language`.
std::string_view RoomNoticeText(RoomNotice notice, pages::Language language);
// "ticket_used" | "session_ended" | "place_expired" | "invitation_lapsed" |
// "place_lost" | "pass_shared" | "" (the JSON `notice` field).
std::string_view RoomNoticeCode(RoomNotice notice);

}  // namespace tidegate::queue
