// [state].path and [state].on_corrupt (the local state file, docs/state.md).
#include <gtest/gtest.h>

#include "config/loader.h"
#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::LoadWithMinimal;
using testing::TestData;

TEST(StateKeysTest, DefaultsAreBesideTheConfigurationAndContinue) {
  LoadResult result = LoadWithMinimal("");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_EQ(result.config->state.path, "") << "resolved at start: \"state\" beside the config";
  EXPECT_EQ(result.config->state.on_corrupt, CorruptStateMode::kContinue);
}

TEST(StateKeysTest, RelativePathIsResolvedAgainstTheFileNamingIt) {
  LoadResult result = LoadWithMinimal("[state]\npath = \"var/state\"\non_corrupt = \"refuse\"\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_EQ(result.config->state.path, (TestData() / "var/state").string());
  EXPECT_EQ(result.config->state.on_corrupt, CorruptStateMode::kRefuse);
  result = LoadWithMinimal("[state]\npath = \"/var/lib/tidegate\"\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_EQ(result.config->state.path, "/var/lib/tidegate");
}

TEST(StateKeysTest, BadValuesNameTheKey) {
  EXPECT_TRUE(
      HasError(LoadWithMinimal("[state]\npath = \"\"\n"), "state.path", "expected a folder"));
  EXPECT_TRUE(HasError(LoadWithMinimal("[state]\non_corrupt = \"ignore\"\n"), "state.on_corrupt",
                       "is not one of \"continue\", \"refuse\""));
  EXPECT_TRUE(HasError(LoadWithMinimal("[state]\non_corupt = \"refuse\"\n"), "state.on_corupt",
                       "did you mean \"on_corrupt\""));
}

}  // namespace
}  // namespace tidegate::config
