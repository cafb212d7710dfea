// The wait estimate shown to queued visitors: from the MEASURED speed of the
// queue (not the configured rate), smoothed, and shown as a range rounded to
// a granularity that grows with the wait, so it does not jump around between
// two polls.
//
// The speed is how fast queue numbers are invited (`serving` advances), not
// how fast visitors are admitted: a visitor's place moves with `serving`,
// ghosts included (with half the queue gone, places move twice as fast as
// admissions). It is measured only over time during which somebody was
// waiting, so a queue that was empty for a while does not look slow to its
// first newcomer; and the direct admissions of a room with space never count.
//
// Contract: QueueSpeed is a small value, not thread-safe (the owner
// serialises: RoomRuntime updates it under its own mutex at each tick);
// EstimateWait is pure.
#pragma once

#include <cstdint>

namespace tidegate::queue {

class QueueSpeed {
 public:
  // Smoothing time constant of the exponential moving average, at least.
  static constexpr double kTimeConstantSeconds = 60.0;
  // Waiting time measured before the measurement replaces the fallback, at
  // least.
  static constexpr int64_t kMinMeasuredMillis = 10'000;
  // At a slow configured rate both grow to hold about this many invitations
  // (a 10-s window at 2 a minute holds none, and a measured zero would
  // promise an hour): kMinMeasuredMillis covers kFirstInvitations of them,
  // the time constant kSmoothedInvitations.
  static constexpr double kFirstInvitations = 5;
  static constexpr double kSmoothedInvitations = 10;

  // Feeds the room's `serving` counter at `now_ms`, and whether somebody
  // was waiting while numbers could be invited then (tickets > serving,
  // and the room not in a pre-queue). Samples closer than 1 s to the
  // previous one are folded into the next. An interval counts when
  // somebody was waiting at its start. `expected_per_second` is the
  // configured rate: it sizes the first window and the smoothing.
  void Observe(int64_t now_ms, uint64_t serving, bool waiting, double expected_per_second);
  // The limits in force changed (configured rate, capacity, a scheduled
  // event's phase): what was measured before says nothing about the speed
  // from now on. Measuring starts again; the fallback applies until then.
  void Restart();
  // Smoothed queue numbers invited per second; `fallback` (the configured
  // rate) until the first window of waiting time has been measured.
  double PerSecond(double fallback) const;
  // True once the first window of waiting time has been measured (since
  // the start or the last Restart()): PerSecond() no longer returns the
  // fallback.
  bool Measured() const;
  // True when, at the last sample, people had waited without a number
  // being invited for longer than usual: 5 s, or two invitations' time at
  // the configured rate when that is longer.
  bool Stalled() const;

 private:
  int64_t FirstWindowMillis() const;

  int64_t last_ms_ = 0;
  uint64_t last_serving_ = 0;
  bool last_waiting_ = false;
  int64_t measured_ms_ = 0;     // waiting time measured so far
  uint64_t first_advance_ = 0;  // numbers invited during the first window
  double rate_ = 0;
  double expected_ = 0;     // the configured rate at the last sample (0: unknown)
  int64_t stalled_ms_ = 0;  // waiting time since `serving` last moved, at the last sample
};

struct WaitRange {
  int64_t low_seconds = 0;
  int64_t high_seconds = 0;
};

// Visitors ahead = `position`; numbers invited per second = `rate` (> 0,
// else a floor is used). The range is about -20 % / +25 % around position /
// rate, widened to a step of 10 s (< 2 min), 1 min (< 15 min), 5 min (< 1 h)
// or 15 min, never narrower than one step.
WaitRange EstimateWait(uint64_t position, double rate_per_second);

}  // namespace tidegate::queue
