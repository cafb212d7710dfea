#include "status/status_page.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <nlohmann/json.hpp>

#include "common/rfc3339.h"
#include "common/time_source.h"
#include "status/notices.h"
#include "status/status_story.h"
#include "tests/unit/proxy/fake_filter_callbacks.h"

namespace tidegate::status {
namespace {

common::TimePoint At(const char* rfc3339) { return *common::ParseRfc3339(rfc3339); }

class StatusPageTest : public ::testing::Test {
 protected:
  StatusPageTest() : state_(std::make_shared<const state::RuntimeState>()) {
    config_.site.name = "Demo <Shop>";
    setenv("TZ", "UTC", 1);  // shop-local times below are written in UTC
    tzset();
  }

  // [features.NAME] sections (a notice is only told for a configured feature).
  void ConfigureFeatures(std::initializer_list<const char*> names) {
    for (const char* name : names) {
      config::FeatureConfig feature;
      feature.name = name;
      config_.features.push_back(feature);
    }
  }

  void Publish(state::RuntimeState s) {
    state_.Publish(std::make_shared<const state::RuntimeState>(s));
  }

  std::unique_ptr<StatusPageFactory> Factory() {
    std::string error;
    auto f = StatusPageFactory::Create(config_, &state_, time_, &error);
    EXPECT_TRUE(f) << error;
    return f;
  }

  config::Config config_;
  proxy::Published<state::RuntimeState> state_;
  common::TimePoint now_ = At("2026-11-23T13:00:00Z");
  common::FakeTimeSource time_{now_};
};

// GET `target` through the filter, as a worker would run it.
std::string Serve(const StatusPageFactory& factory, const std::string& target) {
  proxy::testing::FakeFilterCallbacks callbacks;
  auto filter = factory.CreateFilter(callbacks);
  proxy::RequestHead head;
  head.method = "GET";
  head.target = target;
  head.host = "shop";
  EXPECT_EQ(filter->OnRequestHeaders(head), proxy::FilterStatus::kStop);
  EXPECT_EQ(callbacks.status, 200);
  return callbacks.body;
}

TEST_F(StatusPageTest, ServedPagesUseTheInjectedClock) {
  state::RuntimeState s;
  state::BannerOverride b;
  b.message = "High demand";
  b.next_update_at = At("2026-11-24T09:15:00Z");  // tomorrow, seen from now_
  b.expires_at = At("2026-11-24T10:00:00Z");
  s.banner = b;
  s.version = 1;
  Publish(s);
  auto f = Factory();
  std::string html = Serve(*f, "/.tidegate/status");
  EXPECT_NE(html.find("Next update at 24 Nov 09:15"), std::string::npos) << html;
  EXPECT_NE(html.find("Updated at 13:00"), std::string::npos) << html;

  time_.SetWall(At("2026-11-24T08:00:00Z"));  // the next morning: same day
  html = Serve(*f, "/.tidegate/status");
  EXPECT_NE(html.find("Next update at 09:15"), std::string::npos) << html;
  EXPECT_NE(html.find("Updated at 08:00"), std::string::npos) << html;
  auto json = nlohmann::json::parse(Serve(*f, "/.tidegate/status.json"));
  EXPECT_EQ(json["incidents"].size(), 1u);

  time_.Advance(std::chrono::hours(2));  // past expires_at: the notice is gone
  json = nlohmann::json::parse(Serve(*f, "/.tidegate/status.json"));
  EXPECT_EQ(json["status"], "operational");
  EXPECT_TRUE(json["incidents"].empty());
}

TEST_F(StatusPageTest, NoIncidentIsOperational) {
  auto f = Factory();
  std::string html = f->Render(StatusPageFactory::Format::kHtml, "", "http://shop", now_);
  EXPECT_NE(html.find("All systems are working normally."), std::string::npos) << html;
  EXPECT_NE(html.find("Demo &lt;Shop&gt;"), std::string::npos) << "shop name must be escaped";
  EXPECT_EQ(html.find("<li>"), std::string::npos);
  auto json = nlohmann::json::parse(f->Render(StatusPageFactory::Format::kJson, "", "", now_));
  EXPECT_EQ(json["status"], "operational");
  EXPECT_TRUE(json["incidents"].empty());
  std::string atom = f->Render(StatusPageFactory::Format::kAtom, "", "http://shop", now_);
  EXPECT_EQ(atom.find("<entry>"), std::string::npos);
  EXPECT_NE(atom.find("<link rel=\"self\" href=\"http://shop/.tidegate/status.atom\"/>"),
            std::string::npos)
      << atom;
}

TEST_F(StatusPageTest, ActiveMaintenanceAndBannerAreListedInFrench) {
  ConfigureFeatures({"checkout"});
  state::RuntimeState s;
  s.version = 3;
  state::MaintenanceOverride m;
  m.message = "Paiement <indisponible>";
  m.until = At("2026-11-23T15:00:00Z");
  m.set_at = At("2026-11-23T12:30:00Z");
  s.maintenance["checkout"] = m;
  state::BannerOverride b;
  b.message = "Forte affluence";
  b.severity = "warning";
  b.next_update_at = At("2026-11-23T13:30:00Z");
  b.set_at = At("2026-11-23T12:45:00Z");
  s.banner = b;
  Publish(s);
  auto f = Factory();
  std::string html = f->Render(StatusPageFactory::Format::kHtml, "fr-FR,fr;q=0.9", "", now_);
  EXPECT_NE(html.find("lang=\"fr\""), std::string::npos);
  EXPECT_NE(html.find("Une partie de la boutique est indisponible"), std::string::npos) << html;
  EXPECT_NE(html.find("Paiement &lt;indisponible&gt;"), std::string::npos);
  EXPECT_NE(html.find("Retour prévu à 15:00"), std::string::npos) << html;  // TZ is UTC here
  EXPECT_NE(html.find("Prochaine mise à jour à 13:30"), std::string::npos) << html;
  auto json = nlohmann::json::parse(f->Render(StatusPageFactory::Format::kJson, "", "", now_));
  EXPECT_EQ(json["status"], "partial_outage");
  ASSERT_EQ(json["incidents"].size(), 2u);
  EXPECT_EQ(json["incidents"][0]["kind"], "notice");
  EXPECT_EQ(json["incidents"][1]["feature"], "checkout");
  EXPECT_EQ(json["incidents"][1]["until"], "2026-11-23T15:00:00Z");
  std::string atom = f->Render(StatusPageFactory::Format::kAtom, "", "http://shop", now_);
  EXPECT_NE(atom.find("<title>Maintenance: checkout</title>"), std::string::npos) << atom;
  EXPECT_NE(atom.find("Paiement &lt;indisponible&gt;"), std::string::npos);
}

TEST_F(StatusPageTest, ScheduledWindowIsDegradedAndExpiredOneIsGone) {
  ConfigureFeatures({"shipping", "search"});
  state::RuntimeState s;
  state::MaintenanceOverride later;
  later.message = "Carrier upgrade";
  later.starts_at = At("2026-11-23T20:00:00Z");
  later.until = At("2026-11-23T21:00:00Z");
  s.maintenance["shipping"] = later;
  state::MaintenanceOverride past;
  past.message = "old";
  past.until = At("2026-11-23T12:00:00Z");
  s.maintenance["search"] = past;
  Publish(s);
  std::vector<Notice> incidents = CurrentNotices(config_, state_.Get(), now_);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].feature, "shipping");
  EXPECT_EQ(incidents[0].phase, state::Phase::kScheduled);
  EXPECT_EQ(BuildStory(config_, state_.Get(), now_).overall, "degraded");
  auto f = Factory();
  std::string html = f->Render(StatusPageFactory::Format::kHtml, "en", "", now_);
  EXPECT_NE(html.find("Planned maintenance: shipping"), std::string::npos) << html;
  EXPECT_NE(html.find("From 20:00"), std::string::npos) << html;
}

// Windows planned in the configuration ([features.NAME.maintenance]) are
// notices too, as the gate applies them: in force or announced; not once
// over, not for a disabled feature, and not while an operator's override is
// in force for the feature (listed itself, or reopened: the feature is open).
TEST_F(StatusPageTest, ConfiguredWindowsAreNoticesAsTheGateAppliesThem) {
  ConfigureFeatures({"checkout", "coupons", "gifts", "search", "shipping", "wishlist"});
  auto window = [](const char* message, std::optional<common::TimePoint> starts,
                   std::optional<common::TimePoint> until) {
    config::ConfigMaintenanceWindow w;
    w.message = message;
    w.starts_at = starts;
    w.until = until;
    return w;
  };
  config_.features[0].maintenance =
      window("Payments upgrade", std::nullopt, At("2026-11-23T14:00:00Z"));
  config_.features[1].maintenance = window("Coupons off", std::nullopt, std::nullopt);
  config_.features[2].maintenance = window("Gifts off", std::nullopt, std::nullopt);
  config_.features[2].enabled = false;
  config_.features[3].maintenance = window("old", std::nullopt, At("2026-11-23T12:00:00Z"));
  config_.features[4].maintenance =
      window("Carrier upgrade", At("2026-11-24T02:00:00Z"), At("2026-11-24T03:00:00Z"));
  state::RuntimeState s;
  state::MaintenanceOverride reopened;
  reopened.reopened = true;
  s.maintenance["coupons"] = reopened;  // an operator opened the feature during its window
  state::MaintenanceOverride manual;
  manual.message = "Wishlist paused";
  s.maintenance["wishlist"] = manual;
  Publish(s);

  std::vector<Notice> notices = CurrentNotices(config_, state_.Get(), now_);
  ASSERT_EQ(notices.size(), 3u);
  EXPECT_EQ(notices[0].feature, "checkout");
  EXPECT_EQ(notices[0].phase, state::Phase::kActive);
  EXPECT_EQ(notices[0].message, "Payments upgrade");
  EXPECT_FALSE(notices[0].since);
  EXPECT_EQ(notices[1].feature, "wishlist");  // the operator's, in name order
  EXPECT_EQ(notices[1].phase, state::Phase::kActive);
  EXPECT_EQ(notices[2].feature, "shipping");  // announced ones last
  EXPECT_EQ(notices[2].phase, state::Phase::kScheduled);
  EXPECT_EQ(BuildStory(config_, state_.Get(), now_).overall, "partial_outage");

  auto f = Factory();
  std::string html = f->Render(StatusPageFactory::Format::kHtml, "en", "", now_);
  EXPECT_NE(html.find("Payments upgrade"), std::string::npos) << html;
  EXPECT_NE(html.find("Planned maintenance: shipping"), std::string::npos) << html;
  EXPECT_EQ(html.find("Coupons off"), std::string::npos) << html;
  EXPECT_EQ(html.find("Gifts off"), std::string::npos) << html;
  auto json = nlohmann::json::parse(f->Render(StatusPageFactory::Format::kJson, "", "", now_));
  ASSERT_EQ(json["incidents"].size(), 3u) << json.dump();
  EXPECT_EQ(json["incidents"][0]["feature"], "checkout");
  EXPECT_EQ(json["incidents"][0]["until"], "2026-11-23T14:00:00Z");
  EXPECT_EQ(json["incidents"][2]["starts_at"], "2026-11-24T02:00:00Z") << json.dump();
}

TEST_F(StatusPageTest, ConfigBannerCounts) {
  config_.banner.enabled = true;
  config_.banner.message = "Sale ends tonight";
  std::vector<Notice> incidents = CurrentNotices(config_, state_.Get(), now_);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].message, "Sale ends tonight");
  EXPECT_FALSE(incidents[0].since);
}

}  // namespace
}  // namespace tidegate::status

namespace tidegate::status {
namespace {

// A crowd on the status page costs one render per second and state version,
// never a stale page: a new state or the next second renders again.
TEST_F(StatusPageTest, BodiesAreReusedWithinASecondOfOneStateVersion) {
  auto f = Factory();
  auto first = f->Cached(StatusPageFactory::Format::kHtml, "en", "http://shop", now_);
  EXPECT_EQ(f->Cached(StatusPageFactory::Format::kHtml, "en-GB", "http://other", now_), first);
  EXPECT_NE(f->Cached(StatusPageFactory::Format::kHtml, "fr", "http://shop", now_), first);
  EXPECT_EQ(*first, f->Render(StatusPageFactory::Format::kHtml, "en", "http://shop", now_));

  state::RuntimeState s;
  s.version = 7;
  state::BannerOverride b;
  b.message = "High demand";
  s.banner = b;
  Publish(s);
  auto changed = f->Cached(StatusPageFactory::Format::kHtml, "en", "http://shop", now_);
  EXPECT_NE(changed, first);
  EXPECT_NE(changed->find("High demand"), std::string::npos) << *changed;
  auto later = f->Cached(StatusPageFactory::Format::kHtml, "en", "http://shop",
                         now_ + std::chrono::seconds(1));
  EXPECT_NE(later, changed) << "the next second renders again (times, late updates)";

  // The feed names the request's host; clients choose hosts, the cache stays bounded.
  for (int i = 0; i < 100; ++i) {
    auto feed =
        f->Cached(StatusPageFactory::Format::kAtom, "", "http://h" + std::to_string(i), now_);
    EXPECT_NE(feed->find("http://h" + std::to_string(i) + "/.tidegate/status"), std::string::npos);
  }
}

}  // namespace
}  // namespace tidegate::status
