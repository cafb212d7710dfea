#include "queue/eta.h"

#include <algorithm>
#include <cmath>

namespace tidegate::queue {

namespace {
// Time for `invitations` at `per_second`, in ms, between `floor_ms` and an
// hour (a rate of zero or less: the floor).
int64_t TimeFor(double invitations, double per_second, int64_t floor_ms) {
  if (per_second <= 0) return floor_ms;
  double ms = std::min(invitations / per_second * 1000.0, 3'600'000.0);
  return std::max(floor_ms, static_cast<int64_t>(ms));
}
}  // namespace

int64_t QueueSpeed::FirstWindowMillis() const {
  return TimeFor(kFirstInvitations, expected_, kMinMeasuredMillis);
}

void QueueSpeed::Restart() {
  measured_ms_ = 0;
  stalled_ms_ = 0;
  first_advance_ = 0;
  rate_ = 0;
  last_ms_ = 0;  // the next sample starts a new interval
}

void QueueSpeed::Observe(int64_t now_ms, uint64_t serving, bool waiting,
                         double expected_per_second) {
  expected_ = expected_per_second;
  if (last_ms_ == 0 || serving < last_serving_ || now_ms < last_ms_) {
    last_ms_ = now_ms;
    last_serving_ = serving;
    last_waiting_ = waiting;
    return;
  }
  int64_t elapsed = now_ms - last_ms_;
  if (elapsed < 1000) {
    last_waiting_ = last_waiting_ || waiting;  // folded into the next sample
    return;
  }
  if (!last_waiting_) stalled_ms_ = 0;
  if (last_waiting_) {
    uint64_t advance = serving - last_serving_;
    stalled_ms_ = advance > 0 ? 0 : stalled_ms_ + elapsed;
    if (measured_ms_ < FirstWindowMillis()) {
      // Until enough is measured, the plain mean (a first sample alone
      // would be one tick's burst).
      first_advance_ += advance;
      measured_ms_ += elapsed;
      rate_ = static_cast<double>(first_advance_) * 1000.0 / static_cast<double>(measured_ms_);
    } else {
      double seconds = static_cast<double>(elapsed) / 1000.0;
      double sample = static_cast<double>(advance) / seconds;
      double tau = static_cast<double>(TimeFor(kSmoothedInvitations, expected_,
                                               static_cast<int64_t>(kTimeConstantSeconds * 1000))) /
                   1000.0;
      double alpha = 1.0 - std::exp(-seconds / tau);
      rate_ += alpha * (sample - rate_);
      measured_ms_ += elapsed;
    }
  }
  last_ms_ = now_ms;
  last_serving_ = serving;
  last_waiting_ = waiting;
}

bool QueueSpeed::Stalled() const { return stalled_ms_ > TimeFor(2, expected_, 5'000); }

bool QueueSpeed::LongStalled() const {
  return stalled_ms_ >= TimeFor(10, expected_, kLongStallMillis);
}

bool QueueSpeed::Measured() const {
  return measured_ms_ > 0 && measured_ms_ >= FirstWindowMillis();
}

double QueueSpeed::PerSecond(double fallback) const {
  if (Measured()) return rate_;
  if (measured_ms_ <= 0) return fallback;
  // The configured rate says what the door allows, not how fast the line
  // moves (auto-protection, ghosts at the front): what was seen so far
  // bounds it.
  double seen =
      static_cast<double>(first_advance_ + 1) * 1000.0 / static_cast<double>(measured_ms_);
  return std::min(fallback, seen);
}

void ShownRate::Update(int64_t now_ms, double measured_per_second) {
  if (last_ms_ == 0 || now_ms < last_ms_ || shown_ <= 0) {
    shown_ = measured_per_second;
  } else {
    double halvings = static_cast<double>(now_ms - last_ms_) / static_cast<double>(kHalvingMillis);
    shown_ = std::max(measured_per_second, shown_ * std::exp2(-halvings));
  }
  last_ms_ = now_ms;
}

double ShownRate::Bound(double measured_per_second) const {
  return std::max(measured_per_second, shown_);
}

void ShownRate::Reset() {
  last_ms_ = 0;
  shown_ = 0;
}

double FullRoomPerSecond(const FullRoom& room, uint64_t queued) {
  if (room.session_seconds <= 0) return 0;
  double turnover = std::max(0.0, room.limit) / room.session_seconds;
  double from = std::max(room.limit, room.inside);  // where the door starts letting people in
  double headroom = room.ceiling - from;
  if (room.opening_per_second <= 0 || headroom <= 0 || queued == 0) return turnover;
  double line = static_cast<double>(queued);
  double through_door = std::min(line, headroom);
  double seconds = (from - room.limit + through_door) / room.opening_per_second;
  if (line > through_door) {
    double at_ceiling = room.ceiling / room.session_seconds;
    seconds += (line - through_door) / at_ceiling;
  }
  return std::max(turnover, line / seconds);
}

WaitRange EstimateWait(uint64_t position, double rate_per_second) {
  double rate = std::max(rate_per_second, 1.0 / 600.0);  // at least one admission per 10 min
  double center = static_cast<double>(position) / rate;
  double low = center * 0.8;
  double high = center * 1.25;
  // Minutes up to a quarter of an hour: a 5-min step from 10 min on made
  // the top of the range leap from 10 to 15 min as it crossed 10 min.
  double step = high < 120 ? 10 : high < 900 ? 60 : high < 3600 ? 300 : 900;
  WaitRange r;
  // A floored speed (a line that did not move) gave "67,500 to 106,200 s"
  // at position 141: beyond a few hours a range is no information.
  if (low >= static_cast<double>(kMaxShownWaitSeconds)) {
    r.low_seconds = r.high_seconds = kMaxShownWaitSeconds;
    r.more_than = true;
    return r;
  }
  r.low_seconds = static_cast<int64_t>(std::floor(low / step) * step);
  r.high_seconds = static_cast<int64_t>(std::ceil(high / step) * step);
  if (r.high_seconds <= r.low_seconds) r.high_seconds = r.low_seconds + static_cast<int64_t>(step);
  // kMaxShownWaitSeconds is a multiple of the 15-min step: still above low.
  r.high_seconds = std::min(r.high_seconds, kMaxShownWaitSeconds);
  return r;
}

}  // namespace tidegate::queue
