#include "queue/protect_controller.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tidegate::queue {
namespace {

int MoveDirection(ProtectMove move) {
  switch (move) {
    case ProtectMove::kGrow:
      return 1;
    case ProtectMove::kCutLatency:
    case ProtectMove::kCutErrors:
      return -1;
    default:
      return 0;
  }
}

double CeilingActive(const ProtectCeilings& c) { return std::max<double>(1, c.total_active_users); }
double CeilingRate(const ProtectCeilings& c) { return std::max<double>(1, c.new_users_per_minute); }
double FloorRate(const ProtectSettings& s, const ProtectCeilings& c) {
  return std::min<double>(std::max<uint32_t>(1, s.min_new_users_per_minute), CeilingRate(c));
}

std::string Format(const char* format, double a = 0, double b = 0, double c = 0, double d = 0) {
  char text[200];
  std::snprintf(text, sizeof text, format, a, b, c, d);
  return text;
}

}  // namespace

std::string_view ProtectMoveName(ProtectMove move) {
  switch (move) {
    case ProtectMove::kNone:
      return "none";
    case ProtectMove::kStart:
      return "start";
    case ProtectMove::kHold:
      return "hold";
    case ProtectMove::kGrow:
      return "grow";
    case ProtectMove::kTrim:
      return "trim";
    case ProtectMove::kCutLatency:
      return "cut_latency";
    case ProtectMove::kCutErrors:
      return "cut_errors";
  }
  return "none";
}

bool ProtectController::Observe(const ProtectObservation& seen, const ProtectCeilings& ceilings) {
  if (state_.move != ProtectMove::kNone && seen.now_ms - state_.decided_ms < kDecisionMillis) {
    return Brake(seen, ceilings);
  }
  ProtectState before = state_;
  Decide(seen, ceilings);
  state_.ramp_from = std::min(before.limit > 0 ? before.limit : state_.limit, state_.limit);
  state_.limit = std::clamp(state_.limit, 1.0, CeilingActive(ceilings));
  state_.rate = std::clamp(state_.rate, FloorRate(settings_, ceilings), CeilingRate(ceilings));
  state_.decided_ms = seen.now_ms;
  state_.health = seen.health;
  // Direction: what the limits really did (a cut already below its bound
  // is a hold for operators and for the change-of-direction log).
  state_.direction = state_.move == ProtectMove::kStart ? 0 : MoveDirection(state_.move);
  if (state_.direction < 0 && state_.limit >= before.limit && state_.rate >= before.rate) {
    state_.direction = 0;
  }
  if (state_.direction > 0 && state_.limit <= before.limit && state_.rate <= before.rate) {
    state_.direction = 0;
  }
  if (state_.direction != 0 && state_.direction != MoveDirection(before.last_change)) {
    state_.moved_ms = seen.now_ms;
    state_.last_change = state_.move;
  }
  return true;
}

void ProtectController::Decide(const ProtectObservation& seen, const ProtectCeilings& ceilings) {
  const OriginHealth& h = seen.health;
  double active = std::max<int64_t>(0, seen.active);
  // How far the line moved since the last decision (invitations sent).
  const bool serving_known = serving_known_;
  const double advanced =
      seen.serving > serving_seen_ ? static_cast<double>(seen.serving - serving_seen_) : 0.0;
  serving_seen_ = seen.serving;
  serving_known_ = true;
  if (state_.move == ProtectMove::kNone || state_.limit <= 0) {
    // Slow start: whatever the ceilings, the door first opens relative to
    // who is inside, and widens only as the origin shows it copes.
    state_.limit = active * kFastGrowth + kStep;
    state_.rate = CeilingRate(ceilings);
    state_.move = ProtectMove::kStart;
    state_.reason = Format("start: %.0f sessions inside, limit %.0f", active,
                           std::min(state_.limit, CeilingActive(ceilings)));
    return;
  }
  const double target = static_cast<double>(std::max<int64_t>(1, settings_.target_latency_ms));
  const double p90 = static_cast<double>(h.p90_ms);
  if (h.errors > 0 && h.error_rate() > settings_.max_error_rate) {
    // Failing: whatever the sample count, never healthy (F2). Enough
    // failures cut; fewer hold (the p90 of failures says nothing).
    errors_seen_ms_ = seen.now_ms;
    if (h.errors >= kMinErrors) {
      Cut(seen, kMinGradient, ProtectMove::kCutErrors);
      state_.reason = Format("errors %.1f %% > %.1f %% (%.0f of %.0f)", 100 * h.error_rate(),
                             100 * settings_.max_error_rate, h.errors, h.samples) +
                      state_.reason;
      return;
    }
    state_.move = ProtectMove::kHold;
    state_.reason =
        Format("hold: errors %.1f %% > %.1f %% (%.0f of %.0f requests, too few to cut)",
               100 * h.error_rate(), 100 * settings_.max_error_rate, h.errors, h.samples);
    return;
  }
  if (seen.now_ms < state_.settle_until_ms + kSettleMillis) {
    // A second of what followed the cut is needed before judging it.
    state_.move = ProtectMove::kHold;
    state_.reason = Format("hold: settling after the cut (%.0f inside)", active);
    return;
  }
  // A full window, or at least kMinErrors exchanges pending past the target
  // (an origin that stops answering sends nothing else).
  const bool full = h.samples >= kMinSamples;
  if ((full || h.overdue >= kMinErrors) && p90 > target) {
    // The square root of the gradient: a p90 somewhat over the target (a
    // burst of arrivals) trims, a p90 four times over halves.
    Cut(seen, std::max(kMinGradient, std::sqrt(target / p90)), ProtectMove::kCutLatency);
    state_.reason = Format("p90 %.0f ms > target %.0f ms (%.0f requests, %.0f unanswered)", p90,
                           target, h.samples, h.overdue) +
                    state_.reason;
    return;
  }
  // Few samples: never a reason to cut on latency, but a p90 near the
  // target (the slowest sample left out) is no reason to open either.
  if (h.samples > 0 && p90 > kWarmShare * target) {
    state_.probe_since_ms = 0;  // near the knee: probe gently again afterwards
    state_.limit = std::min(state_.limit, active + kStep);
    if (state_.congestion_at <= 0)
      state_.congestion_at = std::max(1.0, active);  // no more slow start
    state_.move = ProtectMove::kHold;
    state_.reason = Format("hold: p90 %.0f ms near target %.0f ms (%.0f requests), limit %.0f", p90,
                           target, h.samples, state_.limit);
    return;
  }
  const double calm = state_.calm_p90_ms;
  if (full && state_.congestion_at <= 0 && calm > 0 && p90 > kDelayRise * calm) {
    // HyStart: the origin starts queueing before the target is crossed.
    state_.congestion_at = std::max(1.0, active);
    state_.limit = std::min(state_.limit, active + kStep);
    state_.move = ProtectMove::kHold;
    state_.reason = Format("slow start ends: p90 %.0f ms > %.1f x calm %.0f ms (%.0f inside)", p90,
                           kDelayRise, calm, active);
    return;
  }
  if (full) {
    state_.calm_p90_ms = calm <= 0 || p90 < calm ? p90 : calm + kCalmDrift * (p90 - calm);
  }
  // No samples: no information, except when the origin is idle (nothing
  // answered, nothing pending: whoever is counted inside is not using it
  // now) while people wait — then the door is all that stands between them
  // and a shop with nothing to do. Requests in flight (an origin that may
  // hang) are no answer: hold.
  const bool idle = h.samples == 0 && h.in_flight == 0 && seen.queued > 0;
  if (h.samples == 0 && !idle) {
    state_.move = ProtectMove::kHold;
    state_.reason = h.in_flight > 0
                        ? Format("hold: no answer yet (%.0f requests in flight, %.0f inside)",
                                 h.in_flight, active)
                        : Format("hold: no samples (%.0f inside, %.0f waiting)", active,
                                 static_cast<double>(seen.queued));
    return;
  }
  if (errors_seen_ms_ > 0 && seen.now_ms - errors_seen_ms_ < kErrorQuietMillis) {
    // A failing origin is trusted again only after kErrorQuietMillis
    // without failures: a few lucky requests do not reopen the door.
    state_.move = ProtectMove::kHold;
    state_.reason = Format("hold: failures %.1f s ago (%.0f inside)",
                           double(seen.now_ms - errors_seen_ms_) / 1000, active);
    return;
  }
  if (errors_seen_ms_ > 0 && seen.now_ms - errors_seen_ms_ < kErrorMemoryMillis && h.samples > 0 &&
      h.samples < kMinSamples) {
    // After failures, a handful of answers that happened to succeed is no
    // recovery: a full window, or an idle origin (the probe), or time.
    state_.move = ProtectMove::kHold;
    state_.reason =
        Format("hold: failures %.1f s ago, %.0f answers since in the window: too few to trust",
               double(seen.now_ms - errors_seen_ms_) / 1000, h.samples);
    return;
  }
  // The door limits when the room is nearly full, or when people wait and
  // at least half the places are taken (invited visitors take a poll to
  // come in: until then they are not counted inside) — or when people wait
  // and the line stalls (it moved by less than half what the rate allows
  // since the last decision): the free places are held by invitations nobody
  // claims (visitors who left), which the store frees only after their
  // claim time; the door grows past them, kStep per decision.
  const double limit_now = std::min(state_.limit, CeilingActive(ceilings));
  const double rate_now = std::min(state_.rate, CeilingRate(ceilings));
  const double elapsed = std::clamp(double(seen.now_ms - state_.decided_ms), 0.0, 10'000.0);
  const bool stalled = serving_known && seen.queued > 0 && limit_now > active &&
                       advanced < std::min<double>(static_cast<double>(seen.queued),
                                                   0.5 * rate_now * elapsed / 60'000.0);
  const bool door_full = active >= kDoorFullShare * state_.limit ||
                         (seen.queued > 0 && active >= kQueuedDoorShare * state_.limit);
  if (door_full && full) {
    Grow(seen, ceilings);
  } else if (door_full || stalled) {
    std::string why = idle         ? "idle: nothing answered, nothing pending, people wait"
                      : !door_full ? "the line stalls: free places held by invitations"
                                   : "few samples";
    if (idle && state_.limit < active) {
      // The door below the sessions inside (after a cut) and nothing loads
      // the origin: they send nothing (visitors who left without a
      // checkout hold their place for session_duration). Creeping past
      // them by kStep a decision let nobody in for (inside - limit) / kStep
      // seconds while the origin idled (audit 16 F3): the door is brought
      // up to who is inside at once, then opens by kStep as on any idle
      // origin.
      why +=
          Format(" (the door first brought up from %.0f to the %.0f inside)", state_.limit, active);
      state_.limit = active;
    }
    GrowGently(seen, ceilings, why.c_str());
  } else if (double near_inside = active * kFastGrowth + kStep;
             seen.queued == 0 && state_.limit > near_inside) {
    state_.limit = near_inside;
    state_.move = ProtectMove::kTrim;
    state_.reason = Format("healthy, room not full (%.0f inside): limit kept at %.0f", active,
                           std::min(near_inside, CeilingActive(ceilings)));
  } else {
    state_.move = ProtectMove::kHold;
    state_.reason =
        Format("healthy, room not full (%.0f inside of %.0f): hold", active, state_.limit);
  }
  // Healthy: the rate follows what the door admits (with headroom), and is
  // at least what fills the free places within kFillMillis.
  // The measured rate lags (a store counts whole minutes), so the rate is
  // also at least what turns the whole room over in kTurnoverMillis.
  double limit = std::min(state_.limit, CeilingActive(ceilings));
  double free_places = std::max(0.0, limit - active);
  state_.rate =
      std::max({kRateHeadroom * seen.admitted_per_minute, FloorRate(settings_, ceilings),
                free_places * 60'000.0 / kFillMillis, limit * 60'000.0 / kTurnoverMillis});
}

void ProtectController::GrowGently(const ProtectObservation& seen, const ProtectCeilings& ceilings,
                                   const char* why) {
  double before = state_.limit;
  state_.limit = before + kStep;
  state_.move = ProtectMove::kGrow;
  state_.reason = before >= CeilingActive(ceilings)
                      ? Format("healthy, at the configured limit %.0f", CeilingActive(ceilings))
                      : Format("healthy (p90 %.0f ms, %.0f requests, %.0f inside, %.0f waiting): ",
                               static_cast<double>(seen.health.p90_ms), seen.health.samples,
                               static_cast<double>(seen.active), static_cast<double>(seen.queued)) +
                            Format("limit %.0f -> %.0f, gently: ", before,
                                   std::min(state_.limit, CeilingActive(ceilings))) +
                            why;
}

void ProtectController::Adopt(ProtectState state) {
  bool braked_here = state.decided_ms == state_.decided_ms && state_.move == ProtectMove::kHold &&
                     state.move == ProtectMove::kGrow && state_.limit < state.limit;
  if (braked_here) {
    state.limit = state_.limit;
    state.ramp_from = state_.ramp_from;
    state.congestion_at = state_.congestion_at;
    state.move = state_.move;
    state.reason = state_.reason;
  }
  state_ = std::move(state);
}

bool ProtectController::Brake(const ProtectObservation& seen, const ProtectCeilings& ceilings) {
  if (state_.move != ProtectMove::kGrow || state_.ramp_from >= state_.limit) return false;
  const OriginHealth& recent = seen.recent;
  if (recent.samples < kMinSamples) return false;
  const double target = static_cast<double>(std::max<int64_t>(1, settings_.target_latency_ms));
  double threshold = kWarmShare * target;
  const bool slow_start = state_.congestion_at <= 0;
  if (slow_start && state_.calm_p90_ms > 0) {
    threshold = std::min(threshold, kDelayRise * state_.calm_p90_ms);
  }
  const double p90 = static_cast<double>(recent.p90_ms);
  if (p90 <= threshold) return false;
  double active = std::max<int64_t>(0, seen.active);
  double opened = Limits(ceilings, seen.now_ms).total_active_users;
  state_.limit = std::max(state_.ramp_from, std::min(opened, active + kStep));
  state_.ramp_from = state_.limit;
  if (slow_start) state_.congestion_at = std::max(1.0, active);
  state_.move = ProtectMove::kHold;
  state_.direction = 0;
  state_.reason = Format(
      "brake: p90 %.0f ms of the last moment > %.0f ms: the door stops "
      "opening at %.0f (%.0f inside)",
      p90, threshold, state_.limit, active);
  return true;
}

void ProtectController::Cut(const ProtectObservation& seen, double factor, ProtectMove move) {
  double active = std::max<int64_t>(0, seen.active);
  double before = state_.limit;
  // Relative to who is inside, not to the previous limit: while sessions
  // drain, the same slowness never cuts twice (no downward spiral).
  state_.limit = std::min(state_.limit, std::max(1.0, active * factor));
  double measured = std::max(2.0, seen.admitted_per_minute);
  state_.rate = std::min(state_.rate, measured * factor);  // likewise: the measured rate
  state_.congestion_at = std::max(1.0, active);
  state_.probe_since_ms = 0;
  state_.settle_until_ms = seen.now_ms + kSettleMillis;
  state_.move = move;
  state_.reason = state_.limit < before
                      ? Format(": limit %.0f -> %.0f (%.2f x %.0f inside)", before, state_.limit,
                               factor, active)
                      : Format(": limit %.0f already below %.2f x %.0f inside (draining)", before,
                               factor, active);
}

void ProtectController::Grow(const ProtectObservation& seen, const ProtectCeilings& ceilings) {
  double before = state_.limit;
  double congestion = state_.congestion_at;
  const char* how = "slow start";
  if (congestion <= 0) {
    state_.limit = before * kSlowStartGrowth + kStep;  // slow start
  } else if (before < kApproachShare * congestion) {
    // Back toward the last congestion point, halving the distance.
    state_.limit = before + std::max(kStep, 0.5 * (kApproachShare * congestion - before));
    how = "back toward the last congestion point";
  } else {
    // Probing around and beyond it: slowly at first, twice as fast every
    // kProbeDoublingMillis without congestion (capacity may have come back).
    if (state_.probe_since_ms == 0) state_.probe_since_ms = seen.now_ms;
    double doublings = double(seen.now_ms - state_.probe_since_ms) / kProbeDoublingMillis;
    double step = kSlowGrowthShare * before * std::exp2(std::min(doublings, 5.0));
    state_.limit = before + std::clamp(step, kStep / 2, before * (kFastGrowth - 1) + kStep);
    how = "probing";
  }
  state_.move = ProtectMove::kGrow;
  double shown = std::min(state_.limit, CeilingActive(ceilings));
  state_.reason =
      before >= CeilingActive(ceilings)
          ? Format("healthy (p90 %.0f ms), room full: at the configured limit %.0f",
                   static_cast<double>(seen.health.p90_ms), CeilingActive(ceilings))
          : Format("healthy (p90 %.0f ms), room full (%.0f inside): limit %.0f -> %.0f, ",
                   static_cast<double>(seen.health.p90_ms), static_cast<double>(seen.active),
                   before, shown) +
                how;
}

ProtectLimits ProtectController::Limits(const ProtectCeilings& ceilings, int64_t now_ms) const {
  ProtectLimits out = Limits(ceilings);
  if (state_.limit <= 0 || state_.ramp_from >= state_.limit) return out;
  double done = std::clamp(double(now_ms - state_.decided_ms) / kDecisionMillis, 0.0, 1.0);
  double limit = state_.ramp_from + (state_.limit - state_.ramp_from) * done;
  out.total_active_users =
      std::min(out.total_active_users,
               static_cast<uint32_t>(std::clamp(std::floor(limit), 1.0, CeilingActive(ceilings))));
  return out;
}

ProtectLimits ProtectController::Limits(const ProtectCeilings& ceilings) const {
  if (state_.limit <= 0) return {ceilings.total_active_users, ceilings.new_users_per_minute};
  ProtectLimits out;
  out.total_active_users =
      static_cast<uint32_t>(std::clamp(std::floor(state_.limit), 1.0, CeilingActive(ceilings)));
  out.new_users_per_minute = static_cast<uint32_t>(
      std::clamp(std::floor(state_.rate), FloorRate(settings_, ceilings), CeilingRate(ceilings)));
  return out;
}

}  // namespace tidegate::queue
