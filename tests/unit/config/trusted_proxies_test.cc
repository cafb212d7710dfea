// [server].trusted_proxies and client_ip_header: the fronts whose report of
// the client is believed (proxy/client_address.h; audit 19 F1, F2, F4).
#include <gtest/gtest.h>

#include "config/loader.h"
#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::LoadWithServerKeys;

TEST(TrustedProxiesTest, NoFrontAndXForwardedForByDefault) {
  LoadResult result = LoadWithServerKeys("");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_TRUE(result.config->server.trusted_proxies.empty());
  EXPECT_EQ(result.config->server.client_ip_header, "x-forwarded-for");
}

TEST(TrustedProxiesTest, NetworksAndAFieldNameAreRead) {
  LoadResult result = LoadWithServerKeys(
      "trusted_proxies = [\"10.0.0.0/8\", \"2001:db8::/32\", \"192.0.2.1\"]\n"
      "client_ip_header = \"CF-Connecting-IP\"\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  ASSERT_EQ(result.config->server.trusted_proxies.size(), 3u);
  EXPECT_EQ(result.config->server.trusted_proxies[2].prefix_len, 32);
  EXPECT_EQ(result.config->server.client_ip_header, "cf-connecting-ip");
}

TEST(TrustedProxiesTest, BadNetworksNameTheirPosition) {
  LoadResult result =
      LoadWithServerKeys("trusted_proxies = [\"10.0.0.0/8\", \"10.1.2.3/8\", \"shop\"]\n");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "server.trusted_proxies[1]", "did you mean \"10.0.0.0/8\""))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "server.trusted_proxies[2]", "is not an IP address"))
      << AllErrors(result);
  for (const ConfigError& error : result.errors) EXPECT_EQ(error.line, 3) << FormatError(error);
}

TEST(TrustedProxiesTest, AFieldThatCannotCarryTheClientIsRefused) {
  for (const char* name : {"Connection", "X-Forwarded-Proto", "Host", "X Bad"}) {
    LoadResult result = LoadWithServerKeys(std::string("client_ip_header = \"") + name + "\"\n");
    EXPECT_TRUE(HasError(result, "server.client_ip_header", "cannot carry the client's address"))
        << name << ": " << AllErrors(result);
  }
}

}  // namespace
}  // namespace tidegate::config
