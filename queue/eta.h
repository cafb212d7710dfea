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
// What a shopper polling every few seconds reads must not swing: the
// estimate may fall freely as the line moves, but the speed it divides by
// falls by at most half per ShownRate::kHalvingMillis (ShownRate), so for a
// shopper whose place does not worsen it grows by at most x2 per 5 s
// (x1.15 between two polls 1 s apart). A line that has really stopped is
// said to be stopped (WaitRange::stalled), and a wait beyond
// kMaxShownWaitSeconds reads "more than 4 hours" (WaitRange::more_than)
// instead of a range of a day.
//
// Contract: QueueSpeed and ShownRate are small values, not thread-safe (the
// owner serialises: RoomRuntime updates them under its own mutex at each
// tick); EstimateWait is pure.
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
  // Not for auto-protection's moves of its effective limits (every second
  // or two: restarting at each kept the estimate on the fallback for ever):
  // RoomRuntime compares the ceilings protection works under.
  void Restart();
  // Smoothed queue numbers invited per second. Until the first window of
  // waiting time has been measured: `fallback` (the configured rate), but
  // never more than one invitation more than seen so far over the waiting
  // time measured so far ((invited + 1) / time): a line seen moving 4
  // numbers in 20 s is not promised the configured 200 a minute.
  double PerSecond(double fallback) const;
  // True once the first window of waiting time has been measured (since
  // the start or the last Restart()): PerSecond() no longer returns the
  // fallback.
  bool Measured() const;
  // True when, at the last sample, people had waited without a number
  // being invited for longer than usual: 5 s, or two invitations' time at
  // the configured rate when that is longer.
  bool Stalled() const;
  // True when, at the last sample, people had waited without a number
  // being invited for kLongStallMillis, or ten invitations' time at the
  // configured rate when that is longer: the line has stopped, and an
  // estimate would be a guess (WaitRange::stalled).
  static constexpr int64_t kLongStallMillis = 60'000;
  bool LongStalled() const;

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

// The speed the estimates divide by, whose fall is bounded. A room's
// measured speed can drop by x100 within a second (a full room's turnover
// cap engaging, a measurement starting again): divided into a shopper's
// place, that was "less than a minute" then "25 to 45 min" one poll later.
// Rises pass at once (estimates fall freely as the line moves); a fall is
// followed at most by half per kHalvingMillis.
class ShownRate {
 public:
  static constexpr int64_t kHalvingMillis = 5'000;
  // The speed measured at `now_ms` (each tick).
  void Update(int64_t now_ms, double measured_per_second);
  // The speed to divide by when `measured_per_second` is measured now: it,
  // or what the shown speed has fallen to so far when that is higher.
  double Bound(double measured_per_second) const;
  // Nothing shown to hold any more (new limits: QueueSpeed::Restart();
  // nobody waiting): the next speed applies as it is, however low.
  void Reset();

 private:
  int64_t last_ms_ = 0;
  double shown_ = 0;  // 0: nothing shown yet
};

// How fast a FULL room lets its line in when nothing better is known (the
// line's speed not measured yet, or the line stalled): at most the turnover
// of sessions that last their whole duration (`limit` per `session_seconds`)
// — unless auto-protection is opening the door (`opening_per_second` > 0:
// its effective limit below `ceiling` and its last decision a start or a
// grow), in which case the room is full only because the door is still
// narrow: the line comes in as the door grows (at `opening_per_second`
// places a second, the controller's smallest step: ProtectController::kStep
// per decision), once the door has grown past the sessions `inside` (after
// a cut the limit is below them: nobody comes in until it passes them), up
// to the ceiling; the rest at the turnover of the room at its ceiling.
// Returns the mean speed over the whole line of
// `queued` (at least the turnover at `limit`): the front of a long line is
// told a little more than its wait, never the 75 s a place of an empty
// protected room in slow start read (audit 16 F2: 4 places per 5 min while
// the door grew by 4 a second).
struct FullRoom {
  double limit = 0;            // total_active_users in force (effective)
  double session_seconds = 0;  // session_duration (> 0)
  double opening_per_second = 0;
  double ceiling = 0;  // the limit the door may open up to
  double inside = 0;   // sessions counted inside
};
double FullRoomPerSecond(const FullRoom& room, uint64_t queued);

// Waits longer than this read "more than 4 hours" (WaitRange::more_than).
inline constexpr int64_t kMaxShownWaitSeconds = 4 * 3600;

struct WaitRange {
  int64_t low_seconds = 0;
  int64_t high_seconds = 0;
  // Longer than kMaxShownWaitSeconds: low_seconds = high_seconds = it, the
  // page says "more than 4 hours", the JSON [14400, null].
  bool more_than = false;
  // The line has not moved for a while (QueueSpeed::LongStalled()): the
  // page says so instead of a range; the JSON keeps the range (what the
  // line's last speed gives) and adds "wait_stalled": true. Set by the
  // caller (RoomRuntime::EstimateFor), never by EstimateWait.
  bool stalled = false;
};

// Visitors ahead = `position`; numbers invited per second = `rate` (> 0,
// else a floor is used). The range is about -20 % / +25 % around position /
// rate, widened to a step of 10 s (< 2 min), 1 min (< 15 min), 5 min (< 1 h)
// or 15 min, never narrower than one step; its top end at most
// kMaxShownWaitSeconds, and `more_than` when even its low end passes it.
WaitRange EstimateWait(uint64_t position, double rate_per_second);

}  // namespace tidegate::queue
