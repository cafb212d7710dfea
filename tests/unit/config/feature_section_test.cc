// [features.NAME].match rules that could never match a request are refused
// at load, with file, line and key: a host with a port or no valid Host
// spelling, a method tidegate answers 501 (or 400) to.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::LoadWithMinimal;

const ConfigError* FindError(const LoadResult& result, const std::string& key) {
  for (const ConfigError& error : result.errors) {
    if (error.key == key) return &error;
  }
  return nullptr;
}

TEST(FeatureSectionTest, HostWithPortIsRefusedWithFileLineAndKey) {
  LoadResult result = LoadWithMinimal(R"(
[features.hport]
match = [{ path = "^/x", host = "shop.example:8443" }]
)");
  const ConfigError* error = FindError(result, "features.hport.match[0].host");
  ASSERT_NE(error, nullptr) << AllErrors(result);
  EXPECT_NE(
      error->message.find("host takes no port: rules compare the Host header without its port"),
      std::string::npos)
      << error->message;
  EXPECT_NE(error->file.find("main.toml"), std::string::npos);
  // kMinimal is 7 lines (its first is empty); the rule is on the 3rd line after it.
  EXPECT_EQ(error->line, 9) << FormatError(*error);
  EXPECT_GT(error->column, 0);
}

TEST(FeatureSectionTest, HostsNoValidHostHeaderCarriesAreRefused) {
  struct Case {
    const char* host;
    const char* needle;
  };
  for (const Case& c :
       {Case{"shop.example:", "host takes no port"}, Case{"[::1]:8443", "host takes no port"},
        Case{"shop.example:80:80", "host takes no port"}, Case{"shop..example", "empty label"},
        Case{".shop.example", "empty label"}, Case{"shop.example..", "empty label"},
        Case{".", "empty label"}, Case{"[::1", "unbalanced brackets"},
        Case{"::1]", "unbalanced brackets"}, Case{"[[::1]]", "unbalanced brackets"},
        Case{"[shop]", "not an IPv6 address"}, Case{"2001:db8::1", "needs brackets"},
        Case{"shop example", "cannot appear in a host name"},
        Case{"https://shop.example", "cannot appear in a host name"},
        Case{"shop.example/x", "cannot appear in a host name"},
        Case{"user@shop.example", "cannot appear in a host name"},
        Case{"", "expected a host name"}}) {
    LoadResult result =
        LoadWithMinimal(std::string("[features.h]\nmatch = [{ host = \"") + c.host + "\" }]\n");
    EXPECT_TRUE(HasError(result, "features.h.match[0].host", c.needle)) << c.host << "\n"
                                                                        << AllErrors(result);
  }
}

TEST(FeatureSectionTest, HostIsNormalized) {
  LoadResult result = LoadWithMinimal(R"(
[features.a]
match = [{ host = "Shop.Example." }]
[features.b]
match = [{ host = "[2001:DB8::1]" }]
[features.c]
match = [{ host = "10.0.0.1" }]
[features.d]
match = [{ host = "my_host-1.shop.example" }]
)");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  ASSERT_EQ(result.config->features.size(), 4u);
  EXPECT_EQ(result.config->features[0].match[0].host, "shop.example");
  EXPECT_EQ(result.config->features[1].match[0].host, "[2001:db8::1]");
  EXPECT_EQ(result.config->features[2].match[0].host, "10.0.0.1");
  EXPECT_EQ(result.config->features[3].match[0].host, "my_host-1.shop.example");
}

TEST(FeatureSectionTest, MethodsTheProxyRefusesAreRefused) {
  LoadResult result = LoadWithMinimal(R"(
[features.pots]
match = [{ path = "^/pots", methods = ["POTS", "get", "CONNECT", "PRI", "DESCRIBE"] }]
)");
  EXPECT_TRUE(HasError(result, "features.pots.match[0].methods[0]",
                       "\"POTS\" is not a method tidegate forwards: it answers 501"))
      << AllErrors(result);
  EXPECT_EQ(FindError(result, "features.pots.match[0].methods[1]"), nullptr) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "features.pots.match[0].methods[2]", "CONNECT is refused with 400"));
  EXPECT_TRUE(HasError(result, "features.pots.match[0].methods[3]", "not a method tidegate"));
  EXPECT_TRUE(HasError(result, "features.pots.match[0].methods[4]", "not a method tidegate"));
  EXPECT_EQ(result.errors.size(), 4u) << AllErrors(result);
  const ConfigError* error = FindError(result, "features.pots.match[0].methods[0]");
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->line, 9);
}

TEST(FeatureSectionTest, EveryMethodTheProxyForwardsIsAccepted) {
  LoadResult result = LoadWithMinimal(R"(
[features.all]
match = [{ path = "^/", methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE",
  "PATCH", "PROPFIND", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH",
  "PURGE", "LINK", "UNLINK", "SOURCE", "MKCALENDAR", "SUBSCRIBE", "NOTIFY", "M-SEARCH"] }]
)");
  EXPECT_TRUE(result.ok()) << AllErrors(result);
}

}  // namespace
}  // namespace tidegate::config
