#include "admin/metrics.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <regex>
#include <sstream>

namespace tidegate::admin {
namespace {

// One sample line of the text format 0.0.4.
const std::regex kSample(
    R"(^(tidegate_[a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})? (-?[0-9.e+\-]+|\+Inf|-Inf|NaN)$)");

MetricsSnapshot Sample() {
  MetricsSnapshot m;
  m.responses_by_class[2] = 10;
  m.responses_by_class[5] = 2;
  m.answered_by["origin"] = 9;
  m.answered_by["maintenance"] = 3;
  m.request_duration.upper_bounds = {0.01, 0.1, 1};
  m.request_duration.bucket_counts = {5, 3, 1, 1};
  m.request_duration.count = 10;
  m.request_duration.sum = 4.25;
  m.origin_errors_by_kind["connect_refused"] = 1;
  m.maintenance_hits_by_feature["check\"out\\x\ny"] = 3;
  m.banner_skips_by_reason["not_html"] = 7;
  m.banner_gzipped_total = 5;
  m.banner_hide_injections_total = 6;
  m.maintenance_shadowed_by_feature["gift_cards"] = 8;
  m.maintenance_bypassed_by_feature["checkout"] = 9;
  m.room_counters_available = true;
  m.rooms.push_back({.name = "shop",
                     .queued = 4,
                     .active = 100,
                     .admitted_total = 50,
                     .estimated_wait_seconds = 12.5,
                     .abuse = {{"ticket_reused", 0}, {"challenge_missing", 200}}});
  m.admin.requests_by_code["401"] = 2;
  return m;
}

TEST(MetricsTest, EveryLineIsWellFormed) {
  std::string text = RenderPrometheus(Sample());
  std::istringstream in(text);
  std::string line;
  std::map<std::string, std::string> types;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream parts(line.substr(7));
      std::string name, type;
      parts >> name >> type;
      EXPECT_TRUE(type == "counter" || type == "gauge" || type == "histogram") << line;
      EXPECT_EQ(types.count(name), 0u) << "duplicate TYPE " << name;
      types[name] = type;
      continue;
    }
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, kSample)) << "bad line: " << line;
    std::string name = m[1];
    // Every sample belongs to a declared family, declared before it.
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (family.size() > strlen(suffix) &&
          family.compare(family.size() - strlen(suffix), strlen(suffix), suffix) == 0 &&
          types.count(family.substr(0, family.size() - strlen(suffix)))) {
        family = family.substr(0, family.size() - strlen(suffix));
      }
    }
    ASSERT_TRUE(types.count(family)) << "no TYPE before " << line;
    if (types[family] == "counter") EXPECT_EQ(family.substr(family.size() - 6), "_total") << line;
    ++samples;
  }
  EXPECT_GT(samples, 30);
  EXPECT_EQ(text.back(), '\n');
}

TEST(MetricsTest, HistogramIsCumulativeWithInfEqualToCount) {
  std::string text = RenderPrometheus(Sample());
  EXPECT_NE(text.find("tidegate_request_duration_seconds_bucket{le=\"0.01\"} 5\n"),
            std::string::npos);
  EXPECT_NE(text.find("tidegate_request_duration_seconds_bucket{le=\"0.1\"} 8\n"),
            std::string::npos);
  EXPECT_NE(text.find("tidegate_request_duration_seconds_bucket{le=\"1\"} 9\n"), std::string::npos);
  EXPECT_NE(text.find("tidegate_request_duration_seconds_bucket{le=\"+Inf\"} 10\n"),
            std::string::npos);
  EXPECT_NE(text.find("tidegate_request_duration_seconds_sum 4.25\n"), std::string::npos);
  EXPECT_NE(text.find("tidegate_request_duration_seconds_count 10\n"), std::string::npos);
}

TEST(MetricsTest, LabelsAreEscaped) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  std::string text = RenderPrometheus(Sample());
  EXPECT_NE(text.find("tidegate_maintenance_hits_total{feature=\"check\\\"out\\\\x\\ny\"} 3\n"),
            std::string::npos);
}

TEST(MetricsTest, CoversTheIssueList) {
  std::string text = RenderPrometheus(Sample());
  for (const char* needle : {"tidegate_responses_total{class=\"2xx\"} 10",
                             "tidegate_responses_total{class=\"5xx\"} 2",
                             "tidegate_responses_by_answerer_total{answered_by=\"queue\"} 0",
                             "tidegate_responses_by_answerer_total{answered_by=\"maintenance\"} 3",
                             "tidegate_origin_duration_seconds_count",
                             "tidegate_origin_errors_total{kind=\"connect_refused\"} 1",
                             "tidegate_upstream_pool_idle_connections",
                             "tidegate_connections_active",
                             "tidegate_room_queued{room=\"shop\"} 4",
                             "tidegate_room_active{room=\"shop\"} 100",
                             "tidegate_room_admitted_total{room=\"shop\"} 50",
                             "tidegate_room_estimated_wait_seconds{room=\"shop\"} 12.5",
                             "tidegate_banner_injections_total",
                             "tidegate_banner_skips_total{reason=\"not_html\"} 7",
                             "tidegate_banner_gzipped_total 5",
                             "tidegate_banner_hide_injections_total 6",
                             "tidegate_maintenance_shadowed_total{feature=\"gift_cards\"} 8",
                             "tidegate_maintenance_bypassed_total{feature=\"checkout\"} 9",
                             "tidegate_state_store_errors_total",
                             "tidegate_state_store_latency_seconds_count",
                             "tidegate_config_reloads_total{result=\"ok\"}",
                             "tidegate_admin_requests_total{code=\"401\"} 2"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle;
  }
}

TEST(MetricsTest, RoomsAreNotFakedBeforeTheWaitingRoomExists) {
  MetricsSnapshot m = Sample();
  m.room_counters_available = false;
  std::string text = RenderPrometheus(m);
  EXPECT_NE(text.find("tidegate_room_counters_available 0\n"), std::string::npos);
  EXPECT_EQ(text.find("tidegate_room_queued"), std::string::npos);
}

// A shared store that lost the room's state: every room, both kinds, zeros
// included (an alert can watch for any increase).
TEST(MetricsTest, RoomStoreRestores) {
  MetricsSnapshot m = Sample();
  m.rooms[0].counter_restores = 2;
  std::string text = RenderPrometheus(m);
  EXPECT_NE(text.find("# TYPE tidegate_room_store_restores_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("tidegate_room_store_restores_total{room=\"shop\",what=\"counters\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tidegate_room_store_restores_total{room=\"shop\",what=\"marks\"} 0\n"),
            std::string::npos)
      << text;
}

// Issue 11: every refusal reason of every room, zeros included.
TEST(MetricsTest, RoomAbuseCountersByRoomAndReason) {
  std::string text = RenderPrometheus(Sample());
  EXPECT_NE(text.find("# TYPE tidegate_room_abuse_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tidegate_room_abuse_total{room=\"shop\",reason=\"ticket_reused\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("tidegate_room_abuse_total{room=\"shop\",reason=\"challenge_missing\"} 200\n"),
      std::string::npos)
      << text;
}

}  // namespace
}  // namespace tidegate::admin

namespace tidegate::admin {
namespace {

TEST(MetricsTest, OriginServersHealthAndResolution) {
  MetricsSnapshot m;
  UpstreamServerMetrics a;
  a.server = "shop-1.internal:8080";
  a.checked = true;
  a.healthy = false;
  a.checks_passed = 4;
  a.checks_failed = 3;
  a.resolve_failures = 2;
  UpstreamServerMetrics b;
  b.server = "10.0.0.2:8080";
  m.upstream_servers = {a, b};
  std::string text = RenderPrometheus(m);
  EXPECT_NE(text.find("\ntidegate_upstream_server_healthy{server=\"shop-1.internal:8080\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\ntidegate_upstream_server_healthy{server=\"10.0.0.2:8080\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("\ntidegate_upstream_health_checks_total{server=\"shop-1.internal:8080\","
                      "result=\"fail\"} 3\n"),
            std::string::npos);
  // No checks configured for b: no check counters invented.
  EXPECT_EQ(text.find("tidegate_upstream_health_checks_total{server=\"10.0.0.2:8080\""),
            std::string::npos);
  EXPECT_NE(
      text.find("\ntidegate_upstream_resolve_failures_total{server=\"shop-1.internal:8080\"} 2\n"),
      std::string::npos);
}

// Issue 13: auto-protection's gauges, for rooms with protection on only.
TEST(MetricsTest, ProtectedRoomsShowEffectiveLimitsMeasuresAndDirection) {
  MetricsSnapshot m = Sample();
  RoomProtectMetrics& p = m.rooms[0].protect;
  p.enabled = true;
  p.limiting = true;
  p.effective_total_active_users = 14;
  p.effective_new_users_per_minute = 240;
  p.p90_ms = 212;
  p.error_rate = 0.25;
  p.direction = -1;
  p.moved_ms = 1'800'000'000'500;
  p.shared = true;
  p.leader = false;
  RoomMetrics other = m.rooms[0];
  other.name = "outlet";
  other.protect = RoomProtectMetrics{};
  m.rooms.push_back(other);
  std::string text = RenderPrometheus(m);
  for (const char* needle :
       {"tidegate_room_protect_limiting{room=\"shop\"} 1\n",
        "tidegate_room_effective_total_active_users{room=\"shop\"} 14\n",
        "tidegate_room_effective_new_users_per_minute{room=\"shop\"} 240\n",
        "tidegate_room_protect_origin_p90_seconds{room=\"shop\"} 0.212\n",
        "tidegate_room_protect_origin_error_ratio{room=\"shop\"} 0.25\n",
        "tidegate_room_protect_direction{room=\"shop\"} -1\n",
        "tidegate_room_protect_last_change_timestamp_seconds{room=\"shop\"} 1800000000\n",
        "tidegate_room_protect_leader{room=\"shop\"} 0\n"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle << "\n" << text;
  }
  EXPECT_EQ(text.find("tidegate_room_effective_total_active_users{room=\"outlet\"}"),
            std::string::npos)
      << "no gauges for a room without protection";
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_TRUE(std::regex_match(line, kSample)) << line;
  }
}

}  // namespace
}  // namespace tidegate::admin
