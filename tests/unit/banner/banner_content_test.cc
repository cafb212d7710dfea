// The banner tells the open incident's story (issue 12): a banner set by an
// incident shows its latest message and next update ("late" once passed)
// and links the status page; an operator's own banner keeps its message.
#include "banner/banner_content.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include "common/rfc3339.h"

namespace tidegate::banner {
namespace {

common::TimePoint At(const char* rfc3339) { return *common::ParseRfc3339(rfc3339); }

class BannerContentTest : public ::testing::Test {
 protected:
  BannerContentTest() {
    setenv("TZ", "Europe/Paris", 1);
    tzset();
    std::string error;
    content_ = BannerContent::Create(site_, &error);
    EXPECT_TRUE(content_) << error;
    // The incident that set the banner: opened 13:00 UTC, updated 13:20
    // with the next update promised for 13:50 UTC (14:50 CET).
    state::Incident incident;
    incident.id = "inc-1";
    incident.title = "Payments failing";
    incident.impact = state::IncidentImpact::kPartialOutage;
    incident.started_at = At("2026-12-05T13:00:00Z");
    state::IncidentUpdate first;
    first.at = incident.started_at;
    first.message = "Card payments fail";
    first.next_update_at = At("2026-12-05T13:30:00Z");
    state::IncidentUpdate second;
    second.at = At("2026-12-05T13:20:00Z");
    second.status = state::IncidentStatus::kIdentified;
    second.message = "Our <payment> provider is down";
    second.next_update_at = At("2026-12-05T13:50:00Z");
    incident.updates = {first, second};
    state_.incidents.push_back(incident);
    state::BannerOverride b;
    b.message = "Card payments fail";  // the opening message, as set then
    b.severity = "warning";
    b.next_update_at = first.next_update_at;
    b.incident_id = "inc-1";
    state_.banner = b;
    banner_.enabled = true;
    banner_.message = b.message;
    banner_.severity = b.severity;
    banner_.next_update_at = b.next_update_at;
    banner_.source = state::ValueSource::kRuntime;
  }
  ~BannerContentTest() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }

  config::SiteConfig site_;
  std::unique_ptr<BannerContent> content_;
  state::RuntimeState state_;
  state::EffectiveBanner banner_;
};

TEST_F(BannerContentTest, IncidentBannerTellsTheLatestUpdateAndLinksTheStatusPage) {
  std::string html =
      content_->Render(banner_, state_, pages::Language::kEnglish, At("2026-12-05T13:25:00Z"));
  EXPECT_NE(html.find("Our &lt;payment&gt; provider is down"), std::string::npos) << html;
  EXPECT_EQ(html.find("Card payments fail"), std::string::npos) << html;
  EXPECT_NE(html.find("Next update at <time datetime=\"2026-12-05T14:50:00+01:00\">14:50</time> "
                      "CET"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("href=\"/.tidegate/status\">Service status</a>"), std::string::npos) << html;
}

TEST_F(BannerContentTest, PassedPromiseSaysTheUpdateIsLate) {
  std::string html =
      content_->Render(banner_, state_, pages::Language::kFrench, At("2026-12-05T14:00:00Z"));
  EXPECT_NE(html.find("La mise à jour est en retard : elle était attendue à <time"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("État du service"), std::string::npos) << html;
}

TEST_F(BannerContentTest, OperatorsOwnBannerKeepsItsMessage) {
  state_.banner->incident_id.clear();  // set by hand
  banner_.message = "Deliveries are late";
  std::string html =
      content_->Render(banner_, state_, pages::Language::kEnglish, At("2026-12-05T13:25:00Z"));
  EXPECT_NE(html.find("Deliveries are late"), std::string::npos) << html;
  EXPECT_NE(html.find(">14:30</time> CET"), std::string::npos) << html;
  // An incident is open all the same: shoppers can read about it.
  EXPECT_NE(html.find("href=\"/.tidegate/status\""), std::string::npos) << html;

  state_.incidents.clear();
  html = content_->Render(banner_, state_, pages::Language::kEnglish, At("2026-12-05T13:25:00Z"));
  EXPECT_EQ(html.find("<a "), std::string::npos) << "no status page to link: " << html;
}

TEST_F(BannerContentTest, ResolvedIncidentNoLongerSpeaksThroughTheBanner) {
  state_.incidents[0].resolved_at = At("2026-12-05T13:40:00Z");
  std::string html =
      content_->Render(banner_, state_, pages::Language::kEnglish, At("2026-12-05T13:45:00Z"));
  EXPECT_NE(html.find("Card payments fail"), std::string::npos) << html;
  EXPECT_EQ(BannerContent::IncidentOf(banner_, state_), nullptr);
}

// Two incidents put themselves on the banner: the later one replaced the
// earlier one's banner. The banner tells the more severe of the two (the
// story the queue and status pages tell), with that incident's severity.
TEST_F(BannerContentTest, StackedIncidentBannersTellTheHeadline) {
  state::Incident outage;
  outage.id = "inc-0";
  outage.title = "Shop down";
  outage.impact = state::IncidentImpact::kMajorOutage;
  outage.started_at = At("2026-12-05T12:00:00Z");
  state::IncidentUpdate opening;
  opening.at = outage.started_at;
  opening.message = "The shop is down";
  opening.next_update_at = At("2026-12-05T13:40:00Z");
  outage.updates = {opening};
  outage.applied.banner = true;
  state_.incidents.push_back(outage);
  auto replaced = std::make_shared<state::BannerOverride>();
  replaced->message = "The shop is down";
  replaced->severity = "critical";
  replaced->incident_id = "inc-0";
  state_.incidents[0].applied.banner = true;
  state_.incidents[0].applied.replaced_banner = replaced;  // inc-1 replaced inc-0's banner

  const common::TimePoint now = At("2026-12-05T13:25:00Z");
  std::string html = content_->Render(banner_, state_, pages::Language::kEnglish, now);
  EXPECT_NE(html.find("The shop is down"), std::string::npos) << html;
  EXPECT_EQ(html.find("provider is down"), std::string::npos) << html;
  EXPECT_NE(html.find("tidegate-banner--critical\" role=\"alert\""), std::string::npos) << html;
  EXPECT_NE(html.find(">14:40</time> CET"), std::string::npos) << html;
  ASSERT_NE(BannerContent::IncidentOf(banner_, state_), nullptr);
  EXPECT_EQ(BannerContent::IncidentOf(banner_, state_)->id, "inc-0");

  // The outage resolved: the later incident speaks again, as a warning.
  state_.incidents[1].resolved_at = At("2026-12-05T13:20:00Z");
  html = content_->Render(banner_, state_, pages::Language::kEnglish, now);
  EXPECT_NE(html.find("Our &lt;payment&gt; provider is down"), std::string::npos) << html;
  EXPECT_NE(html.find("tidegate-banner--warning\" role=\"status\""), std::string::npos) << html;

  // Open again but milder than the later incident: the later one's story.
  state_.incidents[1].resolved_at.reset();
  state_.incidents[1].impact = state::IncidentImpact::kDegraded;
  EXPECT_EQ(BannerContent::IncidentOf(banner_, state_)->id, "inc-1");
  // Equally severe: the more recently started.
  state_.incidents[1].impact = state::IncidentImpact::kPartialOutage;
  EXPECT_EQ(BannerContent::IncidentOf(banner_, state_)->id, "inc-1");

  // The later incident replaced an operator's own banner instead (the
  // operator had taken the outage's banner over, or removed it): the chain
  // ends there and the outage no longer speaks through the banner.
  state_.incidents[1].impact = state::IncidentImpact::kMajorOutage;
  state_.incidents[0].applied.replaced_banner = std::make_shared<state::BannerOverride>();
  EXPECT_EQ(BannerContent::IncidentOf(banner_, state_)->id, "inc-1");
}

TEST_F(BannerContentTest, ShopStatusPageIsPreferred) {
  site_.status_page_url = "https://status.example/";
  std::string error;
  auto content = BannerContent::Create(site_, &error);
  ASSERT_TRUE(content) << error;
  std::string html =
      content->Render(banner_, state_, pages::Language::kEnglish, At("2026-12-05T13:25:00Z"));
  EXPECT_NE(html.find("href=\"https://status.example/\""), std::string::npos) << html;
}

}  // namespace
}  // namespace tidegate::banner
