// The maintenance page tells the open incident behind it (issue 12): its
// title, status, latest message, next update ("late" once passed) and a
// link to the status page; the JSON answer carries the same.
#include "maintenance/maintenance_page.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <nlohmann/json.hpp>

#include "common/rfc3339.h"

namespace tidegate::maintenance {
namespace {

common::TimePoint At(const char* rfc3339) { return *common::ParseRfc3339(rfc3339); }

state::Incident MakeIncident(std::string id, state::IncidentImpact impact,
                             std::vector<std::string> features, const char* started) {
  state::Incident i;
  i.id = std::move(id);
  i.title = "Incident " + i.id;
  i.impact = impact;
  i.features = std::move(features);
  i.started_at = At(started);
  state::IncidentUpdate u;
  u.at = i.started_at;
  u.message = "Opening of " + i.id;
  i.updates.push_back(u);
  return i;
}

class MaintenancePageTest : public ::testing::Test {
 protected:
  MaintenancePageTest() {
    setenv("TZ", "Europe/Paris", 1);
    tzset();
  }
  ~MaintenancePageTest() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
  std::unique_ptr<MaintenancePage> Page() {
    std::string error;
    auto page = MaintenancePage::Create(site_, &error);
    EXPECT_TRUE(page) << error;
    return page;
  }
  config::SiteConfig site_;
};

TEST_F(MaintenancePageTest, IncidentOfTheFeatureIsTold) {
  state::Incident incident = MakeIncident("inc-3", state::IncidentImpact::kPartialOutage,
                                          {"checkout"}, "2026-12-05T13:00:00Z");
  state::IncidentUpdate update;
  update.at = At("2026-12-05T13:20:00Z");
  update.status = state::IncidentStatus::kIdentified;
  update.message = "The <payment> provider is down";
  update.next_update_at = At("2026-12-05T13:50:00Z");
  incident.updates.push_back(update);
  incident.status = update.status;
  MaintenanceNotice notice{"checkout", "Payments failing", std::nullopt, At("2026-12-05T13:30:00Z"),
                           &incident};
  auto page = Page();
  std::string html = page->RenderHtml(notice, pages::Language::kEnglish);
  EXPECT_NE(html.find("<h2 id=\"tg-incident\">Incident inc-3</h2>"), std::string::npos) << html;
  EXPECT_NE(html.find("Identified"), std::string::npos) << html;
  EXPECT_NE(html.find("The &lt;payment&gt; provider is down"), std::string::npos) << html;
  EXPECT_NE(html.find("Next update at <time datetime=\"2026-12-05T14:50:00+01:00\">14:50</time> "
                      "CET"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("href=\"/.tidegate/status\""), std::string::npos) << html;

  notice.now = At("2026-12-05T14:00:00Z");  // the promised time passed
  html = page->RenderHtml(notice, pages::Language::kFrench);
  EXPECT_NE(html.find("class=\"next late\">La mise à jour est en retard"), std::string::npos)
      << html;

  nlohmann::json json = nlohmann::json::parse(page->RenderJson(notice));
  EXPECT_EQ(json["message"], "The <payment> provider is down");
  EXPECT_EQ(json["incident"]["id"], "inc-3");
  EXPECT_EQ(json["incident"]["status"], "identified");
  EXPECT_EQ(json["incident"]["next_update_at"], "2026-12-05T13:50:00Z");
  EXPECT_EQ(json["incident"]["update_overdue"], true);
  EXPECT_EQ(json["incident"]["status_url"], "/.tidegate/status");
}

TEST_F(MaintenancePageTest, WithoutIncidentThePageIsAsBefore) {
  site_.status_page_url = "https://status.example/";
  MaintenanceNotice notice{"checkout", "Back soon", At("2026-12-05T15:00:00Z"),
                           At("2026-12-05T13:30:00Z")};
  auto page = Page();
  std::string html = page->RenderHtml(notice, pages::Language::kEnglish);
  EXPECT_EQ(html.find("tg-incident"), std::string::npos) << html;
  EXPECT_NE(html.find("<p class=\"message\">Back soon</p>"), std::string::npos) << html;
  EXPECT_NE(html.find(">16:00</time> CET"), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"https://status.example/\""), std::string::npos) << html;
  nlohmann::json json = nlohmann::json::parse(page->RenderJson(notice));
  EXPECT_FALSE(json.contains("incident"));
}

// Every stopped request gets Retry-After (interface: "503 + Retry-After"):
// the end when known, else the incident's promised next update, else the
// default for an unknown end; the JSON's retry_after is the same number.
TEST_F(MaintenancePageTest, RetryAfterIsTheEndElseTheNextUpdateElseTheDefault) {
  state::Incident incident = MakeIncident("inc-4", state::IncidentImpact::kMajorOutage,
                                          {"checkout"}, "2026-12-05T13:00:00Z");
  incident.updates.front().next_update_at = At("2026-12-05T13:30:00Z");
  MaintenanceNotice notice{"checkout", "", At("2026-12-05T14:00:00Z"),
                           At("2026-12-05T13:10:00.200Z"), &incident};
  auto page = Page();
  EXPECT_EQ(MaintenancePage::RetryAfterSeconds(notice), 3000);  // the end, rounded up
  nlohmann::json json = nlohmann::json::parse(page->RenderJson(notice));
  EXPECT_EQ(json["retry_after"], 3000);
  EXPECT_EQ(json["until"], "2026-12-05T14:00:00Z");

  notice.until = std::nullopt;  // end unknown: the promised next update
  EXPECT_EQ(MaintenancePage::RetryAfterSeconds(notice), 1200);
  json = nlohmann::json::parse(page->RenderJson(notice));
  EXPECT_EQ(json["retry_after"], 1200);
  EXPECT_TRUE(json["until"].is_null());

  notice.now = At("2026-12-05T13:45:00Z");  // the promise is late
  EXPECT_EQ(MaintenancePage::RetryAfterSeconds(notice), MaintenancePage::kRetryAfterUnknownEnd);
  notice.incident = nullptr;
  EXPECT_EQ(MaintenancePage::RetryAfterSeconds(notice), MaintenancePage::kRetryAfterUnknownEnd);
  notice.until = At("2026-12-05T13:00:00Z");  // an end already past
  EXPECT_EQ(MaintenancePage::RetryAfterSeconds(notice), MaintenancePage::kRetryAfterUnknownEnd);
  json = nlohmann::json::parse(page->RenderJson(notice));
  EXPECT_TRUE(json["until"].is_null());
}

TEST(IncidentForTest, TheFeaturesMostSevereIncidentElseTheHeadline) {
  std::vector<state::Incident> incidents = {
      MakeIncident("a", state::IncidentImpact::kDegraded, {"checkout"}, "2026-12-05T10:00:00Z"),
      MakeIncident("b", state::IncidentImpact::kMajorOutage, {"search"}, "2026-12-05T11:00:00Z"),
      MakeIncident("c", state::IncidentImpact::kPartialOutage, {"checkout"},
                   "2026-12-05T09:00:00Z"),
      MakeIncident("d", state::IncidentImpact::kPartialOutage, {"checkout"},
                   "2026-12-05T12:00:00Z")};
  // checkout: c and d are the most severe of its own; d is the more recent.
  EXPECT_EQ(IncidentFor(incidents, "checkout")->id, "d");
  // A feature no incident names gets the headline (most severe overall).
  EXPECT_EQ(IncidentFor(incidents, "account")->id, "b");
  incidents[3].resolved_at = At("2026-12-05T12:30:00Z");
  EXPECT_EQ(IncidentFor(incidents, "checkout")->id, "c");
  for (auto& i : incidents) i.resolved_at = At("2026-12-05T12:30:00Z");
  EXPECT_EQ(IncidentFor(incidents, "checkout"), nullptr);
}

}  // namespace
}  // namespace tidegate::maintenance
