// ctl/render.h: what `tidegate ctl audit` prints for the two audit sources,
// and what `tidegate ctl state` shows of auto-protection.
#include "ctl/render.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace tidegate::ctl {
namespace {

using Json = nlohmann::json;

TEST(RenderAuditTest, SharedTrailShowsWhatChangedOnWhat) {
  Json audit = {{"source", "shared"},
                {"records",
                 {{{"time", "2026-12-02T14:30:00.000Z"},
                   {"token", "ops"},
                   {"change", "set_maintenance"},
                   {"target", "checkout"},
                   {"after", {{"message", "upgrading"}}}}}}};
  std::ostringstream out;
  RenderAudit(audit, out);
  EXPECT_NE(out.str().find("CHANGE"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("set_maintenance"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("checkout"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("ROUTE"), std::string::npos) << out.str();
}

TEST(RenderAuditTest, LocalFallbackSaysWhy) {
  Json audit = {{"source", "local"},
                {"warning", "shared audit unavailable: connection refused"},
                {"records",
                 {{{"time", "2026-12-02T14:30:00.000Z"},
                   {"token", "ops"},
                   {"client", "127.0.0.1:5000"},
                   {"method", "PUT"},
                   {"route", "/v1/banner"},
                   {"after", nullptr}}}}};
  std::ostringstream out;
  RenderAudit(audit, out);
  EXPECT_EQ(out.str().rfind("warning: shared audit unavailable", 0), 0u) << out.str();
  EXPECT_NE(out.str().find("/v1/banner"), std::string::npos) << out.str();
}

TEST(RenderStateTest, ProtectedRoomsShowEffectiveLimitsWhoDecidesAndWhy) {
  Json state = Json::parse(R"({
    "version": 4, "store": {"backend": "redis", "healthy": true},
    "counters_available": true,
    "rooms": {
      "shop": {"mode": {"value": "auto", "source": "config"},
               "counters": {"queued": 12, "active": 9},
               "protect": {"enabled": true, "limiting": true,
                           "ceilings": {"total_active_users": 150, "new_users_per_minute": 3600},
                           "effective": {"total_active_users": 14, "new_users_per_minute": 240},
                           "measured": {"p90_ms": 212, "error_rate": 0.004, "samples": 90},
                           "last_move": {"move": "cut_latency", "direction": "down",
                                         "reason": "p90 212 ms > target 150 ms"},
                           "shared": {"leader": false, "leader_id": "web2:41:ab", "error": null}}},
      "outlet": {"mode": {"value": "auto", "source": "config"},
                 "protect": {"enabled": false}}
    }})");
  std::ostringstream out;
  RenderState(state, out);
  std::string text = out.str();
  EXPECT_NE(text.find("AUTO-PROTECTION"), std::string::npos) << text;
  EXPECT_NE(text.find("14/150"), std::string::npos) << text;
  EXPECT_NE(text.find("240/3600"), std::string::npos) << text;
  EXPECT_NE(text.find("212 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("0.4 %"), std::string::npos) << text;
  EXPECT_NE(text.find("cut_latency (down)"), std::string::npos) << text;
  EXPECT_NE(text.find("web2:41:ab"), std::string::npos) << text;
  EXPECT_NE(text.find("p90 212 ms > target 150 ms"), std::string::npos) << text;
  size_t table = text.find("AUTO-PROTECTION");
  EXPECT_EQ(text.find("outlet", table), std::string::npos) << "rooms without protection: no row";
}

TEST(RenderStateTest, NoProtectionNoTable) {
  Json state = Json::parse(R"({"rooms": {"shop": {"protect": {"enabled": false}}}})");
  std::ostringstream out;
  RenderState(state, out);
  EXPECT_EQ(out.str().find("AUTO-PROTECTION"), std::string::npos) << out.str();
}

// Audit 20 F5: during a room's event (its pre-queue here) the event's mode
// and limits are the room's; `ctl state` shows the events not ended.
TEST(RenderStateTest, EventsNotEndedAreShownWithTheirPhase) {
  Json state = Json::parse(R"({"rooms": {"shop": {"mode": {"value": "off", "source": "config"},
    "events": [
      {"name": "spring", "phase": "ended", "prequeue_start": "2026-03-01T09:00:00Z",
       "start": "2026-03-01T10:00:00Z", "end": "2026-03-01T12:00:00Z", "mode": "queue_all",
       "total_active_users": 100, "new_users_per_minute": null},
      {"name": "drop", "phase": "prequeue", "prequeue_start": "2026-12-07T16:00:00Z",
       "start": "2026-12-07T17:00:00Z", "end": "2026-12-07T19:00:00Z", "mode": "queue_all",
       "total_active_users": 500, "new_users_per_minute": 60}]}}})");
  std::ostringstream out;
  RenderState(state, out);
  std::string text = out.str();
  EXPECT_NE(text.find("EVENTS"), std::string::npos) << text;
  EXPECT_NE(text.find("drop"), std::string::npos) << text;
  EXPECT_NE(text.find("PREQUEUE"), std::string::npos) << text;
  EXPECT_NE(text.find("2026-12-07T17:00:00Z"), std::string::npos) << text;
  EXPECT_EQ(text.find("spring"), std::string::npos) << "an ended event is not in force: " << text;

  std::ostringstream none;
  RenderState(Json::parse(R"({"rooms": {"shop": {"events": []}}})"), none);
  EXPECT_EQ(none.str().find("EVENTS"), std::string::npos) << none.str();
}

// docs/incidents.md: `tidegate ctl state` shows everything in force,
// incident tags included (what a resolve removes or hands over).
TEST(RenderStateTest, IncidentTagsAreShown) {
  Json state = Json::parse(R"({
    "version": 7, "store": {"backend": "local", "healthy": true},
    "rooms": {
      "sale": {"mode": {"value": "queue_all", "source": "runtime"},
               "override": {"set_by": "ops", "mode_incident_id": "20261205-12"}},
      "shop": {"mode": {"value": "auto", "source": "runtime"},
               "override": {"set_by": "alice"}}},
    "features": {
      "checkout": {"maintenance": {"phase": "active", "set_by": "ops", "message": "Down",
                                   "incident_id": "20261205-12"}},
      "search": {"maintenance": {"phase": "active", "set_by": "alice", "message": "Upgrade"}},
      "account": {"maintenance": null}},
    "banner": {"enabled": true, "message": "Card payments failing", "severity": "critical",
               "source": "runtime", "incident": "20261205-12",
               "override": {"incident_id": "20261205-14"}}
  })");
  std::ostringstream out;
  RenderState(state, out);
  std::string text = out.str();
  EXPECT_NE(text.find("queue_all (runtime, incident 20261205-12)"), std::string::npos) << text;
  EXPECT_NE(text.find("auto (runtime)"), std::string::npos) << text;
  EXPECT_NE(text.find("ops (incident 20261205-12)"), std::string::npos) << text;
  size_t search = text.find("search");
  ASSERT_NE(search, std::string::npos) << text;
  EXPECT_EQ(text.substr(search, text.find('\n', search) - search).find("incident"),
            std::string::npos)
      << "an operator's own maintenance carries no tag: " << text;
  EXPECT_NE(text.find("20261205-12 (override set by incident 20261205-14)"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace tidegate::ctl
