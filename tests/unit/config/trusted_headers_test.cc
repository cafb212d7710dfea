// [server].trusted_headers: field names a trusted front adds, protected from
// a client's `Connection:` (issue 14).
#include <gtest/gtest.h>

#include "config/loader.h"
#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::LoadWithServerKeys;

TEST(TrustedHeadersTest, EmptyByDefault) {
  LoadResult result = LoadWithServerKeys("");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_TRUE(result.config->server.trusted_headers.empty());
}

TEST(TrustedHeadersTest, NamesAreKeptLowerCase) {
  LoadResult result = LoadWithServerKeys(R"(trusted_headers = ["X-My-Trusted", "X-Client-Cert"])");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_EQ(result.config->server.trusted_headers,
            (std::vector<std::string>{"x-my-trusted", "x-client-cert"}));
}

TEST(TrustedHeadersTest, BadEntriesNameTheirPosition) {
  LoadResult result = LoadWithServerKeys(R"(trusted_headers = ["X Bad", 7, "Connection", "ok"])");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "server.trusted_headers[0]", "is not a header field name"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "server.trusted_headers[1]", "expected a header field name"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "server.trusted_headers[2]", "hop-by-hop")) << AllErrors(result);
  for (const ConfigError& error : result.errors) {
    EXPECT_EQ(error.line, 3) << FormatError(error);
    EXPECT_GT(error.column, 0) << FormatError(error);
  }
}

// tidegate sets X-Forwarded-Proto itself from the client's connection, so
// trusting it could never keep a front's value.
TEST(TrustedHeadersTest, XForwardedProtoIsRefused) {
  LoadResult result =
      LoadWithServerKeys(R"(trusted_headers = ["X-Client-Cert", "X-Forwarded-Proto"])");
  EXPECT_TRUE(HasError(result, "server.trusted_headers[1]", "is always set by tidegate"))
      << AllErrors(result);
  EXPECT_EQ(result.errors.size(), 1u) << AllErrors(result);
  ASSERT_FALSE(result.errors.empty());
  EXPECT_EQ(result.errors[0].line, 3);
}

TEST(TrustedHeadersTest, NotAListIsATypeError) {
  LoadResult result = LoadWithServerKeys(R"(trusted_headers = "X-My-Trusted")");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "server.trusted_headers", "")) << AllErrors(result);
}

}  // namespace
}  // namespace tidegate::config
