// [banner] keys added by the banner issue: match, content_types, window,
// compressed, recode_level.
#include <gtest/gtest.h>

#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::LoadWithMinimal;

TEST(BannerSectionTest, Defaults) {
  LoadResult result = LoadWithMinimal("");
  ASSERT_TRUE(result.config) << AllErrors(result);
  const BannerConfig& b = result.config->banner;
  EXPECT_TRUE(b.match.empty());
  EXPECT_EQ(b.content_types, std::vector<std::string>{"text/html"});
  EXPECT_EQ(b.window_bytes, 64u * 1024);
  EXPECT_EQ(b.compressed, BannerCompressed::kCompress);
  EXPECT_EQ(b.recode_level, 1);
}

TEST(BannerSectionTest, CompressedModes) {
  for (auto [text, mode] : {std::pair{"compress", BannerCompressed::kCompress},
                            std::pair{"recode", BannerCompressed::kRecode},
                            std::pair{"identity", BannerCompressed::kIdentity}}) {
    LoadResult result = LoadWithMinimal(std::string("[banner]\ncompressed = \"") + text + "\"\n");
    ASSERT_TRUE(result.config) << text << ": " << AllErrors(result);
    EXPECT_EQ(result.config->banner.compressed, mode) << text;
  }
}

TEST(BannerSectionTest, EveryKeyIsRead) {
  LoadResult result = LoadWithMinimal(R"(
[banner]
enabled = true
message = "High demand"
severity = "critical"
match = ["^/products", "^/$"]
content_types = ["text/html", "Application/XHTML+XML"]
window = "128KB"
compressed = "identity"
recode_level = 6
)");
  ASSERT_TRUE(result.config) << AllErrors(result);
  const BannerConfig& b = result.config->banner;
  EXPECT_EQ(b.match, (std::vector<std::string>{"^/products", "^/$"}));
  EXPECT_EQ(b.content_types, (std::vector<std::string>{"text/html", "application/xhtml+xml"}));
  EXPECT_EQ(b.window_bytes, 128u * 1024);
  EXPECT_EQ(b.compressed, BannerCompressed::kIdentity);
  EXPECT_EQ(b.recode_level, 6);
}

TEST(BannerSectionTest, BadValuesAreReported) {
  LoadResult result = LoadWithMinimal(R"(
[banner]
match = ["^/products("]
content_types = ["html"]
window = "10B"
compressed = "gzip"
recode_level = 10
)");
  EXPECT_FALSE(result.config);
  EXPECT_TRUE(HasError(result, "banner.match[0]", "missing )")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "banner.content_types[0]", "is not a media type"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "banner.window", "out of range")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "banner.compressed", "is not one of")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "banner.recode_level", "")) << AllErrors(result);
}

TEST(BannerSectionTest, EmptyContentTypesIsAnError) {
  EXPECT_TRUE(HasError(LoadWithMinimal("[banner]\ncontent_types = []\n"), "banner.content_types",
                       "at least one"));
}

}  // namespace
}  // namespace tidegate::config
