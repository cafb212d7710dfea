#include "queue/queue_page.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "common/base64url.h"
#include "pages/local_time.h"
#include "queue/room_events.h"

namespace tidegate::queue {
namespace {

using pages::Language;

QueuePage Page() {
  config::SiteConfig site;
  site.name = "Tide & Co";
  std::string error;
  std::optional<QueuePage> page = QueuePage::Build(site, "shop", 5, &error);
  EXPECT_TRUE(page) << error;
  return *page;
}

// Values are checked for HTML specials eight bytes at a time: a special
// byte anywhere in a long link is still escaped.
TEST(QueuePageTest, EscapesASpecialByteAtAnyOffsetOfTheLink) {
  QueuePage page = Page();
  const std::string base = "/collections/summer-sale/products/linen-shirt-blue";
  for (size_t at = 1; at <= base.size(); ++at) {
    for (char special : {'&', '<', '>', '"', '\''}) {
      QueuePageValues v;
      v.wait = {60, 180};
      std::string link = base;
      link.insert(at, 1, special);
      v.self_url = link;
      std::string html = page.Render(Language::kEnglish, false, v);
      EXPECT_EQ(html.find("href=\"" + link + "\""), std::string::npos) << link;
      EXPECT_NE(html.find("href=\"" + base.substr(0, at)), std::string::npos) << link;
    }
  }
}

TEST(QueuePageTest, FillsPerVisitorValuesIntoThePreRenderedPage) {
  QueuePage page = Page();
  QueuePageValues v;
  v.position = 17;
  v.wait = {60, 180};
  v.now_ms = 1'700'000'000'000;
  v.progress = 40;
  v.self_url = "/cart?x=\"<script>";
  std::string html = page.Render(Language::kEnglish, false, v);
  EXPECT_LT(html.size(), 20'000u);
  EXPECT_NE(html.find("<dd id=\"tg-position\">17</dd>"), std::string::npos);
  EXPECT_NE(html.find("1 to 3 min"), std::string::npos);
  EXPECT_NE(html.find("value=\"40\""), std::string::npos);
  EXPECT_NE(html.find("Tide &amp; Co"), std::string::npos) << "escaped";
  EXPECT_NE(html.find("href=\"/cart?x=&quot;&lt;script&gt;\""), std::string::npos);
  EXPECT_NE(html.find("data-poll=\"/.tidegate/queue?room=shop\""), std::string::npos);
  EXPECT_NE(html.find("aria-live=\"polite\""), std::string::npos);
  EXPECT_EQ(html.find("http-equiv"), std::string::npos) << "no meta refresh";
  EXPECT_EQ(html.find("@@TG_"), std::string::npos) << "every marker replaced";
  EXPECT_EQ(html.find("src=\"http"), std::string::npos) << "no external resources";
}

// Whether the door is narrowed by auto-protection or held at the merchant's
// own limit, the page says the same true thing: the shop limits entry (it
// never claims a rush that may not exist).
TEST(QueuePageTest, SaysTheShopIsLimitingEntry) {
  QueuePage page = Page();
  EXPECT_NE(page.Render(Language::kEnglish, false, {}).find("The shop is limiting how many"),
            std::string::npos);
  EXPECT_NE(page.Render(Language::kFrench, false, {}).find("La boutique limite le nombre"),
            std::string::npos);
  EXPECT_EQ(page.Render(Language::kEnglish, false, {}).find("very busy"), std::string::npos);
}

TEST(QueuePageTest, FrenchAndClosedVariants) {
  QueuePage page = Page();
  std::string fr = page.Render(Language::kFrench, false, {});
  EXPECT_NE(fr.find("lang=\"fr\""), std::string::npos);
  EXPECT_NE(fr.find("Vérifier à nouveau"), std::string::npos);
  std::string closed = page.Render(Language::kEnglish, true, {});
  EXPECT_NE(closed.find("Sales are closed"), std::string::npos);
  EXPECT_EQ(closed.find("<script>"), std::string::npos);
}

TEST(QueuePageTest, CspAllowsExactlyTheInlineScriptByHash) {
  QueuePage page = Page();
  std::string html = page.Render(Language::kEnglish, false, {});
  size_t start = html.find("<script>") + 8;
  size_t end = html.find("</script>");
  std::string script = html.substr(start, end - start);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(script.data()), script.size(), digest);
  std::string b64 = common::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), 32));
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  b64 += "=";
  const std::string& csp = page.Csp(Language::kEnglish, false);
  EXPECT_NE(csp.find("script-src 'sha256-" + b64 + "'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos);
}

// The page formats its times itself (no printf per request): the same
// texts as pages::FormatClock / FormatIsoLocal / ZoneAbbreviation, in the
// process's time zone.
TEST(QueuePageTest, TimesMatchThePagesFormatters) {
  QueuePage page = Page();
  for (int64_t ms : {int64_t{0}, int64_t{1'700'000'000'000}, int64_t{1'763'900'000'999},
                     int64_t{1'711'846'799'000}, int64_t{4'102'444'799'000}}) {
    QueuePageValues v;
    v.now_ms = ms;
    std::string html = page.Render(Language::kEnglish, false, v);
    pages::WallTime t{std::chrono::milliseconds(ms)};
    EXPECT_NE(html.find("datetime=\"" + pages::FormatIsoLocal(t) + "\">" + pages::FormatClock(t) +
                        " " + pages::ZoneAbbreviation(t) + "</time>"),
              std::string::npos)
        << ms << ": " << html.substr(html.find("<time"), 80);
  }
}

// Values with every field set and a link that needs escaping.
QueuePageValues SampleValues(uint64_t position) {
  QueuePageValues v;
  v.position = position;
  v.wait = {90, 600};
  v.now_ms = 1'700'000'000'000;
  v.progress = 7;
  v.self_url = "/p?q=\"<&>'";
  return v;
}

// The served page (RenderBody, written in place by the proxy) is the
// rendered page byte for byte, and says its exact size up front (the
// Content-Length is written before the body).
TEST(QueuePageTest, BodyWrittenInPlaceIsThePageWithItsExactSize) {
  QueuePage page = Page();
  QueuePageValues v = SampleValues(123456);
  for (Language language : {Language::kEnglish, Language::kFrench}) {
    for (PageKind kind : {PageKind::kQueued, PageKind::kClosed}) {
      PageBody body = page.RenderBody(language, kind, v);
      std::string written(body.size() + 8, '#');
      body.WriteTo(written.data());
      EXPECT_EQ(written.substr(body.size()), "########") << "wrote past size()";
      written.resize(body.size());
      EXPECT_EQ(written, page.Render(language, kind, v));
      if (kind == PageKind::kQueued) {
        EXPECT_NE(written.find("123456"), std::string::npos);
      }
      EXPECT_EQ(written.find("@@TG_"), std::string::npos);
    }
  }
}

// A body holds its own copy of the visitor's values, short ones in place
// and long ones (a long link) on the heap: a body rendered later on the
// same thread, or a move, changes nothing in it.
TEST(QueuePageTest, EveryBodyKeepsItsOwnValuesShortOrLong) {
  QueuePage page = Page();
  QueuePageValues short_values = SampleValues(11);
  std::string long_link = "/" + std::string(600, 'a') + "?q=<&>";
  QueuePageValues long_values = SampleValues(22);
  long_values.self_url = long_link;
  std::string short_page = page.Render(Language::kEnglish, PageKind::kQueued, short_values);
  std::string long_page = page.Render(Language::kEnglish, PageKind::kQueued, long_values);
  EXPECT_NE(long_page.find("/" + std::string(600, 'a') + "?q=&lt;&amp;&gt;"), std::string::npos);
  PageBody first = page.RenderBody(Language::kEnglish, PageKind::kQueued, short_values);
  PageBody second = page.RenderBody(Language::kEnglish, PageKind::kQueued, long_values);
  PageBody third = page.RenderBody(Language::kEnglish, PageKind::kQueued, short_values);
  PageBody moved = std::move(second);
  EXPECT_EQ(first.ToString(), short_page);
  EXPECT_EQ(moved.ToString(), long_page);
  EXPECT_EQ(third.ToString(), short_page);
  EXPECT_EQ(moved.size(), long_page.size());
  std::string copy(moved.size(), '#');
  std::string_view views[16];
  int n = moved.Gather(1024, copy.data(), views, 16);
  ASSERT_GT(n, 0);
  std::string joined;
  for (int i = 0; i < n; ++i) joined.append(views[i]);
  EXPECT_EQ(joined, long_page);
}

// Gather (the proxy's writev of the page, Stream::WriteLocalDirect): the
// same bytes as the page, the large literal parts as views of the page
// itself (not copied), everything else copied into the caller's buffer,
// within size() bytes; -1 when the views do not fit.
TEST(QueuePageTest, GatherGivesThePageWithItsLargePartsUncopied) {
  QueuePage page = Page();
  QueuePageValues v = SampleValues(42);
  for (Language language : {Language::kEnglish, Language::kFrench}) {
    for (PageKind kind : {PageKind::kQueued, PageKind::kClosed}) {
      PageBody body = page.RenderBody(language, kind, v);
      std::string copy(body.size() + 8, '#');
      std::string_view views[16];
      int n = body.Gather(1024, copy.data(), views, 16);
      ASSERT_GT(n, 0);
      std::string joined;
      size_t referenced = 0;
      for (int i = 0; i < n; ++i) {
        joined.append(views[i]);
        bool in_copy = views[i].data() >= copy.data() &&
                       views[i].data() + views[i].size() <= copy.data() + copy.size();
        if (!in_copy) {
          EXPECT_GE(views[i].size(), 1024u) << "a small piece was not copied";
          referenced += views[i].size();
        }
      }
      EXPECT_EQ(joined, page.Render(language, kind, v));
      EXPECT_GT(referenced, body.size() / 2) << "the page's literal parts were copied";
      EXPECT_EQ(copy.substr(body.size()), "########") << "copied past size()";
      EXPECT_EQ(body.Gather(1024, copy.data(), views, 1), -1);
      // Nothing large enough to reference: the whole page is copied, as one view.
      ASSERT_EQ(body.Gather(SIZE_MAX, copy.data(), views, 16), 1);
      EXPECT_EQ(views[0], page.Render(language, kind, v));
    }
  }
}

// The local time is converted once per second (and zone): a change of
// second or of TZ shows at once.
TEST(QueuePageTest, TimeFollowsTheSecondAndTheZone) {
  QueuePage page = Page();
  QueuePageValues v;
  v.now_ms = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
  const char* old = getenv("TZ");
  std::string saved = old ? old : "";
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_NE(page.Render(Language::kEnglish, false, v).find("2023-11-14T22:13:20+00:00"),
            std::string::npos);
  v.now_ms += 1000;
  EXPECT_NE(page.Render(Language::kEnglish, false, v).find("2023-11-14T22:13:21+00:00"),
            std::string::npos);
  setenv("TZ", "Europe/Paris", 1);
  tzset();
  EXPECT_NE(page.Render(Language::kEnglish, false, v).find("2023-11-14T23:13:21+01:00"),
            std::string::npos);
  if (old) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

TEST(QueuePageTest, WaitTexts) {
  EXPECT_EQ(QueuePage::WaitText({0, 10}, Language::kEnglish), "less than a minute");
  EXPECT_EQ(QueuePage::WaitText({30, 120}, Language::kFrench), "moins de 2 min");
  EXPECT_EQ(QueuePage::WaitText({300, 600}, Language::kEnglish), "5 to 10 min");
  EXPECT_EQ(QueuePage::WaitText({300, 601}, Language::kFrench), "5 à 11 min");
  EXPECT_EQ(QueuePage::WaitText({59, 61}, Language::kEnglish), "under 2 min");
}

// Audit F4: no range of a day, and a line that stopped is said to have
// stopped (queue/eta.h, WaitRange), in both languages.
TEST(QueuePageTest, WaitTextsBeyondFourHoursAndForAStoppedLine) {
  WaitRange beyond = EstimateWait(141, 0);
  EXPECT_EQ(QueuePage::WaitText(beyond, Language::kEnglish), "more than 4 hours");
  EXPECT_EQ(QueuePage::WaitText(beyond, Language::kFrench), "plus de 4 heures");
  WaitRange stopped{.low_seconds = 600, .high_seconds = 900, .stalled = true};
  EXPECT_EQ(QueuePage::WaitText(stopped, Language::kEnglish),
            "unknown: the line is not moving at the moment");
  EXPECT_EQ(QueuePage::WaitText(stopped, Language::kFrench),
            "inconnue : la file n'avance plus pour le moment");
  // The page's per-thread cache tells them from the same range moving.
  QueuePage page = Page();
  QueuePageValues v;
  v.position = 3;
  v.wait = {.low_seconds = 600, .high_seconds = 900};
  std::string a = page.Render(Language::kEnglish, false, v);
  v.wait = stopped;
  std::string b = page.Render(Language::kEnglish, false, v);
  EXPECT_NE(a.find("10 to 15 min"), std::string::npos);
  EXPECT_NE(b.find("the line is not moving"), std::string::npos);
}

// The page's wait text is made once per range and language and thread
// (queue_page_render.cc): pages rendered one after the other with ranges
// and languages changing in every way each show their own text, escaped.
TEST(QueuePageTest, EachPageShowsItsOwnWaitWhatEverCameBefore) {
  QueuePage page = Page();
  struct Case {
    WaitRange wait;
    Language language;
    std::string_view text;
  };
  const Case cases[] = {
      {{300, 600}, Language::kEnglish, "5 to 10 min"},
      {{300, 600}, Language::kFrench, "5 à 10 min"},
      {{300, 601}, Language::kFrench, "5 à 11 min"},
      {{240, 601}, Language::kFrench, "4 à 11 min"},
      {{0, 10}, Language::kFrench, "moins d&#39;une minute"},
      {{0, 10}, Language::kEnglish, "less than a minute"},
      {{30, 120}, Language::kEnglish, "under 2 min"},
      {{300, 600}, Language::kEnglish, "5 to 10 min"},
  };
  for (int round = 0; round < 2; ++round) {
    for (const Case& c : cases) {
      QueuePageValues v;
      v.position = 9;
      v.wait = c.wait;
      std::string html = page.Render(c.language, false, v);
      size_t at = html.find("<dd id=\"tg-wait\">");
      ASSERT_NE(at, std::string::npos);
      at += std::string_view("<dd id=\"tg-wait\">").size();
      EXPECT_EQ(html.substr(at, html.find('<', at) - at), c.text)
          << c.wait.low_seconds << "-" << c.wait.high_seconds;
    }
  }
}

std::string ScriptHash(const std::string& html) {
  size_t start = html.find("<script>") + 8;
  std::string script = html.substr(start, html.find("</script>") - start);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(script.data()), script.size(), digest);
  std::string b64 = common::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), 32));
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  return "'sha256-" + b64 + "='";
}

// join_challenge = "pow": the page carries the visitor's challenge and the
// room's bits, says what happens in a live region, explains itself without
// JavaScript, and its CSP lets its own script start the solving worker.
TEST(QueuePageTest, ChallengePageCarriesTheChallengeAndAllowsItsWorker) {
  config::SiteConfig site;
  std::string error;
  std::optional<QueuePage> page = QueuePage::Build(site, "shop", 5, &error, 12);
  ASSERT_TRUE(page) << error;
  QueuePageValues v;
  v.challenge = "k1.Y3xzaG9w.bWFj";
  std::string html = page->Render(Language::kEnglish, PageKind::kChallenge, v);
  EXPECT_LT(html.size(), 20'000u);
  EXPECT_NE(html.find("data-challenge=\"k1.Y3xzaG9w.bWFj\" data-bits=\"12\""), std::string::npos)
      << html;
  EXPECT_NE(html.find("<div id=\"tg-live\" role=\"status\" aria-live=\"polite\">Your browser is "
                      "getting your place in line"),
            std::string::npos);
  EXPECT_NE(html.find("<progress id=\"tg-progress\""), std::string::npos);
  EXPECT_NE(html.find("<noscript><p id=\"tg-noscript\">This queue asks your browser"),
            std::string::npos);
  EXPECT_EQ(html.find("id=\"tg-position\""), std::string::npos) << "no place yet";
  EXPECT_EQ(html.find("@@TG_"), std::string::npos);
  const std::string& csp = page->Csp(Language::kEnglish, PageKind::kChallenge);
  EXPECT_NE(csp.find("script-src " + ScriptHash(html) + ";"), std::string::npos) << csp;
  EXPECT_NE(csp.find("worker-src blob:"), std::string::npos) << csp;
  EXPECT_EQ(page->Csp(Language::kEnglish, PageKind::kQueued).find("worker-src"), std::string::npos)
      << "only the challenge page may start a worker";
  std::string fr = page->Render(Language::kFrench, PageKind::kChallenge, v);
  EXPECT_NE(fr.find("Votre navigateur obtient votre place"), std::string::npos);
}

TEST(QueuePageTest, RefusedPageSaysWhyAndRunsNoScript) {
  QueuePage page = Page();
  QueuePageValues v;
  std::string message = QueuePage::RateLimitedMessage(42, Language::kEnglish);
  v.message = message;
  v.self_url = "/cart";
  std::string html = page.Render(Language::kEnglish, PageKind::kRefused, v);
  EXPECT_NE(html.find("role=\"status\" aria-live=\"polite\">Too many places in line were asked "
                      "for from your network in the last minute. Try again in 42 seconds."),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("href=\"/cart\""), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos) << "no polling loop on a refusal";
}

// A merchant template written before the challenge existed still works: the
// challenge and refused pages come from the built-in template.
TEST(QueuePageTest, MerchantTemplateWithoutTheNewSlotsFallsBackForThem) {
  char dir[] = "/tmp/tidegate-queue-page-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::ofstream(std::string(dir) + "/queue.html")
      << "<html><body><p>Merchant {{position}}</p>{{#closed}}closed{{/closed}}</body></html>";
  config::SiteConfig site;
  site.templates_dir = dir;
  std::string error;
  std::optional<QueuePage> page = QueuePage::Build(site, "shop", 5, &error, 10);
  ASSERT_TRUE(page) << error;
  QueuePageValues v;
  v.position = 3;
  v.challenge = "k1.a.b";
  EXPECT_NE(page->Render(Language::kEnglish, PageKind::kQueued, v).find("Merchant 3"),
            std::string::npos);
  std::string challenge = page->Render(Language::kEnglish, PageKind::kChallenge, v);
  EXPECT_NE(challenge.find("data-challenge=\"k1.a.b\""), std::string::npos) << challenge;
  std::remove((std::string(dir) + "/queue.html").c_str());
  rmdir(dir);
}

// A time to come carries the zone, and the date when it is not today. Audit
// 20 F6: an event starting at 14:30:58 read "opens at 14:31; everyone who
// arrives before then gets a place drawn", untrue from 14:30:58 to 14:31:
// off a whole minute the seconds are shown (the milliseconds dropped).
TEST(QueuePageTest, ComingTimesShowSecondsOffTheMinuteAndSayTheirZone) {
  setenv("TZ", "Europe/Paris", 1);
  tzset();
  const int64_t now = 1'764'943'200'000;  // 2025-12-05T14:00:00Z (15:00 CET)
  EXPECT_EQ(QueuePage::ComingTimeText(now + 30 * 60'000 + 58'000, now, Language::kEnglish),
            "15:30:58 CET");
  EXPECT_EQ(QueuePage::ComingTimeText(now + 30 * 60'000 + 58'700, now, Language::kEnglish),
            "15:30:58 CET");
  EXPECT_EQ(QueuePage::ComingTimeText(now + 24 * 3'600'000 + 18'000, now, Language::kFrench),
            "6 déc. 15:00:18 CET");
  EXPECT_EQ(PrequeueMessage(now + 66 * 60'000 + 18'000, now, Language::kEnglish),
            "The sale opens at 16:06:18 CET. Everyone who arrives before then gets a place drawn "
            "at random at 16:06:18 CET; keep this page open.");
  EXPECT_EQ(QueuePage::ComingTimeText(now + 31 * 60'000, now, Language::kEnglish), "15:31 CET");
  EXPECT_EQ(QueuePage::ComingTimeText(now + 24 * 3'600'000, now, Language::kEnglish),
            "6 Dec 15:00 CET");
  EXPECT_EQ(QueuePage::ClockText(now), "15:00 CET");
  setenv("TZ", "UTC", 1);
  tzset();
}

}  // namespace
}  // namespace tidegate::queue
