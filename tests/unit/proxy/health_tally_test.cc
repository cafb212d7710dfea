#include "proxy/health_tally.h"

#include <gtest/gtest.h>

#include <atomic>

#include "proxy/health_board.h"
#include "proxy/upstream_selector.h"

namespace tidegate::proxy {
namespace {

TEST(HealthTallyTest, FallFailuresInARowTakeAServerOut) {
  HealthTally tally(/*rise=*/2, /*fall=*/3);
  EXPECT_TRUE(tally.healthy());
  EXPECT_FALSE(tally.Record(false));
  EXPECT_FALSE(tally.Record(false));
  EXPECT_FALSE(tally.Record(true));  // the run is broken
  EXPECT_FALSE(tally.Record(false));
  EXPECT_FALSE(tally.Record(false));
  EXPECT_TRUE(tally.Record(false));
  EXPECT_FALSE(tally.healthy());
}

TEST(HealthTallyTest, RisePassesInARowBringItBack) {
  HealthTally tally(/*rise=*/2, /*fall=*/1);
  EXPECT_TRUE(tally.Record(false));
  EXPECT_FALSE(tally.Record(true));
  EXPECT_FALSE(tally.Record(false));  // the run is broken
  EXPECT_FALSE(tally.Record(true));
  EXPECT_TRUE(tally.Record(true));
  EXPECT_TRUE(tally.healthy());
}

TEST(HealthTallyTest, UnhealthyFlagEjectsInTheSelector) {
  std::atomic<bool> flags[2];
  flags[0] = false;
  flags[1] = true;
  UpstreamSelector selector(2, 3, std::chrono::milliseconds(1000));
  selector.SetHealthFlags(flags);
  UpstreamSelector::TimePoint now{};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(selector.Pick(now), 1u);
  flags[0] = true;
  EXPECT_EQ(selector.Pick(now), 0u);
  EXPECT_EQ(selector.Pick(now), 1u);
  // Every server out: still picks one (fail fast with a real error).
  flags[0] = false;
  flags[1] = false;
  size_t picked = selector.Pick(now);
  EXPECT_LT(picked, 2u);
}

TEST(HealthBoardUpstreamsTest, OlderGenerationsAreIgnoredAndNamesStayPrivate) {
  HealthBoard board;
  UpstreamReport sick;
  sick.server = "shop.internal:80";
  sick.healthy = false;
  sick.last_check = "status 500";
  UpstreamReport well;
  well.server = "10.0.0.9:80";
  board.SetUpstreams(2, {sick, well});
  board.SetUpstreams(1, {well});  // an older snapshot's monitor
  ASSERT_EQ(board.Upstreams().size(), 2u);
  std::vector<DegradedPart> parts = board.Parts();
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].part, "upstream");
  EXPECT_EQ(parts[0].detail, "1 of 2 origin servers fail their health checks");
  board.SetUpstreams(3, {well});
  EXPECT_TRUE(board.Parts().empty());
}

}  // namespace
}  // namespace tidegate::proxy
