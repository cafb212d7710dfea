#include "queue/protect_room.h"

#include <algorithm>
#include <cstdint>

namespace tidegate::queue {
namespace {

ProtectSettings SettingsOf(const config::RoomConfig::Protect& p) {
  ProtectSettings s;
  s.target_latency_ms = p.target_latency.count();
  s.max_error_rate = p.max_error_rate;
  s.min_new_users_per_minute = p.min_new_users_per_minute;
  return s;
}

}  // namespace

int64_t RoomProtection::AccountedAt(int64_t now_ms, const proxy::UpstreamOutcome& outcome) const {
  int64_t latency_ms = outcome.time_to_headers.count() / 1000;
  int64_t target = target_ms_.load(std::memory_order_relaxed);
  return latency_ms > target ? now_ms - latency_ms + target : now_ms;
}

bool IsOriginError(const proxy::UpstreamOutcome& outcome) {
  return outcome.kind != proxy::UpstreamOutcome::Kind::kResponse || outcome.status >= 500;
}

void RoomProtection::Configure(const config::RoomConfig::Protect& protect) {
  std::lock_guard<std::mutex> lock(mutex_);
  bool was = enabled_.load(std::memory_order_relaxed);
  controller_.set_settings(SettingsOf(protect));
  target_ms_.store(std::max<int64_t>(1, protect.target_latency.count()), std::memory_order_relaxed);
  if (protect.enabled && !was) controller_.Reset();  // a fresh slow start
  enabled_.store(protect.enabled, std::memory_order_relaxed);
  Publish(INT64_MAX);
}

void RoomProtection::Switch(bool on) {
  if (enabled_.load(std::memory_order_relaxed) == on) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (enabled_.load(std::memory_order_relaxed) == on) return;
  if (on) controller_.Reset();  // a fresh slow start
  enabled_.store(on, std::memory_order_relaxed);
  Publish(INT64_MAX);
}

void RoomProtection::Record(int64_t now_ms, const proxy::UpstreamOutcome& outcome) {
  if (!enabled()) return;
  window_.Record(AccountedAt(now_ms, outcome), outcome.time_to_headers.count(),
                 IsOriginError(outcome));
}

void RoomProtection::Begin(int64_t now_ms, ExchangeSample* sample) {
  if (!enabled() || sample->started_ms >= 0) return;
  window_.Begin(now_ms);
  sample->started_ms = now_ms;
}

void RoomProtection::End(ExchangeSample* sample) {
  if (sample->started_ms < 0) return;
  window_.End(sample->started_ms);
  sample->started_ms = -1;
}

void RoomProtection::Record(int64_t now_ms, const proxy::UpstreamOutcome& outcome,
                            ExchangeSample* sample) {
  End(sample);  // answered (or failed): no longer in flight
  if (!enabled()) return;
  bool error = IsOriginError(outcome);
  if (sample->recorded_ms < 0) {
    int64_t at = AccountedAt(now_ms, outcome);
    window_.Record(at, outcome.time_to_headers.count(), error);
    sample->recorded_ms = at;
    sample->error = error;
    return;
  }
  // The final outcome of an exchange already sampled: only a success that
  // became a failure changes the sample (its latency stays the head's).
  if (error && !sample->error) {
    window_.MarkError(sample->recorded_ms);
    sample->error = true;
  }
}

RoomLimits RoomProtection::Apply(const RoomLimits& ceilings) {
  if (!enabled()) return ceilings;
  if (ceiling_active_.load(std::memory_order_relaxed) != ceilings.total_active_users) {
    ceiling_active_.store(ceilings.total_active_users, std::memory_order_relaxed);
  }
  if (ceiling_rate_.load(std::memory_order_relaxed) != ceilings.new_users_per_minute) {
    ceiling_rate_.store(ceilings.new_users_per_minute, std::memory_order_relaxed);
  }
  return Effective(ceilings);
}

RoomLimits RoomProtection::Effective(const RoomLimits& ceilings) const {
  if (!enabled()) return ceilings;
  RoomLimits limits = ceilings;
  uint32_t active = effective_active_.load(std::memory_order_relaxed);
  uint32_t rate = effective_rate_.load(std::memory_order_relaxed);
  if (active > 0 && active < limits.total_active_users) limits.total_active_users = active;
  if (rate > 0 && rate < limits.new_users_per_minute) limits.new_users_per_minute = rate;
  return limits;
}

bool RoomProtection::OnTick(const RoomCounters& counters, int64_t now_ms) {
  if (!enabled()) return false;
  ProtectCeilings ceilings{ceiling_active_.load(std::memory_order_relaxed),
                           ceiling_rate_.load(std::memory_order_relaxed)};
  if (ceilings.total_active_users == 0) return false;  // Apply() never ran yet
  std::lock_guard<std::mutex> lock(mutex_);
  ProtectObservation seen;
  seen.now_ms = now_ms;
  int64_t since = controller_.state().settle_until_ms;
  int64_t slow_after = std::max<int64_t>(1, controller_.settings().target_latency_ms);
  seen.health = window_.Read(now_ms, OriginHealthWindow::kWindowMillis, since, slow_after);
  seen.recent = window_.Read(now_ms, ProtectController::kBrakeMillis, since, slow_after);
  if (seen.recent.samples < ProtectController::kMinSamples) {
    seen.recent = window_.Read(now_ms, 2 * ProtectController::kBrakeMillis, since, slow_after);
  }
  seen.active = counters.active;
  seen.queued = counters.queued();
  seen.serving = counters.serving;
  seen.admitted_per_minute = counters.admitted_per_minute;
  // The writer: a decision, a brake, or nothing. A follower applies the
  // adopted decision's opening ramp as the writer does, and brakes it on
  // its own samples.
  bool decided = false;
  if (decides()) {
    decided = controller_.Observe(seen, ceilings);
  } else {
    controller_.BrakeFollower(seen, ceilings);
  }
  Publish(now_ms);  // between decisions the opening ramp moves on
  return decided;
}

void RoomProtection::Adopt(const ProtectState& state, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  controller_.Adopt(state);
  Publish(now_ms);  // where the writer's opening ramp is now (OnTick moves it on)
}

void RoomProtection::Publish(int64_t now_ms) {
  ProtectCeilings ceilings{ceiling_active_.load(std::memory_order_relaxed),
                           ceiling_rate_.load(std::memory_order_relaxed)};
  ProtectMove move = controller_.state().move;
  opening_.store(move == ProtectMove::kStart || move == ProtectMove::kGrow,
                 std::memory_order_relaxed);
  if (ceilings.total_active_users == 0 || controller_.state().limit <= 0) {
    effective_active_.store(0, std::memory_order_relaxed);
    effective_rate_.store(0, std::memory_order_relaxed);
    return;
  }
  ProtectLimits limits = controller_.Limits(ceilings, now_ms);
  effective_active_.store(limits.total_active_users, std::memory_order_relaxed);
  effective_rate_.store(limits.new_users_per_minute, std::memory_order_relaxed);
}

RoomProtection::DoorOpening RoomProtection::Opening() const {
  if (!enabled() || !opening_.load(std::memory_order_relaxed)) return {};
  uint32_t ceiling = ceiling_active_.load(std::memory_order_relaxed);
  uint32_t active = effective_active_.load(std::memory_order_relaxed);
  if (active == 0 || active >= ceiling) return {};
  return {
      ProtectController::kStep * 1000.0 / static_cast<double>(ProtectController::kDecisionMillis),
      ceiling};
}

ProtectStatus RoomProtection::status(int64_t now_ms) const {
  return StatusWith({ceiling_active_.load(std::memory_order_relaxed),
                     ceiling_rate_.load(std::memory_order_relaxed)},
                    now_ms);
}

ProtectStatus RoomProtection::status(int64_t now_ms, const RoomLimits& in_force) const {
  ProtectCeilings ceilings{ceiling_active_.load(std::memory_order_relaxed),
                           ceiling_rate_.load(std::memory_order_relaxed)};
  // 0 = no request since the start: the ceilings it will bring are the
  // limits in force (a freshly started controller applies them as they are).
  if (ceilings.total_active_users == 0) {
    ceilings = {in_force.total_active_users, in_force.new_users_per_minute};
  }
  return StatusWith(ceilings, now_ms);
}

ProtectStatus RoomProtection::StatusWith(const ProtectCeilings& ceilings, int64_t now_ms) const {
  ProtectStatus s;
  s.enabled = enabled();
  s.ceilings = ceilings;
  s.measured = window_.Read(now_ms, OriginHealthWindow::kWindowMillis, 0,
                            target_ms_.load(std::memory_order_relaxed));
  std::lock_guard<std::mutex> lock(mutex_);
  s.settings = controller_.settings();
  s.state = controller_.state();
  s.effective = s.enabled && s.state.limit > 0
                    ? controller_.Limits(s.ceilings)
                    : ProtectLimits{s.ceilings.total_active_users, s.ceilings.new_users_per_minute};
  return s;
}

}  // namespace tidegate::queue
