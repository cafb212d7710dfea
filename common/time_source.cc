#include "common/time_source.h"

namespace tidegate::common {
namespace {
struct ClockCache {
  int depth = 0;
  bool have_monotonic = false;
  bool have_wall = false;
  MonotonicTime monotonic;
  TimePoint wall;
};
thread_local ClockCache clock_cache;
}  // namespace

ClockCacheScope::ClockCacheScope() { ++clock_cache.depth; }

ClockCacheScope::~ClockCacheScope() {
  if (--clock_cache.depth == 0) clock_cache.have_monotonic = clock_cache.have_wall = false;
}

MonotonicTime CachedMonotonicNow() {
  ClockCache& cache = clock_cache;
  if (cache.depth == 0) return MonotonicClock::now();
  if (!cache.have_monotonic) {
    cache.monotonic = MonotonicClock::now();
    cache.have_monotonic = true;
  }
  return cache.monotonic;
}

TimePoint CachedWallNow() {
  ClockCache& cache = clock_cache;
  if (cache.depth == 0) return Clock::now();
  if (!cache.have_wall) {
    cache.wall = Clock::now();
    cache.have_wall = true;
  }
  return cache.wall;
}

const TimeSource& SystemTime() {
  // Stateless: a constant, not shared mutable state.
  static const RealTimeSource kSystemTime;
  return kSystemTime;
}

}  // namespace tidegate::common
