// The status page tells the incidents' story (issue 12): open incidents with
// their timeline (newest first) and next update, components, past incidents
// with their closing messages, in HTML, JSON and Atom, with a fake clock.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <nlohmann/json.hpp>

#include "common/rfc3339.h"
#include "common/time_source.h"
#include "status/status_page.h"
#include "status/status_story.h"

namespace tidegate::status {
namespace {

using Format = StatusPageFactory::Format;

common::TimePoint At(const char* rfc3339) { return *common::ParseRfc3339(rfc3339); }

state::IncidentUpdate Update(const char* at, state::IncidentStatus status, std::string message,
                             const char* next = nullptr) {
  state::IncidentUpdate u;
  u.at = At(at);
  u.status = status;
  u.message = std::move(message);
  if (next != nullptr) u.next_update_at = At(next);
  u.by = "ops-alice";  // never shown to the public
  return u;
}

// "Payments failing": opened 13:00 UTC, identified 13:20 with the next
// update promised for 13:50 (14:50 in Paris).
state::Incident PaymentsIncident() {
  state::Incident i;
  i.id = "inc-7";
  i.title = "Payments <failing>";
  i.impact = state::IncidentImpact::kPartialOutage;
  i.features = {"checkout"};
  i.started_at = At("2026-12-05T13:00:00Z");
  i.updates.push_back(Update("2026-12-05T13:00:00Z", state::IncidentStatus::kInvestigating,
                             "Card payments fail", "2026-12-05T13:30:00Z"));
  i.updates.push_back(Update("2026-12-05T13:20:00Z", state::IncidentStatus::kIdentified,
                             "Our payment provider is down", "2026-12-05T13:50:00Z"));
  i.status = state::IncidentStatus::kIdentified;
  return i;
}

state::Incident Resolved(std::string id, const char* started, const char* resolved,
                         std::string closing) {
  state::Incident i;
  i.id = std::move(id);
  i.title = "Search slow";
  i.impact = state::IncidentImpact::kDegraded;
  i.features = {"search"};
  i.started_at = At(started);
  i.updates.push_back(Update(started, state::IncidentStatus::kInvestigating, "Search is slow"));
  i.updates.push_back(Update(resolved, state::IncidentStatus::kResolved, std::move(closing)));
  i.status = state::IncidentStatus::kResolved;
  i.resolved_at = At(resolved);
  return i;
}

class StatusStoryTest : public ::testing::Test {
 protected:
  StatusStoryTest() : state_(std::make_shared<const state::RuntimeState>()) {
    setenv("TZ", "Europe/Paris", 1);
    tzset();
    config_.site.name = "Demo Shop";
    for (const char* name : {"checkout", "search"}) {
      config::FeatureConfig f;
      f.name = name;
      config_.features.push_back(f);
    }
  }
  ~StatusStoryTest() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }

  void Publish(std::vector<state::Incident> incidents) {
    state::RuntimeState s;
    s.version = 1;
    s.incidents = std::move(incidents);
    Publish(s);
  }
  void Publish(const state::RuntimeState& s) {
    state_.Publish(std::make_shared<const state::RuntimeState>(s));
  }

  std::string Render(Format format, const char* language = "en") {
    std::string error;
    auto f = StatusPageFactory::Create(config_, &state_, time_, &error);
    EXPECT_TRUE(f) << error;
    return f ? f->Render(format, language, "http://shop", time_.WallNow()) : "";
  }
  nlohmann::json Json() { return nlohmann::json::parse(Render(Format::kJson)); }

  config::Config config_;
  proxy::Published<state::RuntimeState> state_;
  common::FakeTimeSource time_{At("2026-12-05T13:30:00Z")};
};

TEST_F(StatusStoryTest, OpenIncidentShowsItsTimelineNewestFirstAndTheNextUpdate) {
  Publish({PaymentsIncident()});
  std::string html = Render(Format::kHtml);
  EXPECT_NE(html.find("Payments &lt;failing&gt;"), std::string::npos) << html;
  EXPECT_NE(html.find("Part of the shop is unavailable right now."), std::string::npos);
  size_t identified = html.find("Our payment provider is down");
  size_t investigating = html.find("Card payments fail");
  ASSERT_NE(identified, std::string::npos) << html;
  ASSERT_NE(investigating, std::string::npos) << html;
  EXPECT_LT(identified, investigating) << "newest update first";
  EXPECT_NE(html.find("Next update at 14:50 CET"), std::string::npos) << html;
  EXPECT_NE(html.find(">14:20 CET</time> · <strong>Identified</strong>"), std::string::npos)
      << html;
  EXPECT_NE(html.find("Affects: checkout"), std::string::npos) << html;
  EXPECT_EQ(html.find("ops-alice"), std::string::npos) << "operators' names stay private";
  EXPECT_EQ(html.find("Update is late"), std::string::npos) << html;
  EXPECT_EQ(html.find("next late"), std::string::npos) << html;

  nlohmann::json json = Json();
  EXPECT_EQ(json["status"], "partial_outage");
  ASSERT_EQ(json["incidents"].size(), 1u) << json.dump(2);
  const nlohmann::json& incident = json["incidents"][0];
  EXPECT_EQ(incident["kind"], "incident");
  EXPECT_EQ(incident["id"], "inc-7");
  EXPECT_EQ(incident["title"], "Payments <failing>");
  EXPECT_EQ(incident["impact"], "partial_outage");
  EXPECT_EQ(incident["status"], "identified");
  EXPECT_EQ(incident["components"], nlohmann::json::array({"checkout"}));
  EXPECT_EQ(incident["next_update_at"], "2026-12-05T13:50:00Z");
  EXPECT_EQ(incident["update_overdue"], false);
  ASSERT_EQ(incident["updates"].size(), 2u);
  EXPECT_EQ(incident["updates"][0]["status"], "identified");
  EXPECT_EQ(incident["updates"][0]["at"], "2026-12-05T13:20:00Z");
  EXPECT_EQ(incident["updates"][1]["message"], "Card payments fail");
  EXPECT_EQ(json.dump().find("ops-alice"), std::string::npos);
  EXPECT_EQ(json["components"],
            nlohmann::json::parse(R"([{"name":"checkout","status":"partial_outage",
                                       "incident":"inc-7"},
                                      {"name":"search","status":"operational"}])"));
  EXPECT_TRUE(json["past_incidents"].empty());
}

TEST_F(StatusStoryTest, FeedHasOneEntryPerUpdate) {
  Publish({PaymentsIncident()});
  std::string atom = Render(Format::kAtom);
  size_t count = 0;
  for (size_t at = atom.find("<entry>"); at != std::string::npos; at = atom.find("<entry>", at + 1))
    ++count;
  EXPECT_EQ(count, 2u) << atom;
  size_t second = atom.find("<id>http://shop/.tidegate/status#incident-inc-7-2</id>");
  size_t first = atom.find("<id>http://shop/.tidegate/status#incident-inc-7-1</id>");
  ASSERT_NE(second, std::string::npos) << atom;
  ASSERT_NE(first, std::string::npos) << atom;
  EXPECT_LT(second, first) << "newest entry first";
  EXPECT_NE(atom.find("<title>Payments &lt;failing&gt; — Identified</title>"), std::string::npos)
      << atom;
  EXPECT_NE(atom.find("<updated>2026-12-05T13:20:00Z</updated>\n  <author>"), std::string::npos)
      << "the feed is as new as its newest entry\n"
      << atom;
  EXPECT_NE(atom.find("Our payment provider is down (Next update at 14:50 CET)"), std::string::npos)
      << atom;

  // An update adds an entry; the earlier ones keep their ids.
  state::Incident i = PaymentsIncident();
  i.updates.push_back(Update("2026-12-05T13:45:00Z", state::IncidentStatus::kMonitoring,
                             "A fix is deployed", "2026-12-05T14:15:00Z"));
  i.status = state::IncidentStatus::kMonitoring;
  Publish({i});
  atom = Render(Format::kAtom);
  EXPECT_NE(atom.find("#incident-inc-7-3</id>"), std::string::npos) << atom;
  EXPECT_NE(atom.find("#incident-inc-7-1</id>"), std::string::npos) << atom;
}

TEST_F(StatusStoryTest, PassedPromiseIsShownAsLateInBothLanguages) {
  Publish({PaymentsIncident()});
  time_.SetWall(At("2026-12-05T14:05:00Z"));  // 13:50 passed with no update
  std::string html = Render(Format::kHtml);
  EXPECT_NE(html.find("<p class=\"next late\">Update is late: it was expected at 14:50 CET</p>"),
            std::string::npos)
      << html;
  std::string fr = Render(Format::kHtml, "fr");
  EXPECT_NE(fr.find("La mise à jour est en retard : elle était attendue à 14:50 CET"),
            std::string::npos)
      << fr;
  EXPECT_NE(fr.find("Cause identifiée"), std::string::npos) << fr;
  EXPECT_NE(fr.find("Panne partielle"), std::string::npos) << fr;
  EXPECT_EQ(Json()["incidents"][0]["update_overdue"], true);
}

TEST_F(StatusStoryTest, PastIncidentsWithinTheHistoryKeepTheirClosingMessage) {
  Publish(
      {Resolved("inc-1", "2026-12-04T09:00:00Z", "2026-12-04T10:00:00Z", "Search is fast again"),
       Resolved("inc-0", "2026-10-01T09:00:00Z", "2026-10-01T10:00:00Z", "Long ago"),
       PaymentsIncident()});
  nlohmann::json json = Json();
  ASSERT_EQ(json["past_incidents"].size(), 1u) << json.dump(2);
  EXPECT_EQ(json["past_incidents"][0]["id"], "inc-1");
  EXPECT_EQ(json["past_incidents"][0]["closing_message"], "Search is fast again");
  EXPECT_EQ(json["past_incidents"][0]["resolved_at"], "2026-12-04T10:00:00Z");
  EXPECT_EQ(json["past_incidents"][0].count("update_overdue"), 0u);
  EXPECT_EQ(json["components"][1]["status"], "operational") << "a resolved incident is over";
  std::string html = Render(Format::kHtml);
  size_t open = html.find("Payments &lt;failing&gt;");
  size_t past = html.find("Search is fast again");
  ASSERT_NE(past, std::string::npos) << html;
  EXPECT_LT(open, past) << "open incidents come first";
  EXPECT_NE(html.find("4 Dec 2026 11:00 CET"), std::string::npos) << html;
  EXPECT_EQ(html.find("Long ago"), std::string::npos) << "older than status_history_days";
  std::string atom = Render(Format::kAtom);
  EXPECT_NE(atom.find("<title>Search slow — Resolved</title>"), std::string::npos) << atom;

  config_.site.status_history_days = 0;
  EXPECT_TRUE(Json()["past_incidents"].empty());
  EXPECT_EQ(Render(Format::kHtml).find("Past incidents"), std::string::npos);
}

TEST_F(StatusStoryTest, QuietHistorySaysSo) {
  Publish(std::vector<state::Incident>{});
  std::string html = Render(Format::kHtml);
  EXPECT_NE(html.find("All systems are working normally."), std::string::npos) << html;
  EXPECT_NE(html.find("No incident in the last 30 days."), std::string::npos) << html;
  EXPECT_NE(html.find("<span>search</span> <span class=\"badge operational\">Operational</span>"),
            std::string::npos)
      << html;
}

TEST_F(StatusStoryTest, WhatAnIncidentSetIsNotRepeatedAsANotice) {
  state::RuntimeState s;
  s.incidents = {PaymentsIncident()};
  state::BannerOverride banner;
  banner.message = "Our payment provider is down";
  banner.incident_id = "inc-7";
  s.banner = banner;
  state::MaintenanceOverride m;
  m.message = "Payments failing";
  m.incident_id = "inc-7";
  s.maintenance["checkout"] = m;
  Publish(s);
  nlohmann::json json = Json();
  ASSERT_EQ(json["incidents"].size(), 1u) << json.dump(2);
  EXPECT_EQ(json["incidents"][0]["kind"], "incident");
  EXPECT_EQ(json["components"][0]["status"], "partial_outage");

  // An operator's own banner is a notice of its own.
  s.banner->incident_id.clear();
  Publish(s);
  json = Json();
  ASSERT_EQ(json["incidents"].size(), 2u) << json.dump(2);
  EXPECT_EQ(json["incidents"][1]["kind"], "notice");
}

// A feature under maintenance answers 503 to every request: a "degraded"
// incident naming it does not make its component look better than
// "maintenance"; an outage impact still says more.
TEST_F(StatusStoryTest, AFeatureUnderMaintenanceIsNotShownAsDegraded) {
  state::Incident degraded = PaymentsIncident();
  degraded.impact = state::IncidentImpact::kDegraded;
  degraded.features = {"checkout"};
  state::RuntimeState s;
  s.incidents = {degraded};
  state::MaintenanceOverride m;
  m.message = "Checkout paused";
  s.maintenance["checkout"] = m;
  Publish(s);
  nlohmann::json json = Json();
  EXPECT_EQ(json["components"][0]["status"], "maintenance") << json.dump(2);
  EXPECT_EQ(json["status"], "partial_outage") << "the overall status agrees";
  s.incidents[0].impact = state::IncidentImpact::kMajorOutage;
  Publish(s);
  EXPECT_EQ(Json()["components"][0]["status"], "major_outage");
  s.maintenance.clear();
  s.incidents[0].impact = state::IncidentImpact::kDegraded;
  Publish(s);
  EXPECT_EQ(Json()["components"][0]["status"], "degraded") << "no maintenance: the impact";
}

// A reload removed the feature: its maintenance override applies to
// nothing, so the status page neither lists it nor rates the shop by it.
TEST_F(StatusStoryTest, AnOrphanedMaintenanceOverrideIsNotANotice) {
  state::RuntimeState s;
  state::MaintenanceOverride m;
  m.message = "search off";
  s.maintenance["removed-feature"] = m;
  Publish(s);
  nlohmann::json json = Json();
  EXPECT_EQ(json["status"], "operational") << json.dump(2);
  EXPECT_EQ(json["incidents"].size(), 0u) << json.dump(2);
}

TEST_F(StatusStoryTest, WorstStatusWins) {
  state::Incident major = PaymentsIncident();
  major.id = "inc-8";
  major.impact = state::IncidentImpact::kMajorOutage;
  major.features = {"checkout", "search"};
  state::Incident maintenance = PaymentsIncident();
  maintenance.impact = state::IncidentImpact::kMaintenance;
  Publish({maintenance});
  EXPECT_EQ(Json()["status"], "maintenance");
  Publish({maintenance, major});
  nlohmann::json json = Json();
  EXPECT_EQ(json["status"], "major_outage");
  EXPECT_EQ(json["components"][0]["status"], "major_outage");
  EXPECT_EQ(json["components"][0]["incident"], "inc-8");
  EXPECT_NE(Render(Format::kHtml).find("Most of the shop is unavailable right now."),
            std::string::npos);
}

// One story: the status page leads with the incident the banner, the
// queue page and the maintenance page tell (state::HeadlineIncident), even
// when a milder one started later; the others follow, newest first.
TEST_F(StatusStoryTest, LeadsWithTheHeadlineIncidentThenTheOthersNewestFirst) {
  state::Incident major = PaymentsIncident();
  major.id = "inc-major";
  major.title = "Checkout down";
  major.impact = state::IncidentImpact::kMajorOutage;
  major.started_at = At("2026-12-05T12:00:00Z");
  state::Incident slow = PaymentsIncident();
  slow.id = "inc-slow";
  slow.title = "Search slow";
  slow.impact = state::IncidentImpact::kDegraded;
  slow.started_at = At("2026-12-05T13:10:00Z");
  state::Incident older_slow = slow;
  older_slow.id = "inc-older-slow";
  older_slow.title = "Images slow";
  older_slow.started_at = At("2026-12-05T12:30:00Z");
  Publish({major, older_slow, slow});

  nlohmann::json json = Json();
  ASSERT_GE(json["incidents"].size(), 3u) << json.dump(2);
  EXPECT_EQ(json["incidents"][0]["id"], "inc-major");
  EXPECT_EQ(json["incidents"][1]["id"], "inc-slow");
  EXPECT_EQ(json["incidents"][2]["id"], "inc-older-slow");

  std::string html = Render(Format::kHtml);
  size_t first = html.find("Checkout down");
  size_t second = html.find("Search slow");
  size_t third = html.find("Images slow");
  ASSERT_NE(first, std::string::npos) << html;
  EXPECT_LT(first, second) << html;
  EXPECT_LT(second, third) << html;
}

}  // namespace
}  // namespace tidegate::status
