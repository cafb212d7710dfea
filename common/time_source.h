// The one clock of the process: wall time (std::chrono::system_clock, for
// what is shown or compared with operators' RFC 3339 times: banner expiry,
// maintenance windows, status page, audit records) and monotonic time
// (std::chrono::steady_clock, for durations and timeouts).
//
// Features take a `const TimeSource&` instead of calling ::now() themselves,
// so their time-dependent output can be tested with a FakeTimeSource.
//
// Contract:
// * RealTimeSource is stateless and thread-safe; one instance, owned by
//   main() (or a test), is handed by reference to whoever reads time and
//   must outlive them. SystemTime() returns a process-wide stateless one for
//   code that has no owner to ask (defaults of legacy constructors).
// * FakeTimeSource is for tests: its time moves only when the test sets or
//   advances it. Reads and writes are atomic, so a worker thread may read it
//   while the test thread advances it.
// * ClockCacheScope: while one is alive on a thread, RealTimeSource and
//   CachedMonotonicNow()/CachedWallNow() on that thread read each clock at
//   most once and return that reading after (nginx's time cache, updated
//   once per event-loop wake-up). Place one at the top of an event callback
//   that handles requests, so the several time stamps one request takes
//   (start, upstream pick, pool, log, schedules) cost one clock read.
//   Nothing inside such a scope may wait for time to pass. Outside any
//   scope, every read asks the clock.
#pragma once

#include <atomic>
#include <chrono>

namespace tidegate::common {

// Wall clock and its time point (RFC 3339 text is formatted from these).
using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;
// Monotonic clock and its time point.
using MonotonicClock = std::chrono::steady_clock;
using MonotonicTime = MonotonicClock::time_point;

// Per-thread clock cache; see the contract above. Scopes nest.
class ClockCacheScope {
 public:
  ClockCacheScope();
  ~ClockCacheScope();
  ClockCacheScope(const ClockCacheScope&) = delete;
  ClockCacheScope& operator=(const ClockCacheScope&) = delete;
};

// Monotonic and wall time now, or the reading cached by the enclosing
// ClockCacheScope of this thread.
MonotonicTime CachedMonotonicNow();
TimePoint CachedWallNow();

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  // Wall time now. Thread-safe.
  virtual TimePoint WallNow() const = 0;
  // Monotonic time now. Thread-safe.
  virtual MonotonicTime MonotonicNow() const = 0;
};

class RealTimeSource final : public TimeSource {
 public:
  TimePoint WallNow() const override { return CachedWallNow(); }
  MonotonicTime MonotonicNow() const override { return CachedMonotonicNow(); }
};

// A stateless RealTimeSource that lives as long as the process.
const TimeSource& SystemTime();

class FakeTimeSource final : public TimeSource {
 public:
  // Starts at `wall` (and an arbitrary fixed monotonic time).
  explicit FakeTimeSource(TimePoint wall = TimePoint(std::chrono::seconds(1'700'000'000)))
      : wall_(wall.time_since_epoch().count()) {}

  TimePoint WallNow() const override {
    return TimePoint(Clock::duration(wall_.load(std::memory_order_relaxed)));
  }
  MonotonicTime MonotonicNow() const override {
    return MonotonicTime(MonotonicClock::duration(mono_.load(std::memory_order_relaxed)));
  }

  // Sets the wall time (it may go backwards, as a real wall clock may);
  // monotonic time is not changed.
  void SetWall(TimePoint wall) {
    wall_.store(wall.time_since_epoch().count(), std::memory_order_relaxed);
  }
  // Moves both clocks forward by `d` (d >= 0).
  template <typename Rep, typename Period>
  void Advance(std::chrono::duration<Rep, Period> d) {
    wall_.fetch_add(std::chrono::duration_cast<Clock::duration>(d).count(),
                    std::memory_order_relaxed);
    mono_.fetch_add(std::chrono::duration_cast<MonotonicClock::duration>(d).count(),
                    std::memory_order_relaxed);
  }

 private:
  std::atomic<Clock::rep> wall_;
  std::atomic<MonotonicClock::rep> mono_{
      std::chrono::duration_cast<MonotonicClock::duration>(std::chrono::hours(1000)).count()};
};

}  // namespace tidegate::common
