// The auto-protection controller of one waiting room ([rooms.NAME.protect],
// docs/waiting-room.md "Auto-protection"): from what the origin shows (p90
// time to response headers and error share over the last seconds,
// queue/protect_health.h) and what the room holds (active sessions, queued
// visitors), it sets the room's EFFECTIVE active limit and admission rate,
// never above the limits in force (configuration + operators' PATCH, the
// "ceilings") and never below the floors.
//
// Admission is of people, not requests: the controlled variable is the
// door. Shoppers inside are never sent out; a cut sets the active limit
// below the sessions inside, which closes the door until enough of them
// have left (the origin's load falls as their sessions end).
//
// What the origin shows (OriginHealth): the samples of the last 2 s —
// answers, accounted when they came or, slower than the target, when they
// crossed it (a 504 after a 30 s response_timeout is not a failure of the
// origin of now) — plus the exchanges still in flight for longer than the
// target, each one slow sample at its age (`overdue`): an origin that stops
// answering reads as slow within target_latency, as Envoy's adaptive
// concurrency and TCP's retransmission timer treat an outstanding request.
//
// The law (one decision per kDecisionMillis at most), in this order:
// * failing: more than max_error_rate of the window's exchanges failed,
//   whatever their number → never healthy. With at least kMinErrors
//   failures the limit falls to half the sessions inside, the rate to half
//   the measured admission rate (fast back-off); with fewer: hold. The door
//   reopens only kErrorQuietMillis after the last decision that saw
//   failures (a few lucky requests of an origin failing 30 % of the time
//   are no recovery: no flapping), and until kErrorMemoryMillis after them
//   only on a full window (kMinSamples answers, none failed) or on an idle
//   origin (no request at all, the probe of an emptied room): a shopper or
//   two inside whose handful of requests happened to succeed for 5 s say
//   nothing (0.7^5 ≈ 17 % of the time at 30 % failures).
// * slow: p90 > target_latency, with at least kMinSamples samples or at
//   least kMinErrors exchanges pending past the target → the limit falls to
//   active × max(0.5, sqrt(target / p90)) (a gradient, as
//   Envoy's adaptive concurrency and Netflix Gradient2, softened by the
//   square root as their smoothing does), the rate likewise. The
//   active count at that moment is remembered as the congestion point.
// * slow start ends early (as TCP's HyStart leaves slow start on a delay
//   increase, before any loss): during the slow start, a p90 above
//   kDelayRise × the calm p90 means the origin starts queueing; the sessions
//   inside are taken as the congestion point (growth goes on gently, see
//   below) and the door holds at who is inside (+ kStep). The calm p90 is
//   the lowest judged p90 seen, drifting up by kCalmDrift of the gap at each
//   healthy decision (a shop whose calm pages get slower is followed within
//   a minute or so).
// * warm: p90 within kWarmShare of the target → hold, the door kept at who
//   is inside + kStep (a limit opened earlier is not left wide open for
//   the next arrivals while the origin is near its target).
// * no samples → hold (no information: never grow on nothing; exchanges in
//   flight not yet past the target are no answer either) — except an IDLE
//   origin: nothing answered and nothing in flight, people waiting.
//   Nothing loads the origin then (sessions counted inside that send no
//   request are no load: visitors who left without a checkout), and "no
//   samples" only says nobody is let in: the door may grow gently (below).
//   A door below the sessions inside (a cut) is first brought up to them:
//   they are no load, and creeping past them by kStep a second let nobody
//   in for as long while the origin idled.
// * healthy and the door is what limits → grow:
//   - the door is full: the sessions inside at least kDoorFullShare of the
//     limit, or kQueuedDoorShare with visitors waiting (invited visitors
//     count inside only once they polled); with a full window (kMinSamples)
//     in one of three ways (TCP's slow start, then a CUBIC-like approach
//     to and probing around the last congestion point):
//     . no congestion seen yet: ×kSlowStartGrowth + kStep per decision;
//     . below kApproachShare × the last congestion point: half the distance
//       to it per decision (at least kStep);
//     . beyond: +kSlowGrowthShare × limit (at least kStep / 2) per decision,
//       doubling every kProbeDoublingMillis without congestion (capacity may
//       have come back: after 15 s it probes at ×1.64 per decision, as fast
//       as a slow start).
//     With fewer samples (a few shoppers inside): +kStep per decision only.
//   - the line stalls: people wait and the line's head (serving) moved by
//     less than half what the rate in force allows since the last decision,
//     although the room is not full: its free places are held by
//     invitations nobody claims (visitors who left the front of the line —
//     the store frees them only after their claim time, room_logic's
//     Outstanding). Ghosts are no load on the origin: +kStep per decision,
//     until the line moves at the rate or the room fills with people (then
//     the samples of those inside take over). This is also how an idle room
//     reopens after an outage.
//   The rate follows the measured admission rate with kRateHeadroom, and
//   is at least what fills the free places within kFillMillis and what
//   turns the whole room over within kTurnoverMillis (the measured rate
//   lags by up to a minute); not more, so that little credit piles up for
//   a burst when the door opens.
// * healthy, the door does not limit and nobody waits → the limit is kept
//   at most kFastGrowth × active + kStep: a calm room never holds a
//   wide-open door that a surge would rush through before the first
//   measurement.
// * After a cut, samples are judged only from kSettleMillis later, and only
//   once kSettleMillis of them exist (until then: hold, errors excepted),
//   so the controller neither cuts twice for the same slowness nor reopens
//   on a window too short to say anything.
// * The brake, between decisions: while a grow opens the door (over
//   kDecisionMillis), the last kBrakeMillis of samples (at least
//   kMinSamples) are checked at every observation; a p90 above kWarmShare ×
//   the target, or in the slow start above kDelayRise × the calm p90, stops
//   the opening where it is (at most who is inside + kStep), without waiting
//   for the next decision: the newcomers of a too-wide opening would stay
//   for their whole sessions.
//   With fewer than kMinSamples in kBrakeMillis (an instance that sees a
//   third of the traffic), the caller passes twice that span. Followers of
//   a shared decision brake on their own samples too (BrakeFollower).
// * Too few samples never cut on latency (unless kMinErrors exchanges are
//   pending past the target) and never grow faster than kStep.
//
// Contract: pure logic, no I/O, no clock (now_ms passed in), not
// thread-safe (RoomProtection, queue/protect_room.h, serialises). The state
// is a plain value (State) so that a shared store can carry one decision
// per room between instances.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "queue/protect_health.h"

namespace tidegate::queue {

// [rooms.NAME.protect] in numbers.
struct ProtectSettings {
  int64_t target_latency_ms = 500;
  double max_error_rate = 0.02;
  uint32_t min_new_users_per_minute = 1;
};

// The limits in force without protection (configuration + operators'
// overrides): the controller stays at or below them.
struct ProtectCeilings {
  uint32_t total_active_users = 500;
  uint32_t new_users_per_minute = 200;
};

// What the room shows at a decision.
struct ProtectObservation {
  int64_t now_ms = 0;
  OriginHealth health;             // the window's samples (protect_health.h)
  int64_t active = 0;              // sessions inside
  uint64_t queued = 0;             // visitors waiting
  double admitted_per_minute = 0;  // measured admission rate
  OriginHealth recent;             // the window's last kBrakeMillis (for the brake)
  uint64_t serving = 0;            // highest number invited (the line's head)
};

enum class ProtectMove {
  kNone,        // no decision yet
  kStart,       // first decision: a slow start from the sessions inside
  kHold,        // kept (warm, too few samples, draining, or already at a bound)
  kGrow,        // healthy and the door limits: opened further
  kTrim,        // healthy, door not limiting: kept near the sessions inside
  kCutLatency,  // p90 above target
  kCutErrors,   // error share above max_error_rate
};
std::string_view ProtectMoveName(ProtectMove move);  // "start", "hold", "grow", ...

// The controller's whole state (a value: copyable, comparable enough to
// carry through a shared store).
struct ProtectState {
  double limit = 0;             // effective active limit (0 = no decision yet)
  double rate = 0;              // effective new users per minute
  double congestion_at = 0;     // active sessions at the last cut; 0 = none known
  double calm_p90_ms = 0;       // the origin's calm p90 (see kDelayRise); 0 = not known yet
  double ramp_from = 0;         // a grow opens from this limit to `limit` over kDecisionMillis
  int64_t probe_since_ms = 0;   // probing beyond congestion_at since; 0 = not probing
  int64_t decided_ms = 0;       // the last decision
  int64_t settle_until_ms = 0;  // samples before this are not judged
  ProtectMove move = ProtectMove::kNone;         // the last decision's move
  int direction = 0;                             // +1 opened, -1 closed, 0 kept (last decision)
  int64_t moved_ms = 0;                          // the last decision that changed direction
  ProtectMove last_change = ProtectMove::kNone;  // the move at moved_ms
  std::string reason;   // why the last decision moved or held (for operators)
  OriginHealth health;  // what the last decision saw
};

// The effective limits a room applies.
struct ProtectLimits {
  uint32_t total_active_users = 0;
  uint32_t new_users_per_minute = 0;
};

class ProtectController {
 public:
  static constexpr int64_t kDecisionMillis = 1'000;
  static constexpr int64_t kSettleMillis = 1'000;
  static constexpr uint32_t kMinSamples = 10;
  static constexpr uint32_t kMinErrors = 2;
  static constexpr double kWarmShare = 0.8;
  static constexpr double kMinGradient = 0.5;
  static constexpr double kFastGrowth = 1.5;
  static constexpr double kSlowStartGrowth = 1.5;
  static constexpr double kSlowGrowthShare = 0.02;
  static constexpr double kStep = 4;
  static constexpr double kApproachShare = 0.9;
  static constexpr double kProbeDoublingMillis = 3'000;
  static constexpr double kDoorFullShare = 0.85;
  static constexpr double kQueuedDoorShare = 0.7;
  static constexpr double kFillMillis = 1'000;
  static constexpr double kRateHeadroom = 1.5;
  static constexpr double kTurnoverMillis = 5'000;
  static constexpr double kDelayRise = 1.2;
  static constexpr double kCalmDrift = 0.05;
  static constexpr int64_t kBrakeMillis = 500;
  static constexpr int64_t kErrorQuietMillis = 5'000;
  static constexpr int64_t kErrorMemoryMillis = 30'000;

  explicit ProtectController(ProtectSettings settings = {}) : settings_(settings) {}

  void set_settings(const ProtectSettings& settings) { settings_ = settings; }
  const ProtectSettings& settings() const { return settings_; }

  // Decides when kDecisionMillis passed since the last decision (the first
  // call always decides); between decisions, may brake an opening (see
  // above). Returns true when it decided or braked. The caller passes the
  // window's health, and the last kBrakeMillis of it, both read with
  // since_ms = state().settle_until_ms.
  bool Observe(const ProtectObservation& seen, const ProtectCeilings& ceilings);

  // The limits decided: the state clamped to `ceilings` (which an operator
  // may have lowered since) and the floors. Before the first decision: the
  // ceilings.
  ProtectLimits Limits(const ProtectCeilings& ceilings) const;
  // The limits to apply at now_ms: as Limits(), except that a grow opens
  // the door over kDecisionMillis (from ramp_from), so that the newcomers
  // it lets in do not all reach the origin at once. Cuts apply at once.
  ProtectLimits Limits(const ProtectCeilings& ceilings, int64_t now_ms) const;

  const ProtectState& state() const { return state_; }
  // Adopts a decision taken elsewhere (another instance's, through Redis).
  // A decision this instance already braked (the same decided_ms, a
  // smaller limit) keeps its brake: the writer has not seen it yet.
  void Adopt(ProtectState state);
  // A follower's brake on its own samples (the writer's decision is in
  // force; only its opening stops, as Brake() does for the writer).
  // Returns true when it braked.
  bool BrakeFollower(const ProtectObservation& seen, const ProtectCeilings& ceilings) {
    return Brake(seen, ceilings);
  }
  void Reset() {
    state_ = ProtectState{};
    errors_seen_ms_ = 0;
    serving_seen_ = 0;
    serving_known_ = false;
  }

 private:
  void Decide(const ProtectObservation& seen, const ProtectCeilings& ceilings);
  bool Brake(const ProtectObservation& seen, const ProtectCeilings& ceilings);
  void Cut(const ProtectObservation& seen, double factor, ProtectMove move);
  void Grow(const ProtectObservation& seen, const ProtectCeilings& ceilings);
  // +kStep (few samples, an idle room, a stalled line); `why` for the reason.
  void GrowGently(const ProtectObservation& seen, const ProtectCeilings& ceilings, const char* why);

  ProtectSettings settings_;
  ProtectState state_;
  // This instance's memory between its decisions (not shared: a new
  // leader starts without it, which only delays a gentle growth once).
  int64_t errors_seen_ms_ = 0;  // the last decision that saw failures (kErrorQuietMillis)
  uint64_t serving_seen_ = 0;   // the line's head at the last decision
  bool serving_known_ = false;
};

}  // namespace tidegate::queue
