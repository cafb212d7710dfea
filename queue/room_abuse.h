// Why a waiting room refused a client that tried to get more than one fair
// place (docs/waiting-room.md, "Threat model"), or did not keep the one it
// had (an ended session, a lapsed ticket), and the per-room counters behind
// room_abuse_total{room,reason} and GET /v1/state.
//
// Contract:
// * AbuseReason is closed; AbuseReasonName() gives the label used in
//   /metrics and JSON (snake_case, stable: dashboards rely on it).
// * RoomAbuseCounters is lock-free and shared by every worker (it lives in
//   queue::RoomRuntime, which outlives reloads); Count() is one relaxed
//   atomic increment, safe on the hot path.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tidegate::queue {

enum class AbuseReason : uint8_t {
  kTicketReused,       // an invited or claimed ticket presented again
  kSessionEnded,       // a pass whose session was ended
  kChallengeMissing,   // join without the proof-of-work answer
  kChallengeInvalid,   // wrong, stale or foreign proof-of-work answer
  kChallengeReplayed,  // a proof-of-work answer already used
  kTicketRateLimited,  // max_tickets_per_ip_per_minute reached
  kPlaceExpired,       // a lapsed wait ticket presented: a new place, with the notice
  kInvitationLapsed,   // an invitation claimed after the invitation window: a new place
  kPassShared,         // a pass used from more networks at once than one shopper has
};
inline constexpr size_t kAbuseReasonCount = 9;

constexpr std::string_view AbuseReasonName(AbuseReason reason) {
  switch (reason) {
    case AbuseReason::kTicketReused:
      return "ticket_reused";
    case AbuseReason::kSessionEnded:
      return "session_ended";
    case AbuseReason::kChallengeMissing:
      return "challenge_missing";
    case AbuseReason::kChallengeInvalid:
      return "challenge_invalid";
    case AbuseReason::kChallengeReplayed:
      return "challenge_replayed";
    case AbuseReason::kTicketRateLimited:
      return "ticket_rate_limited";
    case AbuseReason::kPlaceExpired:
      return "place_expired";
    case AbuseReason::kInvitationLapsed:
      return "invitation_lapsed";
    case AbuseReason::kPassShared:
      return "pass_shared";
  }
  return "unknown";
}

class RoomAbuseCounters {
 public:
  void Count(AbuseReason reason) {
    counts_[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t Get(AbuseReason reason) const {
    return counts_[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<uint64_t>, kAbuseReasonCount> counts_{};
};

}  // namespace tidegate::queue
