#include "admin/host_check.h"

#include <gtest/gtest.h>

namespace tidegate::admin {
namespace {

TEST(HostCheckTest, HostWithoutPort) {
  EXPECT_EQ(HostWithoutPort("127.0.0.1:9901"), "127.0.0.1");
  EXPECT_EQ(HostWithoutPort("[::1]:9901"), "::1");
  EXPECT_EQ(HostWithoutPort("[::1]"), "::1");
  EXPECT_EQ(HostWithoutPort("Admin.Shop.Internal."), "admin.shop.internal");
  EXPECT_EQ(HostWithoutPort(" localhost:80 "), "localhost");
  EXPECT_EQ(HostWithoutPort("::1"), "");  // IPv6 needs brackets
  EXPECT_EQ(HostWithoutPort("[::1]x"), "");
  EXPECT_EQ(HostWithoutPort("[::1"), "");
  EXPECT_EQ(HostWithoutPort("a b"), "");
  EXPECT_EQ(HostWithoutPort("user@evil.example"), "");
  EXPECT_EQ(HostWithoutPort(""), "");
}

TEST(HostCheckTest, APortIsDigitsOnly) {
  EXPECT_EQ(HostWithoutPort("127.0.0.1:1@evil.com"), "");
  EXPECT_EQ(HostWithoutPort("[::1]:80x"), "");
  EXPECT_EQ(HostWithoutPort("127.0.0.1:8080"), "127.0.0.1");
  EXPECT_EQ(HostWithoutPort("127.0.0.1:"), "127.0.0.1");
  EXPECT_FALSE(AdminHostAllowed("127.0.0.1:1@evil.com", {}));
}

TEST(HostCheckTest, IpLiteralsAndLocalhostAlwaysPass) {
  const std::vector<std::string> none;
  for (const char* host : {"127.0.0.1", "127.0.0.1:9901", "[::1]:9901", "10.0.0.5", "localhost",
                           "LOCALHOST:9901", "localhost.", "admin.localhost"}) {
    EXPECT_TRUE(AdminHostAllowed(host, none)) << host;
  }
}

TEST(HostCheckTest, ReboundNamesAreRefused) {
  const std::vector<std::string> allowed = {"admin.shop.internal"};
  for (const char* host : {"evil.example", "evil.example:9901", "shop.test", "", "localhost.evil",
                           "notlocalhost", "127.0.0.1.evil.example", "admin.shop.internal.evil"}) {
    EXPECT_FALSE(AdminHostAllowed(host, allowed)) << host;
  }
  EXPECT_TRUE(AdminHostAllowed("Admin.Shop.Internal:9901", allowed));
  EXPECT_TRUE(AdminHostAllowed("admin.shop.internal.", allowed));
}

TEST(HostCheckTest, ListenHostAndConfiguredNamesAreAllowed) {
  config::AdminConfig admin;
  admin.listen = {"10.1.2.3", 9901, "", "10.1.2.3:9901"};
  admin.allowed_hosts = {"ops.example"};
  std::vector<std::string> allowed = AllowedAdminHosts(admin);
  EXPECT_EQ(allowed, (std::vector<std::string>{"10.1.2.3", "ops.example"}));
  config::AdminConfig unix_admin;
  unix_admin.listen = {"", 0, "/run/tidegate/admin.sock", "unix:/run/tidegate/admin.sock"};
  EXPECT_TRUE(AllowedAdminHosts(unix_admin).empty());
}

}  // namespace
}  // namespace tidegate::admin
