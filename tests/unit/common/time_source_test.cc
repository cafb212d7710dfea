// TimeSource: the real clocks, and the fake one tests drive.
#include "common/time_source.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/rfc3339.h"

namespace tidegate::common {
namespace {

TEST(TimeSourceTest, RealTimeReadsTheSystemClocks) {
  RealTimeSource real;
  TimePoint wall_before = Clock::now();
  MonotonicTime mono_before = MonotonicClock::now();
  TimePoint wall = real.WallNow();
  MonotonicTime mono = real.MonotonicNow();
  EXPECT_GE(wall, wall_before);
  EXPECT_LT(wall - wall_before, std::chrono::seconds(5));
  EXPECT_GE(mono, mono_before);
  EXPECT_GE(SystemTime().MonotonicNow(), mono);
  EXPECT_EQ(&SystemTime(), &SystemTime());  // one stateless instance
}

TEST(TimeSourceTest, AClockCacheScopeReadsEachClockOnceUntilItEnds) {
  RealTimeSource real;
  MonotonicTime mono;
  TimePoint wall;
  {
    ClockCacheScope scope;
    mono = real.MonotonicNow();
    wall = real.WallNow();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(real.MonotonicNow(), mono);
    EXPECT_EQ(CachedMonotonicNow(), mono);
    EXPECT_EQ(CachedWallNow(), wall);
    {
      ClockCacheScope nested;  // an inner scope keeps the outer reading
      EXPECT_EQ(CachedMonotonicNow(), mono);
    }
    EXPECT_EQ(CachedMonotonicNow(), mono);
    // Another thread has its own cache (here: none, so it reads the clock).
    MonotonicTime other;
    std::thread([&] { other = CachedMonotonicNow(); }).join();
    EXPECT_GE(other - mono, std::chrono::milliseconds(2));
  }
  // The scope ended: reads ask the clock again.
  EXPECT_GE(real.MonotonicNow() - mono, std::chrono::milliseconds(2));
  EXPECT_GE(CachedWallNow() - wall, std::chrono::milliseconds(1));
  {
    ClockCacheScope next;  // a new scope takes a new reading
    EXPECT_GE(CachedMonotonicNow() - mono, std::chrono::milliseconds(2));
  }
}

TEST(TimeSourceTest, FakeTimeMovesOnlyWhenTold) {
  FakeTimeSource fake(*ParseRfc3339("2026-11-23T14:00:00Z"));
  const TimeSource& time = fake;
  MonotonicTime mono = time.MonotonicNow();
  EXPECT_EQ(FormatRfc3339(time.WallNow()), "2026-11-23T14:00:00Z");
  EXPECT_EQ(time.WallNow(), time.WallNow());
  EXPECT_EQ(time.MonotonicNow(), mono);

  fake.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(FormatRfc3339Millis(time.WallNow()), "2026-11-23T14:00:01.500Z");
  EXPECT_EQ(time.MonotonicNow() - mono, std::chrono::milliseconds(1500));

  // Setting the wall clock (even backwards) leaves monotonic time alone.
  fake.SetWall(*ParseRfc3339("2026-11-23T13:00:00Z"));
  EXPECT_EQ(FormatRfc3339(time.WallNow()), "2026-11-23T13:00:00Z");
  EXPECT_EQ(time.MonotonicNow() - mono, std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace tidegate::common
