// The JSON document of GET /v1/state (admin/effective_state_json.h).
#include "admin/effective_state_json.h"

#include <gtest/gtest.h>

#include "common/rfc3339.h"
#include "tests/unit/admin/test_fixtures.h"

namespace tidegate::admin {
namespace {

common::TimePoint T(const char* text) { return common::ParseRfc3339(text).value(); }

TEST(EffectiveStateJsonTest, StateJsonTagsSourcesAndHidesUnavailableCounters) {
  auto config = testing::TestConfig();
  common::TimePoint now = T("2026-11-23T14:00:00Z");
  state::RuntimeState s;
  s.version = 4;
  s.rooms["shop"].new_users_per_minute = 20;
  s.maintenance["checkout"].message = "Payments provider outage";
  s.maintenance["gone"].message = "feature removed by a reload";
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
  EXPECT_EQ(j["rooms"]["shop"]["abuse"], nullptr) << "no fake zeros";
  metrics.rooms.push_back({.name = "shop",
                           .queued = 12,
                           .active = 480,
                           .abuse = {{"challenge_missing", 3}, {"ticket_rate_limited", 0}}});
  j = EffectiveStateJson(*config, s, metrics, health, now);
  EXPECT_EQ(j["rooms"]["shop"]["abuse"],
            nlohmann::json({{"challenge_missing", 3}, {"ticket_rate_limited", 0}}));
  EXPECT_EQ(j["rooms"]["shop"]["counters"]["queued"], 12);
  EXPECT_EQ(j["rooms"]["shop"]["counters"]["active"], 480);
}

}  // namespace
}  // namespace tidegate::admin

namespace tidegate::admin {
namespace {

TEST(EffectiveStateJsonTest, OriginServersShowAddressHealthAndResolveErrors) {
  auto config = testing::TestConfig();
  StoreHealth health;
  health.backend = "local";
  MetricsSnapshot metrics;
  UpstreamServerMetrics u;
  u.server = "shop.internal:8080";
  u.address = "10.0.0.5:8080";
  u.checked = true;
  u.healthy = false;
  u.checks_failed = 3;
  u.last_check = "status 500";
  u.resolve_failures = 1;
  u.resolve_error = "Temporary failure in name resolution";
  metrics.upstream_servers.push_back(u);
  nlohmann::json j = EffectiveStateJson(*config, state::RuntimeState{}, metrics, health,
                                        common::ParseRfc3339("2026-11-23T14:00:00Z").value());
  ASSERT_EQ(j["upstreams"].size(), 1u);
  const nlohmann::json& s = j["upstreams"][0];
  EXPECT_EQ(s["server"], "shop.internal:8080");
  EXPECT_EQ(s["address"], "10.0.0.5:8080");
  EXPECT_EQ(s["healthy"], false);
  EXPECT_EQ(s["health_checked"], true);
  EXPECT_EQ(s["checks_failed"], 3);
  EXPECT_EQ(s["last_check"], "status 500");
  EXPECT_EQ(s["resolve_error"], "Temporary failure in name resolution");
}

// Issue 13: each room's protect object: the switch and its source, the
// settings, and (once counters exist) effective limits, measures, last move
// and who decides.
TEST(EffectiveStateJsonTest, RoomProtectShowsSwitchLimitsMeasuresAndWhy) {
  config::Config config = *testing::TestConfig();
  config.rooms[0].protect.enabled = true;
  config.rooms[0].protect.target_latency = std::chrono::milliseconds(150);
  StoreHealth health;
  health.backend = "redis";
  MetricsSnapshot metrics;
  nlohmann::json before =
      EffectiveStateJson(config, state::RuntimeState{}, metrics, health, T("2026-11-23T14:00:00Z"));
  const nlohmann::json& p0 = before["rooms"]["shop"]["protect"];
  EXPECT_EQ(p0["enabled"], true);
  EXPECT_EQ(p0["source"], "config");
  EXPECT_EQ(p0["target_latency"], "150ms");
  EXPECT_TRUE(p0["effective"].is_null()) << "no invented numbers before counters exist";

  metrics.room_counters_available = true;
  RoomMetrics room;
  room.name = "shop";
  room.protect.enabled = true;
  room.protect.limiting = true;
  room.protect.ceiling_total_active_users = 500;
  room.protect.ceiling_new_users_per_minute = 200;
  room.protect.effective_total_active_users = 40;
  room.protect.effective_new_users_per_minute = 90;
  room.protect.p90_ms = 212;
  room.protect.error_rate = 0.01;
  room.protect.samples = 80;
  room.protect.move = "cut_latency";
  room.protect.direction = -1;
  room.protect.reason = "p90 212 ms > target 150 ms";
  room.protect.decided_ms = 1'795'442'400'000;  // 2026-11-23T14:00:00Z
  room.protect.shared = true;
  room.protect.leader = true;
  room.protect.leader_id = "web1:7:ff";
  metrics.rooms.push_back(room);
  state::RuntimeState s;
  s.rooms["shop"].protect = true;
  nlohmann::json j = EffectiveStateJson(config, s, metrics, health, T("2026-11-23T14:00:00Z"));
  const nlohmann::json& p = j["rooms"]["shop"]["protect"];
  EXPECT_EQ(p["source"], "runtime");
  EXPECT_EQ(p["limiting"], true);
  EXPECT_EQ(p["effective"]["total_active_users"], 40);
  EXPECT_EQ(p["ceilings"]["new_users_per_minute"], 200);
  EXPECT_EQ(p["measured"]["p90_ms"], 212);
  EXPECT_EQ(p["last_move"]["direction"], "down");
  EXPECT_EQ(p["last_move"]["reason"], "p90 212 ms > target 150 ms");
  EXPECT_EQ(p["last_move"]["decided_at"], "2026-11-23T14:00:00Z");
  EXPECT_EQ(p["shared"]["leader"], true);
  EXPECT_EQ(p["shared"]["leader_id"], "web1:7:ff");
}

}  // namespace
}  // namespace tidegate::admin
