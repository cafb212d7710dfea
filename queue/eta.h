// The wait estimate shown to queued visitors: from the MEASURED admission
// rate (not the configured one), smoothed, and shown as a range rounded to a
// granularity that grows with the wait, so it does not jump around between
// two polls.
//
// Contract: AdmissionRate is a small value, not thread-safe (the owner
// serialises: RoomRuntime updates it under its own mutex at each tick);
// EstimateWait is pure.
#pragma once

#include <cstdint>

namespace tidegate::queue {

class AdmissionRate {
 public:
  // Smoothing time constant of the exponential moving average.
  static constexpr double kTimeConstantSeconds = 60.0;

  // Feeds the room's cumulative admissions counter at `now_ms`. Samples
  // closer than 1 s to the previous one are folded into the next.
  void Observe(int64_t now_ms, uint64_t admitted_total);
  // Smoothed admissions per second; `fallback` (the configured rate) until
  // 30 s of measurements exist.
  double PerSecond(double fallback) const;

 private:
  int64_t last_ms_ = 0;
  uint64_t last_total_ = 0;
  int64_t measured_ms_ = 0;  // how long we have been measuring
  double rate_ = 0;
};

struct WaitRange {
  int64_t low_seconds = 0;
  int64_t high_seconds = 0;
};

// Visitors ahead = `position`; admissions per second = `rate` (> 0, else a
// floor is used). The range is about -20 % / +25 % around position / rate,
// widened to a step of 10 s (< 2 min), 1 min (< 10 min), 5 min (< 1 h) or
// 15 min, never narrower than one step.
WaitRange EstimateWait(uint64_t position, double rate_per_second);

}  // namespace tidegate::queue
