// [admin.tls]: HTTPS for the admin listener.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::InTestData;
using testing::LoadWithMinimal;

TEST(AdminTlsSectionTest, AbsentMeansPlainHttp) {
  LoadResult result = LoadWithMinimal("");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_FALSE(result.config->admin.tls.has_value());
}

TEST(AdminTlsSectionTest, CertAndKeyAreResolvedAgainstTheNamingFile) {
  LoadResult result =
      LoadWithMinimal("[admin.tls]\ncert = \"tls/shop.pem\"\nkey = \"tls/shop.key\"\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  ASSERT_TRUE(result.config->admin.tls.has_value());
  EXPECT_EQ(result.config->admin.tls->cert_file, InTestData("tls/shop.pem"));
  EXPECT_EQ(result.config->admin.tls->key_file, InTestData("tls/shop.key"));
}

TEST(AdminTlsSectionTest, InlineTableFormWorksToo) {
  LoadResult result = LoadWithMinimal(
      "[admin]\nlisten = \"127.0.0.1:9902\"\ntls = { cert = \"tls/shop.pem\", key = "
      "\"tls/shop.key\" }\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_TRUE(result.config->admin.tls.has_value());
}

TEST(AdminTlsSectionTest, BothFilesAreRequired) {
  LoadResult result = LoadWithMinimal("[admin.tls]\ncert = \"tls/shop.pem\"\n");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "admin.tls.key", "required")) << AllErrors(result);
  result = LoadWithMinimal("[admin.tls]\nkey = \"tls/shop.key\"\n");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "admin.tls.cert", "required")) << AllErrors(result);
}

TEST(AdminTlsSectionTest, MissingFileIsReportedWithItsPosition) {
  LoadResult result =
      LoadWithMinimal("[admin.tls]\ncert = \"tls/missing.pem\"\nkey = \"tls/shop.key\"\n");
  EXPECT_FALSE(result.ok());
  ASSERT_TRUE(HasError(result, "admin.tls.cert", "does not exist")) << AllErrors(result);
  for (const ConfigError& error : result.errors) {
    if (error.key != "admin.tls.cert") continue;
    EXPECT_EQ(error.file, InTestData("main.toml"));
    EXPECT_GT(error.line, 0);
    EXPECT_GT(error.column, 0);
  }
}

TEST(AdminTlsSectionTest, UnknownKeyAndWrongTypesAreRefused) {
  LoadResult result = LoadWithMinimal(
      "[admin.tls]\ncert = \"tls/shop.pem\"\nkey = \"tls/shop.key\"\ncertificate = \"x\"\n");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "admin.tls.certificate", "unknown key")) << AllErrors(result);

  result = LoadWithMinimal("[admin.tls]\ncert = 1\nkey = \"tls/shop.key\"\n");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "admin.tls.cert", "string")) << AllErrors(result);

  result = LoadWithMinimal("[admin]\ntls = true\n");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "admin.tls", "table")) << AllErrors(result);
}

TEST(AdminTlsSectionTest, EmptyPathIsRefused) {
  LoadResult result = LoadWithMinimal("[admin.tls]\ncert = \"\"\nkey = \"tls/shop.key\"\n");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "admin.tls.cert", "file path")) << AllErrors(result);
}

TEST(AdminTlsSectionTest, UnixSocketListenerRefusesTls) {
  LoadResult result = LoadWithMinimal(
      "[admin]\nlisten = \"unix:/tmp/tidegate-admin.sock\"\n[admin.tls]\ncert = "
      "\"tls/shop.pem\"\nkey = \"tls/shop.key\"\n");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "admin.tls", "unix socket")) << AllErrors(result);
}

}  // namespace
}  // namespace tidegate::config
