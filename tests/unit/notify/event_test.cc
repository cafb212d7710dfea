// notify/event.h: events derived from one applied change (before/after).
#include "notify/event.h"

#include <gtest/gtest.h>

namespace tidegate::notify {
namespace {

using std::chrono::minutes;

const common::TimePoint kT0 = common::TimePoint(std::chrono::seconds(1764945000));

state::Incident OpenIncident(const std::string& id) {
  state::Incident i;
  i.id = id;
  i.title = "Payments failing";
  i.impact = state::IncidentImpact::kPartialOutage;
  i.features = {"checkout"};
  i.started_at = kT0;
  i.updates.push_back({kT0, state::IncidentStatus::kInvestigating, "Card payments fail.",
                       kT0 + minutes(30), "ops"});
  return i;
}

std::vector<std::string> Types(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) out.push_back(e.type);
  return out;
}

TEST(EventTest, IncidentLifecycle) {
  state::RuntimeState s0;
  state::RuntimeState s1 = s0;
  s1.version = 1;
  s1.incidents.push_back(OpenIncident("inc1"));
  std::vector<Event> opened = DeriveEvents(s0, s1, nullptr, kT0);
  ASSERT_EQ(Types(opened), std::vector<std::string>{"incident.opened"});
  EXPECT_EQ(opened[0].state_version, 1u);
  EXPECT_EQ(opened[0].data["id"], "inc1");
  EXPECT_EQ(opened[0].data["message"], "Card payments fail.");
  EXPECT_EQ(opened[0].data["next_update_at"], "2025-12-05T15:00:00Z");
  EXPECT_EQ(opened[0].data["impact"], "partial_outage");
  EXPECT_EQ(opened[0].id.rfind("evt_", 0), 0u);

  state::RuntimeState s2 = s1;
  s2.version = 2;
  s2.incidents[0].updates.push_back({kT0 + minutes(20), state::IncidentStatus::kIdentified,
                                     "The provider is fixing it.", kT0 + minutes(50), "ops"});
  s2.incidents[0].status = state::IncidentStatus::kIdentified;
  std::vector<Event> updated = DeriveEvents(s1, s2, nullptr, kT0 + minutes(20));
  ASSERT_EQ(Types(updated), std::vector<std::string>{"incident.updated"});
  EXPECT_EQ(updated[0].data["status"], "identified");
  EXPECT_EQ(updated[0].data["updates"].size(), 2u);
  EXPECT_EQ(updated[0].data["updates"][0]["message"], "The provider is fixing it.")
      << "newest first";

  state::RuntimeState s3 = s2;
  s3.version = 3;
  s3.incidents[0].updates.push_back(
      {kT0 + minutes(60), state::IncidentStatus::kResolved, "Payments work again.", {}, "ops"});
  s3.incidents[0].status = state::IncidentStatus::kResolved;
  s3.incidents[0].resolved_at = kT0 + minutes(60);
  std::vector<Event> resolved = DeriveEvents(s2, s3, nullptr, kT0 + minutes(60));
  ASSERT_EQ(Types(resolved), std::vector<std::string>{"incident.resolved"});
  EXPECT_EQ(resolved[0].data["message"], "Payments work again.");
  EXPECT_TRUE(resolved[0].data["next_update_at"].is_null());

  // Pruning a resolved incident from the history says nothing.
  state::RuntimeState s4 = s3;
  s4.version = 4;
  s4.incidents.clear();
  EXPECT_TRUE(DeriveEvents(s3, s4, nullptr, kT0).empty());
}

TEST(EventTest, MaintenanceOnAndOffButNotReopenedOrBanner) {
  state::RuntimeState s0;
  state::RuntimeState s1 = s0;
  state::MaintenanceOverride m;
  m.message = "Back at 15:00";
  m.until = kT0 + minutes(30);
  m.incident_id = "inc1";
  s1.maintenance["checkout"] = m;
  std::vector<Event> on = DeriveEvents(s0, s1, nullptr, kT0);
  ASSERT_EQ(Types(on), std::vector<std::string>{"maintenance.on"});
  EXPECT_EQ(on[0].data["feature"], "checkout");
  EXPECT_EQ(on[0].data["message"], "Back at 15:00");
  EXPECT_EQ(on[0].data["incident_id"], "inc1");

  // Changing the message of a maintenance in force is not a new "on".
  state::RuntimeState s2 = s1;
  s2.maintenance["checkout"].message = "Back at 15:30";
  EXPECT_TRUE(DeriveEvents(s1, s2, nullptr, kT0).empty());

  // "reopened" (an operator opened a configured window) is off.
  state::RuntimeState s3 = s2;
  s3.maintenance["checkout"].reopened = true;
  EXPECT_EQ(Types(DeriveEvents(s2, s3, nullptr, kT0)), std::vector<std::string>{"maintenance.off"});
  state::RuntimeState s4 = s2;
  s4.maintenance.clear();
  EXPECT_EQ(Types(DeriveEvents(s2, s4, nullptr, kT0)), std::vector<std::string>{"maintenance.off"});

  state::RuntimeState s5 = s0;
  s5.banner = state::BannerOverride{};
  s5.banner->message = "Hello";
  EXPECT_TRUE(DeriveEvents(s0, s5, nullptr, kT0).empty()) << "the banner is no webhook event";
}

TEST(EventTest, RoomModeSetAndClearedNamesTheModeInForce) {
  config::Config config;
  config::RoomConfig room;
  room.name = "shop";
  room.mode = config::RoomMode::kAuto;
  config.rooms.push_back(room);

  state::RuntimeState s0;
  state::RuntimeState s1 = s0;
  s1.rooms["shop"].mode = config::RoomMode::kQueueAll;
  s1.rooms["shop"].mode_incident_id = "inc1";
  std::vector<Event> set = DeriveEvents(s0, s1, &config, kT0);
  ASSERT_EQ(Types(set), std::vector<std::string>{"room.mode"});
  EXPECT_EQ(set[0].data["room"], "shop");
  EXPECT_EQ(set[0].data["mode"], "queue_all");
  EXPECT_EQ(set[0].data["source"], "runtime");
  EXPECT_EQ(set[0].data["incident_id"], "inc1");

  // A threshold change leaves the mode alone: no event.
  state::RuntimeState s2 = s1;
  s2.rooms["shop"].total_active_users = 10;
  EXPECT_TRUE(DeriveEvents(s1, s2, &config, kT0).empty());

  state::RuntimeState s3 = s2;
  s3.rooms["shop"].mode.reset();
  std::vector<Event> cleared = DeriveEvents(s2, s3, &config, kT0);
  ASSERT_EQ(Types(cleared), std::vector<std::string>{"room.mode"});
  EXPECT_EQ(cleared[0].data["mode"], "auto");
  EXPECT_EQ(cleared[0].data["source"], "config");
}

TEST(EventTest, OverdueEventAndBody) {
  state::Incident incident = OpenIncident("inc1");
  EXPECT_FALSE(incident.update_overdue(kT0 + minutes(30)));
  EXPECT_TRUE(incident.update_overdue(kT0 + minutes(31)));
  Event e = OverdueEvent(incident, 7, kT0 + minutes(31));
  EXPECT_EQ(e.type, "incident.update_overdue");
  nlohmann::json body = nlohmann::json::parse(EventBody(e));
  EXPECT_EQ(body["id"], e.id);
  EXPECT_EQ(body["type"], "incident.update_overdue");
  EXPECT_EQ(body["state_version"], 7);
  EXPECT_EQ(body["created_at"], "2025-12-05T15:01:00Z");
  EXPECT_EQ(body["data"]["next_update_at"], "2025-12-05T15:00:00Z");
  EXPECT_NE(NewEventId(), NewEventId());
}

}  // namespace
}  // namespace tidegate::notify
