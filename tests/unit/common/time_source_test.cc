// TimeSource: the real clocks, and the fake one tests drive.
#include "common/time_source.h"

#include <gtest/gtest.h>

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
