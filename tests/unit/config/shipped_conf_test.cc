// The example configuration shipped in conf.d/ must load as shipped.
#include <filesystem>

#include <gtest/gtest.h>

#include "config/loader.h"
#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

std::filesystem::path ShippedConfDir() {
  return std::filesystem::path(TIDEGATE_SOURCE_DIR) / "conf.d";
}

TEST(ShippedConfTest, LoadsWithoutErrors) {
  LoadResult result = LoadConfig(ShippedConfDir().string());
  ASSERT_TRUE(result.ok()) << testing::AllErrors(result);
  const Config& config = *result.config;
  EXPECT_GE(config.source_files.size(), 3u);
  // It runs in front of the bundled demo shop.
  ASSERT_EQ(config.server.listen.size(), 1u);
  EXPECT_EQ(config.server.listen[0].text, "127.0.0.1:8080");
  ASSERT_EQ(config.upstream.servers.size(), 1u);
  EXPECT_EQ(config.upstream.servers[0].text, "127.0.0.1:9000");
  EXPECT_EQ(config.admin.listen.text, "127.0.0.1:9901");
  EXPECT_FALSE(config.server.tls.has_value());
  EXPECT_FALSE(config.rooms.empty());
  EXPECT_FALSE(config.features.empty());
  // Features that land later stay inactive in the example.
  for (const RoomConfig& room : config.rooms) EXPECT_EQ(room.mode, RoomMode::kOff) << room.name;
  EXPECT_FALSE(config.banner.enabled);
}

}  // namespace
}  // namespace tidegate::config
