#include "queue/join_guard.h"

namespace tidegate::queue {
namespace {

Visit Challenge(const WaitingRoom& wr, const CompiledRoom& room, int64_t now_ms,
                AbuseReason reason) {
  room.runtime->abuse.Count(reason);
  Visit v;
  v.outcome = Visit::Outcome::kChallenge;
  if (reason != AbuseReason::kChallengeMissing) v.refusal = reason;
  v.challenge = wr.challenge_codec()->Issue(
      room.config.name, static_cast<int>(room.config.join_challenge_bits), now_ms);
  return v;
}

}  // namespace

std::optional<Visit> CheckJoin(const WaitingRoom& wr, const CompiledRoom& room,
                               const proxy::HeaderList& headers, std::string_view client_ip,
                               int64_t now_ms) {
  const config::RoomConfig& c = room.config;
  RoomRuntime& runtime = *room.runtime;
  if (c.join_challenge == config::JoinChallengeKind::kPow && wr.challenge_codec() != nullptr) {
    const std::string* answer = headers.Find(kAnswerHeader);
    if (answer == nullptr) return Challenge(wr, room, now_ms, AbuseReason::kChallengeMissing);
    JoinChallenge solved;
    AnswerCheck check = wr.challenge_codec()->Check(
        *answer, c.name, static_cast<int>(c.join_challenge_bits), now_ms, &solved);
    if (check != AnswerCheck::kValid) {
      return Challenge(wr, room, now_ms, AbuseReason::kChallengeInvalid);
    }
    int64_t forget_at = solved.issued_ms + kMaxAnswerAgeMs + kClockSkewMs;
    if (!runtime.challenge_replays.FirstUse(solved.nonce, forget_at, now_ms)) {
      return Challenge(wr, room, now_ms, AbuseReason::kChallengeReplayed);
    }
  }
  if (!runtime.ticket_rate.Allow(client_ip, c.max_tickets_per_ip_per_minute, now_ms)) {
    runtime.abuse.Count(AbuseReason::kTicketRateLimited);
    Visit v;
    v.outcome = Visit::Outcome::kRefused;
    v.refusal = AbuseReason::kTicketRateLimited;
    v.retry_after_seconds = TicketRateLimiter::SecondsToNextWindow(now_ms);
    return v;
  }
  return std::nullopt;
}

}  // namespace tidegate::queue
