#include "proxy/upstream_demand.h"

#include <gtest/gtest.h>

namespace tidegate::proxy {
namespace {

using std::chrono::seconds;
using TimePoint = UpstreamDemand::TimePoint;

TEST(UpstreamDemandTest, PeakFollowsConcurrentUse) {
  auto demand = std::make_shared<UpstreamDemand>(2);
  TimePoint now{};
  std::vector<DemandToken> tokens;
  for (int i = 0; i < 64; ++i) {
    demand->Begin(0, now);
    tokens.emplace_back(demand, 0);
  }
  EXPECT_EQ(demand->busy(0), 64u);
  tokens.clear();  // every connection pooled again
  EXPECT_EQ(demand->busy(0), 0u);
  EXPECT_EQ(demand->RecentPeak(0, now), 64u);
  EXPECT_EQ(demand->RecentPeak(1, now), 0u);
}

TEST(UpstreamDemandTest, PeakIsForgottenAfterTwoQuietWindows) {
  auto demand = std::make_shared<UpstreamDemand>(1);
  TimePoint now{};
  demand->Begin(0, now);
  demand->Begin(0, now);
  demand->End(0);
  demand->End(0);
  // One window later the peak is still remembered (previous window)...
  EXPECT_EQ(demand->RecentPeak(0, now + UpstreamDemand::kWindow + seconds(1)), 2u);
  // ...two windows after that it is gone.
  EXPECT_EQ(demand->RecentPeak(0, now + 3 * UpstreamDemand::kWindow + seconds(2)), 0u);
}

TEST(UpstreamDemandTest, LongQuietGapForgetsAtOnce) {
  auto demand = std::make_shared<UpstreamDemand>(1);
  TimePoint now{};
  demand->Begin(0, now);
  demand->End(0);
  EXPECT_EQ(demand->RecentPeak(0, now + 5 * UpstreamDemand::kWindow), 0u);
}

TEST(UpstreamDemandTest, TokenCountsOutExactlyOnce) {
  auto demand = std::make_shared<UpstreamDemand>(1);
  demand->Begin(0, TimePoint{});
  DemandToken token(demand, 0);
  DemandToken moved = std::move(token);
  token.Reset();  // moved-from: nothing to count out
  EXPECT_EQ(demand->busy(0), 1u);
  moved.Reset();
  moved.Reset();
  EXPECT_EQ(demand->busy(0), 0u);
}

TEST(UpstreamDemandTest, TokenKeepsDemandAliveAfterThePoolDropsIt) {
  auto demand = std::make_shared<UpstreamDemand>(1);
  demand->Begin(0, TimePoint{});
  DemandToken token(demand, 0);
  demand.reset();  // a reload replaced the pool generation
  token.Reset();   // still safe
}

}  // namespace
}  // namespace tidegate::proxy
