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

}  // namespace
}  // namespace tidegate::admin
