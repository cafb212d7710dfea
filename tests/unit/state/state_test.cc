// RFC 3339 times, ApplyChange, LocalStore and the effective view (precedence).
#include <gtest/gtest.h>

#include "admin/effective_view.h"
#include "admin/runtime_state.h"
#include "admin/state_store.h"
#include "admin/time_util.h"
#include "tests/unit/admin/test_fixtures.h"

namespace tidegate::admin {
namespace {

TimePoint T(const char* text) { return ParseRfc3339(text).value(); }

TEST(TimeUtilTest, ParsesAndFormats) {
  EXPECT_EQ(FormatRfc3339(T("2026-11-23T14:30:00Z")), "2026-11-23T14:30:00Z");
  EXPECT_EQ(FormatRfc3339(T("2026-11-23T15:30:00+01:00")), "2026-11-23T14:30:00Z");
  EXPECT_EQ(FormatRfc3339(T("2026-11-23t09:00:00-05:30")), "2026-11-23T14:30:00Z");
  EXPECT_EQ(FormatRfc3339Millis(T("2026-11-23T14:30:00.25Z")), "2026-11-23T14:30:00.250Z");
  EXPECT_EQ(FormatRfc3339(T("2024-02-29T00:00:00Z")), "2024-02-29T00:00:00Z");
  for (const char* bad :
       {"", "2026-11-23", "2026-11-23T14:30:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-11-23T24:00:00Z", "2026-11-23T14:30:60Z", "2026-11-23T14:30:00.Z",
        "2026-11-23T14:30:00+0100", "2026-11-23 14:30:00Z", "2026-11-23T14:30:00Zjunk", "tomorrow",
        "1700000000", "9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad)) << bad;
  }
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

TEST(LocalStoreTest, AppliesVersionsConflictsAndNotifies) {
  TimePoint now = T("2026-11-23T14:00:00Z");
  LocalStore store([&] { return now; });
  int notified = 0;
  std::shared_ptr<const RuntimeState> published;
  store.SetChangeCallback([&](std::shared_ptr<const RuntimeState> s) {
    ++notified;
    published = s;
  });
  auto before = store.Current();
  ApplyResult result;
  store.Apply(SetBanner{{.message = "Busy"}}, "ops", std::nullopt,
              [&](ApplyResult r) { result = r; });
  EXPECT_EQ(result.status, ApplyStatus::kApplied);
  EXPECT_EQ(result.before, before);
  EXPECT_EQ(result.after->version, 1u);
  EXPECT_EQ(notified, 1);
  EXPECT_EQ(published, store.Current());
  EXPECT_EQ(before->version, 0u);  // published snapshots are never mutated
  EXPECT_FALSE(before->banner);

  store.Apply(SetBanner{{.message = "Busy"}}, "ops", std::nullopt,
              [&](ApplyResult r) { result = r; });
  EXPECT_EQ(result.status, ApplyStatus::kUnchanged);
  EXPECT_EQ(notified, 1);

  store.Apply(ClearBanner{}, "ops", 0, [&](ApplyResult r) { result = r; });
  EXPECT_EQ(result.status, ApplyStatus::kConflict);
  EXPECT_TRUE(store.Current()->banner);
  store.Apply(ClearBanner{}, "ops", 1, [&](ApplyResult r) { result = r; });
  EXPECT_EQ(result.status, ApplyStatus::kApplied);
  EXPECT_EQ(notified, 2);
  EXPECT_EQ(store.Health().backend, "local");
  EXPECT_TRUE(store.Health().healthy);
}

TEST(EffectiveViewTest, RuntimeOverridesConfigUntilCleared) {
  auto config = testing::TestConfig();
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

TEST(EffectiveViewTest, BannerAndMaintenancePhases) {
  auto config = testing::TestConfig();
  TimePoint now = T("2026-11-23T14:00:00Z");
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

TEST(EffectiveViewTest, StateJsonTagsSourcesAndHidesUnavailableCounters) {
  auto config = testing::TestConfig();
  TimePoint now = T("2026-11-23T14:00:00Z");
  RuntimeState s;
  s.version = 4;
  s.rooms["shop"].new_users_per_minute = 20;
  s.maintenance["checkout"] = {.message = "Payments provider outage"};
  s.maintenance["gone"] = {.message = "feature removed by a reload"};
  StoreHealth health;
  health.backend = "local";
  MetricsSnapshot metrics;
  nlohmann::json j = EffectiveStateJson(*config, s, metrics, health, now);
  EXPECT_EQ(j["version"], 4);
  EXPECT_EQ(j["counters_available"], false);
  EXPECT_TRUE(j["rooms"]["shop"]["counters"].is_null());
  EXPECT_EQ(j["rooms"]["shop"]["new_users_per_minute"]["value"], 20);
  EXPECT_EQ(j["rooms"]["shop"]["new_users_per_minute"]["source"], "runtime");
  EXPECT_EQ(j["rooms"]["shop"]["total_active_users"]["source"], "config");
  EXPECT_EQ(j["rooms"]["shop"]["session_duration"]["value"], "5m");
  EXPECT_EQ(j["features"]["checkout"]["under_maintenance"], true);
  EXPECT_EQ(j["features"]["checkout"]["source"], "runtime");
  EXPECT_EQ(j["features"]["checkout"]["maintenance"]["phase"], "active");
  EXPECT_EQ(j["features"]["search"]["under_maintenance"], false);
  EXPECT_EQ(j["features"]["search"]["source"], "config");
  EXPECT_EQ(j["banner"]["source"], "config");
  EXPECT_EQ(j["store"]["backend"], "local");
  EXPECT_EQ(j["orphaned_overrides"]["features"], nlohmann::json::array({"gone"}));

  metrics.room_counters_available = true;
  metrics.rooms.push_back({.name = "shop", .queued = 12, .active = 480});
  j = EffectiveStateJson(*config, s, metrics, health, now);
  EXPECT_EQ(j["rooms"]["shop"]["counters"]["queued"], 12);
  EXPECT_EQ(j["rooms"]["shop"]["counters"]["active"], 480);
}

}  // namespace
}  // namespace tidegate::admin
