// The queue page shows what every other page shows (issue 12): the open
// incident (title, status, latest message, next update, status link), or
// else the banner in force; nothing when nothing is in force.
#include "queue/queue_page_notice.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <nlohmann/json.hpp>

#include "common/rfc3339.h"
#include "queue/queue_page.h"
#include "queue/queue_reply.h"

namespace tidegate::queue {
namespace {

common::TimePoint At(const char* rfc3339) { return *common::ParseRfc3339(rfc3339); }

class QueuePageNoticeTest : public ::testing::Test {
 protected:
  QueuePageNoticeTest() : state_(std::make_shared<const state::RuntimeState>()) {
    setenv("TZ", "Europe/Paris", 1);
    tzset();
  }
  ~QueuePageNoticeTest() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }

  static state::Incident Incident() {
    state::Incident i;
    i.id = "inc-9";
    i.title = "Payments <failing>";
    i.impact = state::IncidentImpact::kMajorOutage;
    i.started_at = At("2026-12-05T13:00:00Z");
    state::IncidentUpdate u;
    u.at = i.started_at;
    u.message = "We are on it";
    u.next_update_at = At("2026-12-05T13:30:00Z");
    i.updates.push_back(u);
    return i;
  }

  std::string QueuedPage(pages::Language language) {
    std::string error;
    auto notice = std::make_shared<const QueuePageNotice>(config_, &state_, time_);
    auto page = QueuePage::Build(config_.site, "shop", 5, &error, 0, notice);
    EXPECT_TRUE(page) << error;
    QueuePageValues values;
    values.position = 3;
    values.self_url = "/";
    return page ? page->Render(language, PageKind::kQueued, values) : "";
  }

  config::Config config_;
  proxy::Published<state::RuntimeState> state_;
  common::FakeTimeSource time_{At("2026-12-05T13:10:00Z")};
};

TEST_F(QueuePageNoticeTest, NothingInForceWritesNothing) {
  std::string html = QueuedPage(pages::Language::kEnglish);
  EXPECT_EQ(html.find("<section class=\"tg-notice"), std::string::npos);
  EXPECT_EQ(html.find("@@TG_NOTICE@@"), std::string::npos) << "the marker never leaks";
  EXPECT_EQ(html.find("<section"), std::string::npos) << html;
}

TEST_F(QueuePageNoticeTest, OpenIncidentIsShownOnTheQueuePage) {
  state::RuntimeState s;
  s.incidents = {Incident()};
  state_.Publish(std::make_shared<const state::RuntimeState>(s));
  std::string html = QueuedPage(pages::Language::kEnglish);
  EXPECT_NE(html.find("<section class=\"tg-notice tg-notice--major_outage\" aria-label=\"Current "
                      "incident\"><p><strong>Payments &lt;failing&gt;</strong> · "
                      "Investigating</p><p>We are on it</p>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("Next update at <time datetime=\"2026-12-05T14:30:00+01:00\">14:30</time> "
                      "CET"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<a href=\"/.tidegate/status\">Service status</a>"), std::string::npos);
  EXPECT_NE(html.find("You are number 3 in line."), std::string::npos) << "the page is intact";

  time_.SetWall(At("2026-12-05T13:40:00Z"));
  html = QueuedPage(pages::Language::kFrench);
  EXPECT_NE(html.find("tg-notice__late\">La mise à jour est en retard"), std::string::npos) << html;
  EXPECT_NE(html.find("aria-label=\"Incident en cours\""), std::string::npos) << html;
}

TEST_F(QueuePageNoticeTest, BannerIsShownWhenNoIncidentIsOpen) {
  state::RuntimeState s;
  state::BannerOverride b;
  b.message = "Very high demand";
  b.severity = "warning";
  s.banner = b;
  state_.Publish(std::make_shared<const state::RuntimeState>(s));
  std::string html = QueuedPage(pages::Language::kEnglish);
  EXPECT_NE(html.find("<section class=\"tg-notice tg-notice--warning\" aria-label=\"Notice\">"
                      "<p>Very high demand</p></section>"),
            std::string::npos)
      << html;

  // A configured banner counts as well, and links the shop's status page.
  state_.Publish(std::make_shared<const state::RuntimeState>());
  config_.banner.enabled = true;
  config_.banner.message = "Sale ends tonight";
  config_.site.status_page_url = "https://status.example/";
  html = QueuedPage(pages::Language::kFrench);
  EXPECT_NE(html.find("<p>Sale ends tonight</p><p><a href=\"https://status.example/\">État du "
                      "service</a></p>"),
            std::string::npos)
      << html;
}

// The HTML is kept per worker thread between pages: a new state (an update)
// shows at once, the same minute, on the same page object.
TEST_F(QueuePageNoticeTest, AnUpdateShowsAtOnce) {
  std::string error;
  auto notice = std::make_shared<const QueuePageNotice>(config_, &state_, time_);
  auto page = QueuePage::Build(config_.site, "shop", 5, &error, 0, notice);
  ASSERT_TRUE(page) << error;
  QueuePageValues values;
  state::RuntimeState s;
  s.version = 1;
  s.incidents = {Incident()};
  state_.Publish(std::make_shared<const state::RuntimeState>(s));
  EXPECT_NE(page->Render(pages::Language::kEnglish, PageKind::kQueued, values).find("We are on it"),
            std::string::npos);
  s.version = 2;
  s.incidents[0].updates.back().message = "A fix is being deployed";
  state_.Publish(std::make_shared<const state::RuntimeState>(s));
  std::string html = page->Render(pages::Language::kEnglish, PageKind::kQueued, values);
  EXPECT_NE(html.find("A fix is being deployed"), std::string::npos) << html;
  EXPECT_EQ(html.find("We are on it"), std::string::npos) << html;
  s.version = 3;
  s.incidents.clear();
  state_.Publish(std::make_shared<const state::RuntimeState>(s));
  html = page->Render(pages::Language::kEnglish, PageKind::kQueued, values);
  EXPECT_EQ(html.find("<section class=\"tg-notice"), std::string::npos) << html;
}

// The queue page's poll (GET /.tidegate/queue) carries the notice in force
// as `shop_notice`, so a waiting shopper sees an incident update without
// reloading; null when nothing is in force (the page then removes it).
class QueueNoticeJsonTest : public QueuePageNoticeTest {
 protected:
  nlohmann::json Poll(pages::Language language) {
    std::string error;
    auto notice = std::make_shared<const QueuePageNotice>(config_, &state_, time_);
    CompiledRoom room;
    room.config.name = "shop";
    room.page = QueuePage::Build(config_.site, "shop", 5, &error, 0, notice);
    EXPECT_TRUE(room.page) << error;
    Visit v;
    v.outcome = Visit::Outcome::kQueued;
    v.position = 3;
    Reply r = StatusReply(&room, v, language, 0);
    nlohmann::json j = nlohmann::json::parse(r.body);
    // The queue page's own JSON (Accept: application/json) says the same.
    Reply q = QueuedReply(room, v, language, true, "/", 0);
    EXPECT_EQ(nlohmann::json::parse(q.body)["shop_notice"], j["shop_notice"]);
    return j;
  }
};

TEST_F(QueueNoticeJsonTest, NullWhenNothingIsInForce) {
  nlohmann::json j = Poll(pages::Language::kEnglish);
  ASSERT_TRUE(j.contains("shop_notice")) << j.dump();
  EXPECT_TRUE(j["shop_notice"].is_null()) << j.dump();
  EXPECT_EQ(j["position"], 3);
}

TEST_F(QueueNoticeJsonTest, HeadlineIncidentWithItsLatestUpdate) {
  state::RuntimeState s;
  s.version = 1;
  s.incidents = {Incident()};
  state_.Publish(std::make_shared<const state::RuntimeState>(s));
  nlohmann::json n = Poll(pages::Language::kEnglish)["shop_notice"];
  ASSERT_TRUE(n.is_object());
  EXPECT_EQ(n["kind"], "incident");
  EXPECT_EQ(n["id"], "inc-9");
  EXPECT_EQ(n["title"], "Payments <failing>");
  EXPECT_EQ(n["status"], "investigating");
  EXPECT_EQ(n["impact"], "major_outage");
  EXPECT_EQ(n["message"], "We are on it");
  EXPECT_EQ(n["next_update_at"], "2026-12-05T13:30:00Z");
  EXPECT_EQ(n["late"], false);
  EXPECT_EQ(n["status_url"], "/.tidegate/status");
  // What the page shows at {{notice}}, escaped.
  EXPECT_EQ(n["html"].get<std::string>().find("<section class=\"tg-notice tg-notice--major_outage"),
            0u);
  EXPECT_NE(n["html"].get<std::string>().find("Payments &lt;failing&gt;"), std::string::npos);

  // An update shows on the next poll; a promise that passed is late.
  s.version = 2;
  s.incidents[0].updates.back().message = "A fix is being deployed";
  state_.Publish(std::make_shared<const state::RuntimeState>(s));
  time_.SetWall(At("2026-12-05T13:40:00Z"));
  n = Poll(pages::Language::kFrench)["shop_notice"];
  EXPECT_EQ(n["message"], "A fix is being deployed");
  EXPECT_EQ(n["late"], true);
  EXPECT_NE(n["html"].get<std::string>().find("tg-notice__late"), std::string::npos);

  // Resolved: null again.
  s.version = 3;
  s.incidents.clear();
  state_.Publish(std::make_shared<const state::RuntimeState>(s));
  EXPECT_TRUE(Poll(pages::Language::kEnglish)["shop_notice"].is_null());
}

TEST_F(QueueNoticeJsonTest, BannerWhenNoIncidentIsOpen) {
  state::RuntimeState s;
  state::BannerOverride b;
  b.message = "Very high demand";
  b.severity = "warning";
  s.banner = b;
  state_.Publish(std::make_shared<const state::RuntimeState>(s));
  nlohmann::json n = Poll(pages::Language::kEnglish)["shop_notice"];
  ASSERT_TRUE(n.is_object());
  EXPECT_EQ(n["kind"], "banner");
  EXPECT_EQ(n["severity"], "warning");
  EXPECT_EQ(n["message"], "Very high demand");
  EXPECT_TRUE(n["next_update_at"].is_null());
  EXPECT_EQ(n["late"], false);
  EXPECT_TRUE(n["status_url"].is_null()) << "no status page configured, no incident";
}

// Outcomes after which the page stops polling carry no notice.
TEST_F(QueueNoticeJsonTest, OnlyWhileThePagePolls) {
  state::RuntimeState s;
  s.incidents = {Incident()};
  state_.Publish(std::make_shared<const state::RuntimeState>(s));
  std::string error;
  auto notice = std::make_shared<const QueuePageNotice>(config_, &state_, time_);
  CompiledRoom room;
  room.config.name = "shop";
  room.page = QueuePage::Build(config_.site, "shop", 5, &error, 0, notice);
  ASSERT_TRUE(room.page) << error;
  Visit v;
  v.outcome = Visit::Outcome::kNotQueued;
  v.admitted = true;
  nlohmann::json j =
      nlohmann::json::parse(StatusReply(&room, v, pages::Language::kEnglish, 0).body);
  EXPECT_FALSE(j.contains("shop_notice")) << j.dump();
  v.outcome = Visit::Outcome::kUnavailable;
  j = nlohmann::json::parse(StatusReply(&room, v, pages::Language::kEnglish, 0).body);
  EXPECT_EQ(j["shop_notice"]["kind"], "incident");
}

}  // namespace
}  // namespace tidegate::queue
