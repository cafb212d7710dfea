// [site].status_history_days (issue 12): how long resolved incidents stay on
// the status page.
#include <gtest/gtest.h>

#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::LoadWithMinimal;

TEST(SiteSectionTest, StatusHistoryDaysDefaultsToThirty) {
  LoadResult result = LoadWithMinimal("");
  ASSERT_TRUE(result.config) << AllErrors(result);
  EXPECT_EQ(result.config->site.status_history_days, 30u);
}

TEST(SiteSectionTest, StatusHistoryDaysIsRead) {
  LoadResult result = LoadWithMinimal("[site]\nstatus_history_days = 90\n");
  ASSERT_TRUE(result.config) << AllErrors(result);
  EXPECT_EQ(result.config->site.status_history_days, 90u);
  result = LoadWithMinimal("[site]\nstatus_history_days = 0\n");
  ASSERT_TRUE(result.config) << AllErrors(result);
  EXPECT_EQ(result.config->site.status_history_days, 0u);
}

TEST(SiteSectionTest, BadStatusHistoryDaysIsReportedWithItsKey) {
  LoadResult result = LoadWithMinimal("[site]\nstatus_history_days = -1\n");
  EXPECT_FALSE(result.config);
  EXPECT_TRUE(HasError(result, "site.status_history_days", "out of range")) << AllErrors(result);
  result = LoadWithMinimal("[site]\nstatus_history_days = \"30d\"\n");
  EXPECT_FALSE(result.config);
  EXPECT_TRUE(HasError(result, "site.status_history_days", "")) << AllErrors(result);
  // A typo is named, with the key it probably meant.
  result = LoadWithMinimal("[site]\nstatus_history_day = 30\n");
  EXPECT_FALSE(result.config);
  EXPECT_TRUE(HasError(result, "site.status_history_day", "status_history_days"))
      << AllErrors(result);
}

}  // namespace
}  // namespace tidegate::config
