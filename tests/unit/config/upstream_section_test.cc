// [upstream]: host names, the demand-sized pool keys, [upstream.health].
#include <gtest/gtest.h>

#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::InTestData;

LoadResult LoadUpstream(const std::string& upstream) {
  return LoadConfigFromStrings(
      {{InTestData("main.toml"), "[server]\nlisten = [\"127.0.0.1:8080\"]\n" + upstream}});
}

TEST(UpstreamSectionTest, AcceptsHostNamesAndRemembersWhereEachServerIs) {
  LoadResult result =
      LoadUpstream("[upstream]\nservers = [\"shop.internal:8080\", \"10.0.0.1:80\"]\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  const UpstreamConfig& upstream = result.config->upstream;
  EXPECT_EQ(upstream.servers[0].host, "shop.internal");
  EXPECT_EQ(upstream.servers[0].port, 8080);
  ASSERT_EQ(upstream.server_where.size(), 2u);
  EXPECT_NE(upstream.server_where[0].find("main.toml:4:"), std::string::npos)
      << upstream.server_where[0];
  EXPECT_NE(upstream.server_where[1].find("upstream.servers[1]"), std::string::npos);
  EXPECT_EQ(upstream.resolve_interval, Duration(30'000));
}

TEST(UpstreamSectionTest, RefusesWhatIsNeitherAnIpNorAHostName) {
  for (const char* bad : {"shop_internal:80", "-shop:80", "shop..x:80", "1.2.3:80", "shop:x"}) {
    LoadResult result = LoadUpstream(std::string("[upstream]\nservers = [\"") + bad + "\"]\n");
    EXPECT_FALSE(result.ok()) << bad;
    EXPECT_TRUE(HasError(result, "upstream.servers[0]", bad)) << AllErrors(result);
  }
}

TEST(UpstreamSectionTest, ListenersStillRefuseHostNames) {
  LoadResult result =
      LoadConfigFromStrings({{InTestData("main.toml"),
                              "[server]\nlisten = [\"shop.internal:8080\"]\n[upstream]\nservers = "
                              "[\"127.0.0.1:9000\"]\n"}});
  EXPECT_TRUE(HasError(result, "server.listen[0]", "not an IP address")) << AllErrors(result);
}

TEST(UpstreamSectionTest, PoolAndHealthKeys) {
  LoadResult result = LoadUpstream(R"([upstream]
servers = ["127.0.0.1:9000"]
keepalive = 4
keepalive_max = 64
keepalive_requests = 50
keepalive_time = "10m"
resolve_interval = "5s"
[upstream.health]
path = "/healthz"
interval = "1s"
timeout = "500ms"
rise = 1
fall = 2
)");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  const UpstreamConfig& upstream = result.config->upstream;
  EXPECT_EQ(upstream.keepalive, 4u);
  EXPECT_EQ(upstream.keepalive_max, 64u);
  EXPECT_EQ(upstream.keepalive_requests, 50u);
  EXPECT_EQ(upstream.keepalive_time, Duration(600'000));
  EXPECT_EQ(upstream.resolve_interval, Duration(5'000));
  EXPECT_EQ(upstream.health.path, "/healthz");
  EXPECT_EQ(upstream.health.interval, Duration(1'000));
  EXPECT_EQ(upstream.health.timeout, Duration(500));
  EXPECT_EQ(upstream.health.rise, 1u);
  EXPECT_EQ(upstream.health.fall, 2u);
}

TEST(UpstreamSectionTest, HealthChecksAreOffByDefault) {
  LoadResult result = LoadUpstream("[upstream]\nservers = [\"127.0.0.1:9000\"]\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_TRUE(result.config->upstream.health.path.empty());
  // Pooled connections are bounded as nginx's are by default.
  EXPECT_EQ(result.config->upstream.keepalive_requests, 1000u);
  EXPECT_EQ(result.config->upstream.keepalive_time, Duration(3'600'000));
}

TEST(UpstreamSectionTest, BadHealthKeysNameTheirPlace) {
  LoadResult result = LoadUpstream(R"([upstream]
servers = ["127.0.0.1:9000"]
[upstream.health]
path = "healthz"
rise = 0
intervall = "1s"
)");
  EXPECT_TRUE(HasError(result, "upstream.health.path", "must start with")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "upstream.health.rise", "")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "upstream.health.intervall", "")) << AllErrors(result);
}

}  // namespace
}  // namespace tidegate::config
