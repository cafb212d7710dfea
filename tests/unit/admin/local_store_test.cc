// LocalStore: versions, conflicts, change notifications.
#include <gtest/gtest.h>

#include "admin/state_store.h"
#include "common/rfc3339.h"

namespace tidegate::admin {
namespace {

common::TimePoint T(const char* text) { return common::ParseRfc3339(text).value(); }

TEST(LocalStoreTest, AppliesVersionsConflictsAndNotifies) {
  common::FakeTimeSource time(T("2026-11-23T14:00:00Z"));
  LocalStore store(time);
  int notified = 0;
  std::shared_ptr<const state::RuntimeState> published;
  store.SetChangeCallback([&](std::shared_ptr<const state::RuntimeState> s) {
    ++notified;
    published = s;
  });
  auto before = store.Current();
  ApplyResult result;
  store.Apply(state::SetBanner{{.message = "Busy"}}, "ops", std::nullopt,
              [&](ApplyResult r) { result = r; });
  EXPECT_EQ(result.status, ApplyStatus::kApplied);
  EXPECT_EQ(result.before, before);
  EXPECT_EQ(result.after->version, 1u);
  EXPECT_EQ(notified, 1);
  EXPECT_EQ(published, store.Current());
  EXPECT_EQ(before->version, 0u);  // published snapshots are never mutated
  EXPECT_FALSE(before->banner);

  store.Apply(state::SetBanner{{.message = "Busy"}}, "ops", std::nullopt,
              [&](ApplyResult r) { result = r; });
  EXPECT_EQ(result.status, ApplyStatus::kUnchanged);
  EXPECT_EQ(notified, 1);

  store.Apply(state::ClearBanner{}, "ops", 0, [&](ApplyResult r) { result = r; });
  EXPECT_EQ(result.status, ApplyStatus::kConflict);
  EXPECT_TRUE(store.Current()->banner);
  store.Apply(state::ClearBanner{}, "ops", 1, [&](ApplyResult r) { result = r; });
  EXPECT_EQ(result.status, ApplyStatus::kApplied);
  EXPECT_EQ(notified, 2);
  EXPECT_EQ(store.Health().backend, "local");
  EXPECT_TRUE(store.Health().healthy);
}

}  // namespace
}  // namespace tidegate::admin
