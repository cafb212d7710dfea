// ApplyChange and the effective view (precedence, phases).
#include <gtest/gtest.h>

#include <memory>

#include "common/rfc3339.h"
#include "config/config.h"
#include "state/effective_view.h"
#include "state/runtime_state.h"
#include "tests/unit/state/test_config.h"

namespace tidegate::state {
namespace {

common::TimePoint T(const char* text) { return common::ParseRfc3339(text).value(); }

std::shared_ptr<const config::Config> TestConfig() {
  return std::make_shared<const config::Config>(testing::TestStateConfig());
}

TEST(ApplyChangeTest, SetClearAndNoOps) {
  RuntimeState s;
  bool changed = false;
  MaintenanceOverride m{.message = "Checkout is down", .until = T("2030-01-01T00:00:00Z")};
  RuntimeState s1 =
      ApplyChange(s, SetMaintenance{"checkout", m}, "ops", T("2026-01-01T00:00:00Z"), &changed);
  EXPECT_TRUE(changed);
  EXPECT_EQ(s1.version, 1u);
  EXPECT_EQ(s1.maintenance.at("checkout").set_by, "ops");
  EXPECT_EQ(s1.maintenance.at("checkout").set_at, T("2026-01-01T00:00:00Z"));

  RuntimeState s2 =
      ApplyChange(s1, SetMaintenance{"checkout", m}, "other", T("2026-01-02T00:00:00Z"), &changed);
  EXPECT_FALSE(changed);  // same values: no new version, set_by kept
  EXPECT_EQ(s2.version, 1u);
  EXPECT_EQ(s2.maintenance.at("checkout").set_by, "ops");

  RuntimeState s3 = ApplyChange(s2, ClearMaintenance{"checkout"}, "ops", {}, &changed);
  EXPECT_TRUE(changed);
  EXPECT_TRUE(s3.maintenance.empty());
  EXPECT_EQ(s3.version, 2u);
  ApplyChange(s3, ClearMaintenance{"checkout"}, "ops", {}, &changed);
  EXPECT_FALSE(changed);
  ApplyChange(s3, ClearBanner{}, "ops", {}, &changed);
  EXPECT_FALSE(changed);
  ApplyChange(s3, ResetRoom{"shop"}, "ops", {}, &changed);
  EXPECT_FALSE(changed);
}

TEST(ApplyChangeTest, RoomPatchSetsAndClearsFields) {
  RuntimeState s;
  bool changed = false;
  RoomPatch p;
  p.mode = {FieldPatch<config::RoomMode>::Op::kSet, config::RoomMode::kQueueAll};
  p.new_users_per_minute = {FieldPatch<uint32_t>::Op::kSet, 50};
  s = ApplyChange(s, PatchRoom{"shop", p}, "ops", {}, &changed);
  ASSERT_TRUE(changed);
  EXPECT_EQ(*s.rooms.at("shop").mode, config::RoomMode::kQueueAll);
  EXPECT_EQ(*s.rooms.at("shop").new_users_per_minute, 50u);
  EXPECT_FALSE(s.rooms.at("shop").total_active_users);

  RoomPatch clear_mode;
  clear_mode.mode.op = FieldPatch<config::RoomMode>::Op::kClear;
  s = ApplyChange(s, PatchRoom{"shop", clear_mode}, "ops", {}, &changed);
  EXPECT_TRUE(changed);
  EXPECT_FALSE(s.rooms.at("shop").mode);

  RoomPatch clear_rate;
  clear_rate.new_users_per_minute.op = FieldPatch<uint32_t>::Op::kClear;
  s = ApplyChange(s, PatchRoom{"shop", clear_rate}, "ops", {}, &changed);
  EXPECT_TRUE(changed);
  EXPECT_EQ(s.rooms.count("shop"), 0u);  // no empty override left behind
  EXPECT_EQ(s.version, 3u);
}

TEST(EffectiveViewTest, RuntimeOverridesConfigUntilCleared) {
  auto config = TestConfig();
  RuntimeState s;
  EffectiveRoom e = EffectiveRoomSettings(config->rooms[0], s);
  EXPECT_EQ(e.mode.value, config::RoomMode::kAuto);
  EXPECT_EQ(e.mode.source, ValueSource::kConfig);
  EXPECT_EQ(e.total_active_users.value, 500u);

  s.rooms["shop"].mode = config::RoomMode::kQueueAll;
  s.rooms["shop"].session_duration = std::chrono::minutes(2);
  e = EffectiveRoomSettings(config->rooms[0], s);
  EXPECT_EQ(e.mode.value, config::RoomMode::kQueueAll);
  EXPECT_EQ(e.mode.source, ValueSource::kRuntime);
  EXPECT_EQ(e.session_duration.value, std::chrono::minutes(2));
  EXPECT_EQ(e.session_duration.source, ValueSource::kRuntime);
  EXPECT_EQ(e.total_active_users.source, ValueSource::kConfig);

  // A reload (new config values) does not remove the override: it still wins.
  config::RoomConfig reloaded = config->rooms[0];
  reloaded.mode = config::RoomMode::kOff;
  reloaded.total_active_users = 900;
  e = EffectiveRoomSettings(reloaded, s);
  EXPECT_EQ(e.mode.value, config::RoomMode::kQueueAll);
  EXPECT_EQ(e.total_active_users.value, 900u);
}

// Auto-protection switched at run time: the override wins over
// [rooms.NAME.protect] enabled, and clearing it is the only change.
TEST(EffectiveViewTest, ProtectSwitchOverridesTheConfiguredValue) {
  auto config = TestConfig();
  config::RoomConfig room = config->rooms[0];
  room.protect.enabled = true;
  RuntimeState s;
  EXPECT_TRUE(EffectiveRoomSettings(room, s).protect.value);
  EXPECT_EQ(EffectiveRoomSettings(room, s).protect.source, ValueSource::kConfig);

  RoomPatch off;
  off.protect.op = FieldPatch<bool>::Op::kSet;
  off.protect.value = false;
  bool changed = false;
  s = ApplyChange(s, PatchRoom{"shop", off}, "ops", {}, &changed);
  EXPECT_TRUE(changed);
  EffectiveRoom e = EffectiveRoomSettings(room, s);
  EXPECT_FALSE(e.protect.value);
  EXPECT_EQ(e.protect.source, ValueSource::kRuntime);
  s = ApplyChange(s, PatchRoom{"shop", off}, "ops", {}, &changed);
  EXPECT_FALSE(changed) << "the same value again is a no-op";

  RoomPatch clear;
  clear.protect.op = FieldPatch<bool>::Op::kClear;
  s = ApplyChange(s, PatchRoom{"shop", clear}, "ops", {}, &changed);
  EXPECT_TRUE(changed);
  EXPECT_EQ(s.rooms.count("shop"), 0u) << "no empty override left behind";
  EXPECT_TRUE(EffectiveRoomSettings(room, s).protect.value);
}

TEST(EffectiveViewTest, BannerAndMaintenancePhases) {
  auto config = TestConfig();
  common::TimePoint now = T("2026-11-23T14:00:00Z");
  RuntimeState s;
  EffectiveBanner b = EffectiveBannerSettings(config->banner, s, now);
  EXPECT_TRUE(b.enabled);
  EXPECT_EQ(b.message, "Free shipping this week");
  EXPECT_EQ(b.source, ValueSource::kConfig);

  s.banner = BannerOverride{
      .message = "High demand", .severity = "warning", .expires_at = T("2026-11-23T15:00:00Z")};
  b = EffectiveBannerSettings(config->banner, s, now);
  EXPECT_EQ(b.message, "High demand");
  EXPECT_EQ(b.severity, "warning");
  EXPECT_EQ(b.source, ValueSource::kRuntime);
  b = EffectiveBannerSettings(config->banner, s, T("2026-11-23T15:00:00Z"));  // expired
  EXPECT_EQ(b.message, "Free shipping this week");
  EXPECT_EQ(b.source, ValueSource::kConfig);

  s.maintenance["checkout"] = MaintenanceOverride{.message = "down",
                                                  .starts_at = T("2026-11-23T14:10:00Z"),
                                                  .until = T("2026-11-23T14:30:00Z")};
  EXPECT_EQ(ActiveMaintenance(s, "checkout", now), nullptr);  // scheduled
  EXPECT_NE(ActiveMaintenance(s, "checkout", T("2026-11-23T14:10:00Z")), nullptr);
  EXPECT_EQ(ActiveMaintenance(s, "checkout", T("2026-11-23T14:30:00Z")), nullptr);  // expired
  EXPECT_EQ(ActiveMaintenance(s, "search", T("2026-11-23T14:10:00Z")), nullptr);
}

}  // namespace
}  // namespace tidegate::state
