// LocalStore with a persister (the local state file): a change is saved
// before it is committed and acknowledged, a failed save refuses it, and a
// restored state continues its version.
#include <gtest/gtest.h>

#include "admin/state_store.h"
#include "common/rfc3339.h"

namespace tidegate::admin {
namespace {

common::TimePoint T(const char* text) { return common::ParseRfc3339(text).value(); }

TEST(LocalStorePersistTest, SavesBeforeAcknowledgingAndRefusesWhatCannotBeSaved) {
  common::FakeTimeSource time(T("2026-11-23T14:00:00Z"));
  LocalStore store(time);
  std::vector<uint64_t> saved;
  bool disk_ok = true;
  store.SetPersister([&](const state::RuntimeState& s, std::string* error) {
    if (!disk_ok) {
      *error = "cannot fsync /var/lib/tidegate/runtime_state.json.tmp-1: No space left on device";
      return false;
    }
    saved.push_back(s.version);
    return true;
  });
  int notified = 0;
  store.SetChangeCallback([&](std::shared_ptr<const state::RuntimeState>) { ++notified; });
  ApplyResult result;
  store.Apply(state::SetBanner{{.message = "Busy"}}, "ops", std::nullopt, [&](ApplyResult r) {
    EXPECT_EQ(saved, std::vector<uint64_t>{1}) << "saved before the answer";
    result = r;
  });
  EXPECT_EQ(result.status, ApplyStatus::kApplied);
  EXPECT_EQ(notified, 1);

  disk_ok = false;
  store.Apply(state::ClearBanner{}, "ops", std::nullopt, [&](ApplyResult r) { result = r; });
  EXPECT_EQ(result.status, ApplyStatus::kUnavailable);
  EXPECT_NE(result.error.find("could not be saved: cannot fsync"), std::string::npos)
      << result.error;
  EXPECT_TRUE(store.Current()->banner) << "the state in force is unchanged";
  EXPECT_EQ(store.Current()->version, 1u);
  EXPECT_EQ(notified, 1);
  EXPECT_FALSE(store.Health().healthy);
  EXPECT_EQ(store.Health().errors_total, 1u);

  disk_ok = true;
  store.Apply(state::ClearBanner{}, "ops", std::nullopt, [&](ApplyResult r) { result = r; });
  EXPECT_EQ(result.status, ApplyStatus::kApplied);
  EXPECT_TRUE(store.Health().healthy);
  EXPECT_EQ(saved, (std::vector<uint64_t>{1, 2}));
}

TEST(LocalStorePersistTest, RestoredStateContinuesItsVersion) {
  common::FakeTimeSource time(T("2026-11-23T14:00:00Z"));
  LocalStore store(time);
  state::RuntimeState saved;
  saved.version = 41;
  saved.maintenance["checkout"].message = "Paused";
  store.Restore(std::make_shared<const state::RuntimeState>(saved));
  EXPECT_EQ(store.Current()->maintenance.count("checkout"), 1u);
  ApplyResult result;
  store.Apply(state::ClearMaintenance{"checkout"}, "ops", 41, [&](ApplyResult r) { result = r; });
  EXPECT_EQ(result.status, ApplyStatus::kApplied);
  EXPECT_EQ(store.Current()->version, 42u);
}

}  // namespace
}  // namespace tidegate::admin
