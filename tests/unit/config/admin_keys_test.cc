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

}  // namespace
}  // namespace tidegate::config
