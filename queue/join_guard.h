// The abuse checks of a newcomer's join (docs/waiting-room.md, "Threat
// model"), run by EvaluateVisit (queue/room_visit.h) just before the store is
// asked for a ticket or a direct admission:
// 1. join_challenge = "pow": the request must carry a valid, fresh, unused
//    answer in `Tidegate-Challenge` (queue/join_challenge.h); otherwise the
//    visitor gets a new challenge (kChallenge) — challenge_missing without
//    an answer, challenge_invalid or challenge_replayed for a refused one.
// 2. max_tickets_per_ip_per_minute (queue/ticket_rate_limit.h): beyond the
//    cap, kRefused with ticket_rate_limited and the seconds to wait.
// Every refusal is counted in the room's RoomAbuseCounters.
//
// Contract: worker threads; thread-safe (the replay memory and the limiter
// live in the room's RoomRuntime). nullopt = the join may go on. Costs one
// SHA-256, one HMAC and two short sharded critical sections at most.
#pragma once

#include <optional>
#include <string_view>

#include "queue/room_visit.h"

namespace tidegate::queue {

std::optional<Visit> CheckJoin(const WaitingRoom& wr, const CompiledRoom& room,
                               const proxy::HeaderList& headers, std::string_view client_ip,
                               int64_t now_ms);

}  // namespace tidegate::queue
