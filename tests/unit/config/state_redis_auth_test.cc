// [state] redis_password_file and redis_username (config/state_section.cc):
// read with trailing newlines stripped, refused without backend = "redis",
// unreadable or empty files and stray or malformed user names reported as
// file:line:col key: message.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "tests/unit/config/test_helpers.h"

namespace tidegate::config::testing {
namespace {

std::string WriteFile(const std::string& name, const std::string& content) {
  std::string path = ::testing::TempDir() + name;
  std::FILE* f = std::fopen(path.c_str(), "w");
  EXPECT_NE(f, nullptr);
  if (f != nullptr) {
    std::fputs(content.c_str(), f);
    std::fclose(f);
  }
  return path;
}

const ConfigError* Find(const LoadResult& result, const std::string& key) {
  for (const ConfigError& e : result.errors) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

constexpr char kRedis[] = "[state]\nbackend = \"redis\"\nredis = \"127.0.0.1:6379\"\n";

TEST(StateRedisAuthTest, PasswordFileAndUserAreRead) {
  std::string path = WriteFile("redis_password", "p@ss word\r\n\n");
  LoadResult result = LoadWithMinimal(std::string(kRedis) + "redis_password_file = \"" + path +
                                      "\"\nredis_username = \"tidegate\"\n");
  ASSERT_TRUE(result.errors.empty()) << AllErrors(result);
  EXPECT_EQ(result.config->state.redis_password, "p@ss word");
  EXPECT_EQ(result.config->state.redis_username, "tidegate");
  // Without a user: AUTH <password> only.
  LoadResult plain =
      LoadWithMinimal(std::string(kRedis) + "redis_password_file = \"" + path + "\"\n");
  ASSERT_TRUE(plain.errors.empty()) << AllErrors(plain);
  EXPECT_EQ(plain.config->state.redis_username, "");
  // None by default.
  LoadResult none = LoadWithMinimal(kRedis);
  ASSERT_TRUE(none.errors.empty()) << AllErrors(none);
  EXPECT_EQ(none.config->state.redis_password, "");
}

TEST(StateRedisAuthTest, NoStateSectionMeansNoPassword) {
  LoadResult result = LoadWithMinimal("");
  ASSERT_TRUE(result.errors.empty()) << AllErrors(result);
  EXPECT_EQ(result.config->state.redis_password, "");
  EXPECT_EQ(result.config->state.redis_username, "");
}

TEST(StateRedisAuthTest, WorksWithSentinelsToo) {
  std::string path = WriteFile("redis_password_s", "pw\n");
  LoadResult result = LoadWithMinimal(
      "[state]\nbackend = \"redis\"\nsentinels = [\"127.0.0.1:26379\"]\nmaster_name = \"m\"\n"
      "redis_password_file = \"" +
      path + "\"\n");
  ASSERT_TRUE(result.errors.empty()) << AllErrors(result);
  EXPECT_EQ(result.config->state.redis_password, "pw");
  EXPECT_EQ(result.config->state.sentinel_password, "");
}

TEST(StateRedisAuthTest, RelativePathIsResolvedAgainstTheConfigFolder) {
  // testdata/main.toml names it: "missing.pass" is looked up in testdata/.
  LoadResult result =
      LoadWithMinimal(std::string(kRedis) + "redis_password_file = \"missing.pass\"\n");
  const ConfigError* e = Find(result, "state.redis_password_file");
  ASSERT_NE(e, nullptr) << AllErrors(result);
  EXPECT_NE(e->message.find(InTestData("missing.pass")), std::string::npos) << e->message;
}

TEST(StateRedisAuthTest, UnreadableOrEmptyFileIsAnErrorWithFileLineAndKey) {
  LoadResult missing =
      LoadWithMinimal(std::string(kRedis) + "redis_password_file = \"/nonexistent/redis.pass\"\n");
  const ConfigError* e = Find(missing, "state.redis_password_file");
  ASSERT_NE(e, nullptr) << AllErrors(missing);
  EXPECT_EQ(e->file, InTestData("main.toml"));
  EXPECT_GT(e->line, 0);
  EXPECT_NE(e->message.find("/nonexistent/redis.pass"), std::string::npos) << e->message;
  EXPECT_NE(FormatError(*e).find("main.toml:" + std::to_string(e->line) + ":"), std::string::npos)
      << FormatError(*e);

  std::string empty = WriteFile("redis_password_empty", "\n");
  LoadResult blank =
      LoadWithMinimal(std::string(kRedis) + "redis_password_file = \"" + empty + "\"\n");
  EXPECT_TRUE(HasError(blank, "state.redis_password_file", "is empty")) << AllErrors(blank);
}

TEST(StateRedisAuthTest, RefusedWithoutTheRedisBackend) {
  std::string path = WriteFile("redis_password_local", "pw\n");
  LoadResult local = LoadWithMinimal("[state]\nredis_password_file = \"" + path + "\"\n");
  EXPECT_TRUE(HasError(local, "state.redis_password_file", "only with backend = \"redis\""))
      << AllErrors(local);
  EXPECT_EQ(local.config ? local.config->state.redis_password : "", "");
  LoadResult explicit_local = LoadWithMinimal(
      "[state]\nbackend = \"local\"\nredis = \"127.0.0.1:6379\"\nredis_password_file = \"" + path +
      "\"\n");
  EXPECT_TRUE(HasError(explicit_local, "state.redis_password_file", "only with backend"))
      << AllErrors(explicit_local);
}

TEST(StateRedisAuthTest, UserNeedsAPasswordFileAndAName) {
  LoadResult stray = LoadWithMinimal(std::string(kRedis) + "redis_username = \"tidegate\"\n");
  EXPECT_TRUE(HasError(stray, "state.redis_username", "only with redis_password_file"))
      << AllErrors(stray);
  std::string path = WriteFile("redis_password_user", "pw\n");
  for (const char* bad : {"", "two words"}) {
    LoadResult r = LoadWithMinimal(std::string(kRedis) + "redis_password_file = \"" + path +
                                   "\"\nredis_username = \"" + bad + "\"\n");
    EXPECT_TRUE(HasError(r, "state.redis_username", "ACL user name")) << bad << AllErrors(r);
  }
  LoadResult typo = LoadWithMinimal(std::string(kRedis) + "redis_user = \"tidegate\"\n");
  EXPECT_FALSE(typo.errors.empty()) << "an unknown key is reported";
}

}  // namespace
}  // namespace tidegate::config::testing
