// [state] Redis Sentinel keys (config/state_section.cc): sentinels,
// master_name, wait_replicas (1 by default with sentinels), wait_timeout,
// and the errors that name file:line:col and key.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/unit/config/test_helpers.h"

namespace tidegate::config::testing {
namespace {

TEST(StateSentinelTest, SentinelsReplaceRedisAndDefaultToWaitingForOneReplica) {
  LoadResult result = LoadWithMinimal(R"(
[state]
backend = "redis"
sentinels = ["127.0.0.1:26379", "[::1]:26380"]
master_name = "tidegate"
)");
  ASSERT_TRUE(result.errors.empty()) << AllErrors(result);
  const StateConfig& s = result.config->state;
  ASSERT_EQ(s.sentinels.size(), 2u);
  EXPECT_EQ(s.sentinels[0].host, "127.0.0.1");
  EXPECT_EQ(s.sentinels[0].port, 26379);
  EXPECT_EQ(s.sentinels[1].port, 26380);
  EXPECT_EQ(s.master_name, "tidegate");
  EXPECT_FALSE(s.redis.has_value());
  EXPECT_EQ(s.wait_replicas, 1);
  EXPECT_EQ(s.wait_timeout, Duration(500));
}

TEST(StateSentinelTest, WithoutSentinelsNothingWaits) {
  LoadResult result = LoadWithMinimal("[state]\nbackend = \"redis\"\nredis = \"127.0.0.1:6379\"\n");
  ASSERT_TRUE(result.errors.empty()) << AllErrors(result);
  EXPECT_EQ(result.config->state.wait_replicas, 0);
  EXPECT_TRUE(result.config->state.sentinels.empty());
}

TEST(StateSentinelTest, WaitKeysAreRead) {
  LoadResult result = LoadWithMinimal(R"(
[state]
backend = "redis"
sentinels = ["127.0.0.1:26379"]
master_name = "m"
wait_replicas = 0
wait_timeout = "2s"
)");
  ASSERT_TRUE(result.errors.empty()) << AllErrors(result);
  EXPECT_EQ(result.config->state.wait_replicas, 0);
  EXPECT_EQ(result.config->state.wait_timeout, Duration(2000));
}

TEST(StateSentinelTest, MistakesAreNamed) {
  LoadResult both = LoadWithMinimal(R"(
[state]
backend = "redis"
redis = "127.0.0.1:6379"
sentinels = ["127.0.0.1:26379"]
master_name = "m"
)");
  EXPECT_TRUE(HasError(both, "state.redis", "exclude each other")) << AllErrors(both);

  LoadResult no_name =
      LoadWithMinimal("[state]\nbackend = \"redis\"\nsentinels = [\"127.0.0.1:26379\"]\n");
  EXPECT_TRUE(HasError(no_name, "state.master_name", "is required with sentinels"))
      << AllErrors(no_name);

  LoadResult names = LoadWithMinimal(
      "[state]\nbackend = \"redis\"\nsentinels = [\"sentinel.local:26379\", \"unix:/s\"]\n"
      "master_name = \"a b\"\n");
  EXPECT_TRUE(HasError(names, "state.sentinels[0]", "not an IP address")) << AllErrors(names);
  EXPECT_TRUE(HasError(names, "state.sentinels[1]", "")) << AllErrors(names);
  EXPECT_TRUE(HasError(names, "state.master_name", "no spaces")) << AllErrors(names);

  LoadResult empty =
      LoadWithMinimal("[state]\nbackend = \"redis\"\nsentinels = []\nmaster_name = \"m\"\n");
  EXPECT_TRUE(HasError(empty, "state.sentinels", "at least one")) << AllErrors(empty);

  LoadResult stray = LoadWithMinimal("[state]\nmaster_name = \"m\"\n");
  EXPECT_TRUE(HasError(stray, "state.master_name", "only with sentinels")) << AllErrors(stray);

  LoadResult range = LoadWithMinimal(
      "[state]\nbackend = \"redis\"\nsentinels = [\"127.0.0.1:26379\"]\nmaster_name = \"m\"\n"
      "wait_replicas = 99\nwait_timeot = \"1s\"\n");
  EXPECT_TRUE(HasError(range, "state.wait_replicas", "")) << AllErrors(range);
  EXPECT_TRUE(HasError(range, "state.wait_timeot", "did you mean \"wait_timeout\""))
      << AllErrors(range);
}

TEST(StateSentinelTest, PasswordFileIsReadAndRefusedWithoutSentinels) {
  std::string path = ::testing::TempDir() + "sentinel_password";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("s3cret\n", f);
    std::fclose(f);
  }
  LoadResult result = LoadWithMinimal(
      "[state]\nbackend = \"redis\"\nsentinels = [\"127.0.0.1:26379\"]\nmaster_name = \"m\"\n"
      "sentinel_password_file = \"" +
      path + "\"\n");
  ASSERT_TRUE(result.errors.empty()) << AllErrors(result);
  EXPECT_EQ(result.config->state.sentinel_password, "s3cret");
  EXPECT_EQ(result.config->state.sentinel_password_path, path);
  LoadResult stray = LoadWithMinimal("[state]\nsentinel_password_file = \"" + path + "\"\n");
  EXPECT_TRUE(HasError(stray, "state.sentinel_password_file", "only with sentinels"))
      << AllErrors(stray);
  LoadResult missing = LoadWithMinimal(
      "[state]\nbackend = \"redis\"\nsentinels = [\"127.0.0.1:26379\"]\nmaster_name = \"m\"\n"
      "sentinel_password_file = \"/nonexistent/pw\"\n");
  EXPECT_TRUE(HasError(missing, "state.sentinel_password_file", "")) << AllErrors(missing);
}

}  // namespace
}  // namespace tidegate::config::testing
