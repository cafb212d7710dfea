// The Redis store's local copy of the shared state (admin/state_copy.h):
// the text survives a round trip with its version and store identity, a
// malformed copy is an error naming the field and is set aside, a copy of
// another store is not used.
#include "admin/state_copy.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/rfc3339.h"

namespace tidegate::admin {
namespace {

state::RuntimeState SomeState() {
  state::RuntimeState s;
  s.version = 7;
  state::BannerOverride b;
  b.message = "High demand";
  b.severity = "warning";
  s.banner = b;
  state::MaintenanceOverride m;
  m.message = "Search is resting";
  s.maintenance["search"] = m;
  return s;
}

class StateCopyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/state_copy_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST(StateCopyText, RoundTripKeepsTheStateItsVersionAndTheStore) {
  common::TimePoint now = *common::ParseRfc3339("2026-12-06T09:00:00Z");
  std::string text = StateCopyText(SomeState(), "redis 10.0.0.9:6379 tidegate:{admin}", now);
  std::string error;
  std::optional<StateCopy> copy = ParseStateCopy(text, &error);
  ASSERT_TRUE(copy) << error;
  EXPECT_EQ(copy->store, "redis 10.0.0.9:6379 tidegate:{admin}");
  EXPECT_EQ(copy->saved_at_time, now);
  EXPECT_EQ(copy->state->version, 7u);
  ASSERT_TRUE(copy->state->banner);
  EXPECT_EQ(copy->state->banner->message, "High demand");
  EXPECT_EQ(copy->state->maintenance.at("search").message, "Search is resting");
}

TEST(StateCopyText, MalformedCopiesAreErrorsNamingTheField) {
  std::string error;
  EXPECT_FALSE(ParseStateCopy("", &error));
  EXPECT_NE(error.find("empty"), std::string::npos) << error;
  EXPECT_FALSE(ParseStateCopy(R"({"format": "tidegate.runtime_state", "version": 1})", &error));
  EXPECT_NE(error.find("format"), std::string::npos) << error;
  EXPECT_FALSE(ParseStateCopy(
      R"({"format": "tidegate.shared_state_copy", "version": 1, "saved_at": "2026-12-06T09:00:00Z",
          "state": {}})",
      &error));
  EXPECT_NE(error.find("store"), std::string::npos) << error;
  EXPECT_FALSE(ParseStateCopy(
      R"({"format": "tidegate.shared_state_copy", "version": 1, "store": "x",
          "saved_at": "2026-12-06T09:00:00Z", "state": {"version": "seven"}})",
      &error));
  EXPECT_NE(error.find("state.version"), std::string::npos) << error;
}

TEST_F(StateCopyFileTest, SavedCopyLoadsBackForTheSameStoreOnly) {
  std::string path = dir_ + "/shared_state.json";
  StateCopyFile file(path, "redis 127.0.0.1:6379 tidegate:{admin}");
  std::string warning;
  EXPECT_FALSE(file.Load(&warning));  // none yet: a first start, nothing to say
  EXPECT_TRUE(warning.empty()) << warning;
  std::string error;
  ASSERT_TRUE(file.Save(SomeState(), common::SystemTime().WallNow(), &error)) << error;
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::optional<StateCopy> copy = file.Load(&warning);
  ASSERT_TRUE(copy) << warning;
  EXPECT_EQ(copy->state->version, 7u);

  // The configuration now names another Redis (or prefix): the copy is of
  // another store, never used, left in place.
  StateCopyFile other(path, "redis 127.0.0.1:6380 tidegate:{admin}");
  EXPECT_FALSE(other.Load(&warning));
  EXPECT_NE(warning.find("another store"), std::string::npos) << warning;
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST_F(StateCopyFileTest, ACorruptCopyIsSetAsideWithAWarning) {
  std::string path = dir_ + "/shared_state.json";
  std::ofstream(path) << "{\"format\": \"tidegate.shared";  // cut short
  StateCopyFile file(path, "redis 127.0.0.1:6379 tidegate:{admin}");
  std::string warning;
  EXPECT_FALSE(file.Load(&warning));
  EXPECT_NE(warning.find("set aside as"), std::string::npos) << warning;
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(StateCopyFileTest, NoPathMeansNoCopy) {
  StateCopyFile file("", "redis 127.0.0.1:6379 tidegate:{admin}");
  EXPECT_FALSE(file.enabled());
  std::string warning, error;
  EXPECT_FALSE(file.Load(&warning));
  EXPECT_TRUE(file.Save(SomeState(), common::SystemTime().WallNow(), &error));
}

}  // namespace
}  // namespace tidegate::admin
