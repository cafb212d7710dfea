// [rooms.NAME.protect]: auto-protection's keys (docs/waiting-room.md,
// "Auto-protection").
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::LoadWithMinimal;

constexpr char kRoom[] = "[rooms.shop]\nmatch = [\"^/\"]\nmode = \"off\"\n";

TEST(RoomProtectConfigTest, DefaultsAreOffWithTheDocumentedTargets) {
  LoadResult result = LoadWithMinimal(kRoom);
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  const RoomConfig::Protect& p = result.config->rooms[0].protect;
  EXPECT_FALSE(p.enabled);
  EXPECT_EQ(p.target_latency, Duration(500));
  EXPECT_DOUBLE_EQ(p.max_error_rate, 0.02);
  EXPECT_EQ(p.min_new_users_per_minute, 1u);
}

TEST(RoomProtectConfigTest, ReadsEveryKey) {
  LoadResult result = LoadWithMinimal(std::string(kRoom) +
                                      "[rooms.shop.protect]\n"
                                      "enabled = true\n"
                                      "target_latency = \"250ms\"\n"
                                      "max_error_rate = 0.01\n"
                                      "min_new_users_per_minute = 20\n"
                                      "exclude_paths = [\"^/api/poll\", \"^/export/\"]\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  const RoomConfig::Protect& p = result.config->rooms[0].protect;
  EXPECT_TRUE(p.enabled);
  EXPECT_EQ(p.target_latency, Duration(250));
  EXPECT_DOUBLE_EQ(p.max_error_rate, 0.01);
  EXPECT_EQ(p.min_new_users_per_minute, 20u);
  EXPECT_EQ(p.exclude_paths, (std::vector<std::string>{"^/api/poll", "^/export/"}));
  // An integer share is a number too.
  LoadResult zero =
      LoadWithMinimal(std::string(kRoom) + "[rooms.shop.protect]\nmax_error_rate = 0\n");
  ASSERT_TRUE(zero.ok()) << AllErrors(zero);
  EXPECT_DOUBLE_EQ(zero.config->rooms[0].protect.max_error_rate, 0.0);
}

TEST(RoomProtectConfigTest, BadValuesNameTheKeyAndTypos) {
  LoadResult result = LoadWithMinimal(std::string(kRoom) +
                                      "new_users_per_minute = 100\n"
                                      "[rooms.shop.protect]\n"
                                      "enabled = \"yes\"\n"
                                      "target_latency = \"2m\"\n"
                                      "max_error_rate = 2\n"
                                      "min_new_users_per_minute = 500\n"
                                      "exclude_paths = [\"^/ok\", \"^/(poll\"]\n"
                                      "target_latncy = \"1s\"\n");
  EXPECT_TRUE(HasError(result, "rooms.shop.protect.enabled", "")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "rooms.shop.protect.target_latency", "out of range"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "rooms.shop.protect.max_error_rate", "0.02 = 2 %"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "rooms.shop.protect.min_new_users_per_minute",
                       "above the room's new_users_per_minute (100)"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "rooms.shop.protect.exclude_paths[1]", "")) << AllErrors(result);
  EXPECT_FALSE(HasError(result, "rooms.shop.protect.exclude_paths[0]", "")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "rooms.shop.protect.target_latncy", "target_latency"))
      << AllErrors(result);
  // Errors carry file:line:col.
  for (const ConfigError& e : result.errors) EXPECT_GT(e.line, 0) << FormatError(e);
  LoadResult not_table = LoadWithMinimal(std::string(kRoom) + "protect = true\n");
  EXPECT_TRUE(HasError(not_table, "rooms.shop.protect", "")) << AllErrors(not_table);
}

}  // namespace
}  // namespace tidegate::config
