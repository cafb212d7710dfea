#include "proxy/upstream_selector.h"

#include <gtest/gtest.h>

namespace tidegate::proxy {
namespace {

using std::chrono::milliseconds;
using TimePoint = UpstreamSelector::TimePoint;

TEST(UpstreamSelectorTest, RoundRobin) {
  UpstreamSelector selector(3, 3, milliseconds(1000));
  TimePoint now{};
  EXPECT_EQ(selector.Pick(now), 0u);
  EXPECT_EQ(selector.Pick(now), 1u);
  EXPECT_EQ(selector.Pick(now), 2u);
  EXPECT_EQ(selector.Pick(now), 0u);
}

TEST(UpstreamSelectorTest, EjectsAfterMaxFailsAndReadmitsAfterTimeout) {
  UpstreamSelector selector(2, 2, milliseconds(1000));
  TimePoint now{};
  selector.ReportFailure(0, now);
  EXPECT_FALSE(selector.IsEjected(0, now));  // one failure is not enough
  selector.ReportFailure(0, now);
  EXPECT_TRUE(selector.IsEjected(0, now));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(selector.Pick(now), 1u);
  TimePoint later = now + milliseconds(1001);
  EXPECT_FALSE(selector.IsEjected(0, later));
  // Trial after the period: one more failure ejects again at once.
  selector.ReportFailure(0, later);
  EXPECT_TRUE(selector.IsEjected(0, later));
  // A success re-admits fully.
  selector.ReportSuccess(0);
  EXPECT_FALSE(selector.IsEjected(0, later));
  EXPECT_EQ(selector.consecutive_failures(0), 0u);
}

TEST(UpstreamSelectorTest, SuccessResetsTheFailureCount) {
  UpstreamSelector selector(1, 2, milliseconds(1000));
  TimePoint now{};
  selector.ReportFailure(0, now);
  selector.ReportSuccess(0);
  selector.ReportFailure(0, now);
  EXPECT_FALSE(selector.IsEjected(0, now));
}

TEST(UpstreamSelectorTest, AllEjectedPicksTheOneBackFirst) {
  UpstreamSelector selector(2, 1, milliseconds(1000));
  TimePoint now{};
  selector.ReportFailure(1, now);
  selector.ReportFailure(0, now + milliseconds(10));
  EXPECT_TRUE(selector.IsEjected(0, now + milliseconds(10)));
  EXPECT_TRUE(selector.IsEjected(1, now + milliseconds(10)));
  EXPECT_EQ(selector.Pick(now + milliseconds(20)), 1u);
}

TEST(UpstreamSelectorTest, MaxFailsZeroNeverEjects) {
  UpstreamSelector selector(1, 0, milliseconds(1000));
  TimePoint now{};
  for (int i = 0; i < 10; ++i) selector.ReportFailure(0, now);
  EXPECT_FALSE(selector.IsEjected(0, now));
}

}  // namespace
}  // namespace tidegate::proxy
