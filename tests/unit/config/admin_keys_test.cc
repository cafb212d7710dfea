// [admin].audit_log and [admin].metrics_open_on_loopback.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::InTestData;
using testing::LoadWithMinimal;
using testing::TestData;

TEST(AdminKeysTest, DefaultsLeaveAuditLogToTheBinaryAndOpenLoopbackMetrics) {
  LoadResult result = LoadWithMinimal("");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_EQ(result.config->admin.audit_log, "");
  EXPECT_TRUE(result.config->admin.metrics_open_on_loopback);
}

TEST(AdminKeysTest, RelativeAuditLogIsResolvedAgainstTheNamingFile) {
  LoadResult result = LoadWithMinimal("[admin]\naudit_log = \"logs/audit.jsonl\"\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_EQ(result.config->admin.audit_log, (TestData() / "logs/audit.jsonl").string());
}

TEST(AdminKeysTest, RelativeAuditLogFollowsTheFileOfAConfDirectory) {
  LoadResult result = LoadConfigFromStrings(
      {{InTestData("main.toml"), std::string(testing::kMinimal)},
       {"/etc/tidegate/conf.d/50-admin.toml", "[admin]\naudit_log = \"audit.log\"\n"}});
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_EQ(result.config->admin.audit_log, "/etc/tidegate/conf.d/audit.log");
}

TEST(AdminKeysTest, AbsoluteAuditLogIsKept) {
  LoadResult result = LoadWithMinimal("[admin]\naudit_log = \"/var/log/tidegate/audit.log\"\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_EQ(result.config->admin.audit_log, "/var/log/tidegate/audit.log");
}

TEST(AdminKeysTest, EmptyOrFolderAuditLogIsRefused) {
  for (const char* value : {"\"\"", "\"logs/\""}) {
    LoadResult result = LoadWithMinimal(std::string("[admin]\naudit_log = ") + value + "\n");
    EXPECT_FALSE(result.ok()) << value;
    EXPECT_TRUE(HasError(result, "admin.audit_log", "file path")) << AllErrors(result);
  }
}

TEST(AdminKeysTest, AuditLogMustBeAString) {
  LoadResult result = LoadWithMinimal("[admin]\naudit_log = 3\n");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "admin.audit_log", "string")) << AllErrors(result);
}

TEST(AdminKeysTest, MetricsOpenOnLoopbackCanBeTurnedOff) {
  LoadResult result = LoadWithMinimal("[admin]\nmetrics_open_on_loopback = false\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_FALSE(result.config->admin.metrics_open_on_loopback);
}

TEST(AdminKeysTest, MetricsOpenOnLoopbackMustBeABoolean) {
  LoadResult result = LoadWithMinimal("[admin]\nmetrics_open_on_loopback = \"no\"\n");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "admin.metrics_open_on_loopback", "true or false"))
      << AllErrors(result);
}

TEST(AdminKeysTest, TypoNextToTheNewKeysIsStillReported) {
  LoadResult result = LoadWithMinimal("[admin]\naudit_logs = \"a.log\"\n");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "admin.audit_logs", "")) << AllErrors(result);
}

// Audit 10 F5: one hash under two entries gave the token the first entry's
// name and role silently (a viewer first: the operator got 403; an
// operator first: a viewer token could change things). Case-insensitive.
TEST(AdminKeysTest, TwoTokensWithTheSameHashAreRefusedNamingBothPlaces) {
  const std::string hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  std::string upper = hash;
  for (char& c : upper) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  LoadResult result = LoadWithMinimal(
      "[admin]\ntokens = [\n"
      "  { name = \"dash\", token_sha256 = \"" +
      hash +
      "\", role = \"viewer\" },\n"
      "  { name = \"ops\", token_sha256 = \"" +
      upper + "\", role = \"operator\" },\n]\n");
  EXPECT_FALSE(result.ok());
  ASSERT_TRUE(HasError(result, "admin.tokens[1].token_sha256", "same hash as the token at"))
      << AllErrors(result);
  std::string all = AllErrors(result);
  // The first place: the file and line of the first entry.
  EXPECT_NE(all.find(".toml:"), std::string::npos) << all;
  EXPECT_FALSE(HasError(result, "admin.tokens[0].token_sha256", "")) << all;
}

TEST(AdminKeysTest, TokensWithDifferentHashesPass) {
  LoadResult result = LoadWithMinimal(
      "[admin]\ntokens = [\n"
      "  { name = \"dash\", token_sha256 = \"" +
      std::string(64, 'a') +
      "\", role = \"viewer\" },\n"
      "  { name = \"ops\", token_sha256 = \"" +
      std::string(64, 'b') + "\", role = \"operator\" },\n]\n");
  EXPECT_TRUE(result.ok()) << AllErrors(result);
}

}  // namespace
}  // namespace tidegate::config
