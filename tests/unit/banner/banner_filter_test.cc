#include "banner/banner_filter.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <stdlib.h>
#include <time.h>
#include <zlib.h>

#include <string>

#include "common/rfc3339.h"
#include "common/time_source.h"
#include "proxy/libevent_handles.h"
#include "tests/support/inflate.h"
#include "tests/unit/proxy/fake_filter_callbacks.h"

namespace tidegate::banner {
namespace {

using FakeCallbacks = proxy::testing::FakeFilterCallbacks;

proxy::RequestHead Get(const std::string& target, const std::string& accept_language = "") {
  proxy::RequestHead head;
  head.method = "GET";
  head.target = target;
  head.headers.Add("Accept", "text/html,*/*;q=0.8");
  head.headers.Add("Accept-Encoding", "gzip, br");
  if (!accept_language.empty()) head.headers.Add("Accept-Language", accept_language);
  return head;
}

proxy::ResponseHead Html200() {
  proxy::ResponseHead head;
  head.status = 200;
  head.framing = proxy::BodyFraming::kContentLength;
  head.content_length = 40;
  head.headers.Add("Content-Type", "text/html");
  head.headers.Add("ETag", "\"abc\"");
  head.headers.Add("Content-MD5", "xyz");
  head.headers.Add("Accept-Ranges", "bytes");
  return head;
}

std::string Body(proxy::StreamFilter& filter, const std::string& page) {
  proxy::EvbufferPtr buf(evbuffer_new());
  evbuffer_add(buf.get(), page.data(), page.size());
  filter.OnResponseBody(buf.get(), true);
  std::string out(evbuffer_get_length(buf.get()), '\0');
  evbuffer_remove(buf.get(), out.data(), out.size());
  return out;
}

class BannerFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "Europe/Paris", 1);
    tzset();
  }
  std::unique_ptr<BannerFilterFactory> Factory(const config::Config& config) {
    std::string error;
    auto factory = BannerFilterFactory::Create(config, 2, &state_, time_, &stats_, &error);
    EXPECT_TRUE(factory) << error;
    return factory;
  }
  void SetOverride(const std::string& message, const std::string& severity,
                   std::optional<common::TimePoint> next = std::nullopt,
                   std::optional<common::TimePoint> expires = std::nullopt) {
    auto state = std::make_shared<state::RuntimeState>(*state_.Load());
    state::BannerOverride b;
    b.message = message;
    b.severity = severity;
    b.next_update_at = next;
    b.expires_at = expires;
    state->banner = b;
    state->version++;
    state_.Publish(state);
  }

  proxy::Published<state::RuntimeState> state_{std::make_shared<state::RuntimeState>()};
  // 09:00 in Paris.
  common::FakeTimeSource time_{*common::ParseRfc3339("2030-01-15T08:00:00Z")};
  BannerStats stats_;
  FakeCallbacks callbacks_;
};

TEST_F(BannerFilterTest, NothingInForceChangesNothing) {
  config::Config config;
  auto factory = Factory(config);
  auto filter = factory->CreateFilter(callbacks_);
  proxy::RequestHead request = Get("/");
  EXPECT_EQ(filter->OnRequestHeaders(request), proxy::FilterStatus::kContinue);
  proxy::ResponseHead response = Html200();
  filter->OnResponseHeaders(response);
  EXPECT_FALSE(filter->WantsResponseBody());
  EXPECT_EQ(response.framing, proxy::BodyFraming::kContentLength);
  EXPECT_EQ(*response.headers.Find("ETag"), "\"abc\"");
}

// The filter is made for every forwarded request: a freed one's memory is
// kept for the thread's next one (proxy/thread_recycled.h), not given back
// to malloc. Had it gone back, the plain allocation of its size in between
// would get that block (malloc hands out the last freed block of a size
// class first) and the next filter another one.
TEST_F(BannerFilterTest, TheNextRequestsFilterReusesTheFreedOnesMemory) {
  config::Config config;
  auto factory = Factory(config);
  auto first = factory->CreateFilter(callbacks_);
  void* block = first.get();
  size_t size = malloc_usable_size(block);
  first.reset();
  void* other = ::operator new(size);
  auto second = factory->CreateFilter(callbacks_);
  EXPECT_EQ(second.get(), block);
  EXPECT_NE(other, block);
  ::operator delete(other);
  proxy::RequestHead request = Get("/");
  EXPECT_EQ(second->OnRequestHeaders(request), proxy::FilterStatus::kContinue);
}

TEST_F(BannerFilterTest, ConfigBannerIsInjectedAndHeadIsFixed) {
  config::Config config;
  config.banner.enabled = true;
  config.banner.message = "High demand <b>& \"quotes\"";
  config.banner.severity = "warning";
  config.banner.compressed = config::BannerCompressed::kRecode;
  auto factory = Factory(config);
  auto filter = factory->CreateFilter(callbacks_);
  proxy::RequestHead request = Get("/products/1");
  filter->OnRequestHeaders(request);
  EXPECT_EQ(*request.headers.Find("Accept-Encoding"), "gzip, br");  // recode mode: untouched
  proxy::ResponseHead response = Html200();
  filter->OnResponseHeaders(response);
  ASSERT_TRUE(filter->WantsResponseBody());
  // An identity Content-Length page keeps its framing: the head is held
  // until the tag is found, then its length grows by the insertion.
  EXPECT_EQ(response.framing, proxy::BodyFraming::kContentLength);
  EXPECT_TRUE(filter->HoldResponseHead(response));
  EXPECT_EQ(*response.headers.Find("ETag"), "W/\"abc\"");
  EXPECT_EQ(response.headers.Find("Content-MD5"), nullptr);
  EXPECT_EQ(response.headers.Find("Accept-Ranges"), nullptr);
  const std::string page = "<html><body>x</body></html>";
  std::string out = Body(*filter, page);
  response.content_length = page.size();
  EXPECT_FALSE(filter->HoldResponseHead(response));
  EXPECT_EQ(response.content_length, out.size());
  EXPECT_EQ(response.framing, proxy::BodyFraming::kContentLength);
  EXPECT_EQ(out.find("<html><body><div class=\"tidegate-banner tidegate-banner--warning\" "
                     "role=\"status\""),
            0u)
      << out;
  EXPECT_NE(out.find("High demand &lt;b&gt;&amp; &quot;quotes&quot;"), std::string::npos) << out;
  EXPECT_EQ(out.find("<b>"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 15), "x</body></html>");
  EXPECT_EQ(stats_.injections.load(), 1u);
}

TEST_F(BannerFilterTest, HeldHeadKeepsTheOriginsLengthWithoutATag) {
  config::Config config;
  config.banner.enabled = true;
  config.banner.message = "Hello";
  auto factory = Factory(config);
  auto filter = factory->CreateFilter(callbacks_);
  proxy::RequestHead request = Get("/");
  filter->OnRequestHeaders(request);
  proxy::ResponseHead response = Html200();
  const std::string page = "<html><head><title>no body tag</title></head></html>";
  response.content_length = page.size();
  filter->OnResponseHeaders(response);
  ASSERT_TRUE(filter->WantsResponseBody());
  EXPECT_TRUE(filter->HoldResponseHead(response));
  proxy::EvbufferPtr buf(evbuffer_new());
  evbuffer_add(buf.get(), page.data(), 10);
  filter->OnResponseBody(buf.get(), false);
  EXPECT_TRUE(filter->HoldResponseHead(response));  // not decided yet
  evbuffer_add(buf.get(), page.data() + 10, page.size() - 10);
  filter->OnResponseBody(buf.get(), true);
  EXPECT_FALSE(filter->HoldResponseHead(response));  // the end decides: unchanged
  EXPECT_EQ(response.content_length, page.size());
  EXPECT_EQ(response.framing, proxy::BodyFraming::kContentLength);
}

TEST_F(BannerFilterTest, ChunkedPagesAreNotHeld) {
  config::Config config;
  config.banner.enabled = true;
  config.banner.message = "Hello";
  // (In "compress" mode a chunked page for a gzip client is not held
  // either: it streams through zlib.)
  config.banner.compressed = config::BannerCompressed::kRecode;
  auto factory = Factory(config);
  auto filter = factory->CreateFilter(callbacks_);
  proxy::RequestHead request = Get("/");
  filter->OnRequestHeaders(request);
  proxy::ResponseHead response = Html200();
  response.framing = proxy::BodyFraming::kChunked;
  filter->OnResponseHeaders(response);
  ASSERT_TRUE(filter->WantsResponseBody());
  EXPECT_EQ(response.framing, proxy::BodyFraming::kChunked);
  EXPECT_FALSE(filter->HoldResponseHead(response));
}

TEST_F(BannerFilterTest, SmallGzipPageGetsTheRecodedLength) {
  config::Config config;
  config.banner.enabled = true;
  config.banner.message = "Hello";
  auto factory = Factory(config);
  auto filter = factory->CreateFilter(callbacks_);
  proxy::RequestHead request = Get("/");
  filter->OnRequestHeaders(request);
  proxy::ResponseHead response = Html200();
  response.headers.Add("Content-Encoding", "gzip");
  filter->OnResponseHeaders(response);
  ASSERT_TRUE(filter->WantsResponseBody());
  EXPECT_EQ(response.framing, proxy::BodyFraming::kChunked);  // unless recoded whole
  EXPECT_TRUE(filter->HoldResponseHead(response));
  // gzip of "<html><body>x</body></html>" (one member, level 1).
  std::string page = "<html><body>x</body></html>";
  z_stream z{};
  ASSERT_EQ(deflateInit2(&z, 1, Z_DEFLATED, MAX_WBITS + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string gz(deflateBound(&z, page.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(page.data());
  z.avail_in = static_cast<uInt>(page.size());
  z.next_out = reinterpret_cast<Bytef*>(gz.data());
  z.avail_out = static_cast<uInt>(gz.size());
  ASSERT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  gz.resize(z.total_out);
  deflateEnd(&z);
  proxy::EvbufferPtr buf(evbuffer_new());
  evbuffer_add(buf.get(), gz.data(), 5);
  filter->OnResponseBody(buf.get(), false);
  EXPECT_TRUE(filter->HoldResponseHead(response));
  evbuffer_add(buf.get(), gz.data() + 5, gz.size() - 5);
  filter->OnResponseBody(buf.get(), true);
  EXPECT_FALSE(callbacks_.aborted);
  EXPECT_FALSE(filter->HoldResponseHead(response));
  EXPECT_EQ(response.framing, proxy::BodyFraming::kContentLength);
  EXPECT_EQ(response.content_length, evbuffer_get_length(buf.get()));
  EXPECT_GT(response.content_length, gz.size());  // the banner is in it
}

TEST_F(BannerFilterTest, BanneredPageVariesOnLanguageAndStaysOutOfSharedCaches) {
  config::Config config;
  config.banner.enabled = true;
  config.banner.message = "Hello";
  auto factory = Factory(config);
  {
    auto filter = factory->CreateFilter(callbacks_);
    proxy::RequestHead request = Get("/");
    filter->OnRequestHeaders(request);
    proxy::ResponseHead response = Html200();
    response.headers.Add("Vary", "Accept-Encoding");
    response.headers.Add("Cache-Control", "public, max-age=300, s-maxage=600");
    response.headers.Add("Cache-Control", "no-cache=\"Set-Cookie, X-A\", private=\"X-B\"");
    response.headers.Add("Surrogate-Control", "max-age=3600");
    filter->OnResponseHeaders(response);
    ASSERT_TRUE(filter->WantsResponseBody());
    EXPECT_EQ(*response.headers.Find("Vary"), "Accept-Encoding, Accept-Language");
    EXPECT_EQ(response.headers.Count("Cache-Control"), 1u);
    EXPECT_EQ(*response.headers.Find("Cache-Control"),
              "private, max-age=300, no-cache=\"Set-Cookie, X-A\"");
    EXPECT_EQ(response.headers.Find("Surrogate-Control"), nullptr);
  }
  {
    auto filter = factory->CreateFilter(callbacks_);
    proxy::RequestHead request = Get("/");
    filter->OnRequestHeaders(request);
    proxy::ResponseHead response = Html200();  // no Vary, no Cache-Control
    filter->OnResponseHeaders(response);
    EXPECT_EQ(*response.headers.Find("Vary"), "Accept-Language");
    EXPECT_EQ(*response.headers.Find("Cache-Control"), "private");
  }
  {
    auto filter = factory->CreateFilter(callbacks_);
    proxy::RequestHead request = Get("/");
    filter->OnRequestHeaders(request);
    proxy::ResponseHead response = Html200();
    response.headers.Add("Vary", "*");
    filter->OnResponseHeaders(response);
    EXPECT_EQ(response.headers.Count("Vary"), 1u);
    EXPECT_EQ(*response.headers.Find("Vary"), "*");
  }
  {
    // Several Vary fields, one already naming the language; CDN fields and a
    // weak ETag: one pass over the fields keeps their order.
    auto filter = factory->CreateFilter(callbacks_);
    proxy::RequestHead request = Get("/");
    filter->OnRequestHeaders(request);
    proxy::ResponseHead response = Html200();
    response.headers.mutable_fields().clear();
    response.headers.Add("Content-Type", "text/html");
    response.headers.Add("CDN-Cache-Control", "max-age=60");
    response.headers.Add("Vary", "Accept-Encoding");
    response.headers.Add("ETag", "w/\"weak\"");
    response.headers.Add("Vary", "accept-language");
    response.headers.Add("Accept-Ranges", "bytes");
    filter->OnResponseHeaders(response);
    ASSERT_TRUE(filter->WantsResponseBody());
    std::string order;
    for (const proxy::Header& h : response.headers.fields()) order += h.name + "=" + h.value + ";";
    EXPECT_EQ(order,
              "Content-Type=text/html;Vary=Accept-Encoding;ETag=w/\"weak\";"
              "Vary=accept-language;Cache-Control=private;");
  }
  {
    // Not bannered (JSON): the origin's caching headers stay as they are.
    auto filter = factory->CreateFilter(callbacks_);
    proxy::RequestHead request = Get("/");
    filter->OnRequestHeaders(request);
    proxy::ResponseHead response = Html200();
    response.headers.Set("Content-Type", "application/json");
    response.headers.Add("Cache-Control", "public, max-age=60");
    filter->OnResponseHeaders(response);
    EXPECT_FALSE(filter->WantsResponseBody());
    EXPECT_EQ(*response.headers.Find("Cache-Control"), "public, max-age=60");
    EXPECT_EQ(response.headers.Find("Vary"), nullptr);
  }
}

// A small gzip body is held until its end (banner/gzip_whole_body.h):
// nothing of it went out when it turns out not to decode, so it goes out
// as the origin sent it, without the banner, instead of a 502 (audit 17;
// a larger one streams and is aborted, the client seeing a broken
// transfer). Counted as a decode error.
TEST_F(BannerFilterTest, CorruptSmallGzipGoesOutAsTheOriginSentIt) {
  config::Config config;
  config.banner.enabled = true;
  config.banner.message = "Hello";
  auto factory = Factory(config);
  auto filter = factory->CreateFilter(callbacks_);
  proxy::RequestHead request = Get("/");
  filter->OnRequestHeaders(request);
  proxy::ResponseHead response = Html200();
  response.headers.Add("Content-Encoding", "gzip");
  filter->OnResponseHeaders(response);
  ASSERT_TRUE(filter->WantsResponseBody());
  // A gzip header followed by bytes that are no deflate data.
  std::string bad("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xff\xff\xff", 14);
  proxy::EvbufferPtr buf(evbuffer_new());
  evbuffer_add(buf.get(), bad.data(), bad.size());
  filter->OnResponseBody(buf.get(), false);
  EXPECT_EQ(evbuffer_get_length(buf.get()), 0u);  // held
  filter->OnResponseBody(buf.get(), true);
  EXPECT_FALSE(callbacks_.aborted);
  std::string out(evbuffer_get_length(buf.get()), '\0');
  evbuffer_remove(buf.get(), out.data(), out.size());
  EXPECT_EQ(out, bad);
}

TEST_F(BannerFilterTest, RuntimeOverrideInFrenchWithNextUpdate) {
  config::Config config;
  config.site.status_page_url = "https://status.example/";
  auto factory = Factory(config);
  auto next = common::ParseRfc3339("2030-01-15T13:30:00Z");  // 14:30 in Paris
  SetOverride("Forte affluence", "critical", next);
  auto filter = factory->CreateFilter(callbacks_);
  proxy::RequestHead request = Get("/", "fr-FR,fr;q=0.9,en;q=0.5");
  filter->OnRequestHeaders(request);
  proxy::ResponseHead response = Html200();
  filter->OnResponseHeaders(response);
  std::string out = Body(*filter, "<body>x");
  EXPECT_NE(out.find("role=\"alert\""), std::string::npos) << out;
  EXPECT_NE(out.find("Prochaine mise à jour à"), std::string::npos) << out;
  EXPECT_NE(out.find("14:30</time>"), std::string::npos) << out;
  EXPECT_NE(out.find("href=\"https://status.example/\""), std::string::npos) << out;
  EXPECT_NE(out.find("lang=\"fr\""), std::string::npos) << out;

  // English for another shopper, same state.
  auto english = factory->CreateFilter(callbacks_);
  proxy::RequestHead en_request = Get("/", "en-GB");
  english->OnRequestHeaders(en_request);
  proxy::ResponseHead en_response = Html200();
  english->OnResponseHeaders(en_response);
  std::string en_out = Body(*english, "<body>x");
  EXPECT_NE(en_out.find("Next update at"), std::string::npos) << en_out;
  EXPECT_NE(en_out.find("Forte affluence"), std::string::npos) << en_out;
}

TEST_F(BannerFilterTest, ClearingTheOverrideStopsTheBanner) {
  config::Config config;
  auto factory = Factory(config);
  SetOverride("on", "info");
  {
    auto filter = factory->CreateFilter(callbacks_);
    proxy::RequestHead request = Get("/");
    filter->OnRequestHeaders(request);
    proxy::ResponseHead response = Html200();
    filter->OnResponseHeaders(response);
    EXPECT_TRUE(filter->WantsResponseBody());
  }
  auto cleared = std::make_shared<state::RuntimeState>(*state_.Load());
  cleared->banner.reset();
  cleared->version++;
  state_.Publish(cleared);
  auto filter = factory->CreateFilter(callbacks_);
  proxy::RequestHead request = Get("/");
  filter->OnRequestHeaders(request);
  proxy::ResponseHead response = Html200();
  filter->OnResponseHeaders(response);
  EXPECT_FALSE(filter->WantsResponseBody());
}

TEST_F(BannerFilterTest, IdentityModeRewritesAcceptEncodingForPages) {
  config::Config config;
  config.banner.enabled = true;
  config.banner.message = "m";
  config.banner.compressed = config::BannerCompressed::kIdentity;
  auto factory = Factory(config);
  auto filter = factory->CreateFilter(callbacks_);
  proxy::RequestHead page = Get("/");
  filter->OnRequestHeaders(page);
  EXPECT_EQ(*page.headers.Find("Accept-Encoding"), "identity");
  auto image_filter = factory->CreateFilter(callbacks_);
  proxy::RequestHead image = Get("/logo.png");
  image.headers.Set("Accept", "image/avif,image/webp,*/*");
  image_filter->OnRequestHeaders(image);
  EXPECT_EQ(*image.headers.Find("Accept-Encoding"), "gzip, br");
}

TEST_F(BannerFilterTest, SkipsAreCountedAndLeaveTheResponseAlone) {
  config::Config config;
  config.banner.enabled = true;
  config.banner.message = "m";
  config.banner.match = {"^/shop"};
  auto factory = Factory(config);
  {
    auto filter = factory->CreateFilter(callbacks_);
    proxy::RequestHead request = Get("/other");
    filter->OnRequestHeaders(request);
    proxy::ResponseHead response = Html200();
    filter->OnResponseHeaders(response);
    EXPECT_FALSE(filter->WantsResponseBody());
    EXPECT_EQ(*response.headers.Find("ETag"), "\"abc\"");
  }
  {
    auto filter = factory->CreateFilter(callbacks_);
    proxy::RequestHead request = Get("/shop");
    filter->OnRequestHeaders(request);
    proxy::ResponseHead response = Html200();
    response.headers.Add("Content-Encoding", "br");
    filter->OnResponseHeaders(response);
    EXPECT_FALSE(filter->WantsResponseBody());
  }
  {
    auto filter = factory->CreateFilter(callbacks_);
    proxy::RequestHead request = Get("/shop");
    filter->OnRequestHeaders(request);
    proxy::ResponseHead response = Html200();
    filter->OnResponseHeaders(response);
    EXPECT_EQ(Body(*filter, "<html>no tag"), "<html>no tag");
  }
  EXPECT_EQ(stats_.skipped(SkipReason::kRoute), 1u);
  EXPECT_EQ(stats_.skipped(SkipReason::kEncoding), 1u);
  EXPECT_EQ(stats_.skipped(SkipReason::kNoBodyTag), 1u);
  EXPECT_EQ(stats_.injections.load(), 0u);
}

// The stylesheet is a route of the built-in router (app/filter_chain.cc
// registers StylesheetRoute() on kStylesheetPath): its filter serves GET and
// HEAD, declines other methods (the router then answers 404).
TEST_F(BannerFilterTest, StylesheetRouteServesGetAndHeadAsTheBanner) {
  config::Config config;
  auto factory = Factory(config);
  std::shared_ptr<const proxy::FilterFactory> route = factory->StylesheetRoute();
  auto filter = route->CreateFilter(callbacks_);
  proxy::RequestHead css = Get("/.tidegate/assets/banner.css?v=1");
  EXPECT_EQ(filter->OnRequestHeaders(css), proxy::FilterStatus::kStop);
  ASSERT_TRUE(callbacks_.replied);
  EXPECT_EQ(callbacks_.status, 200);
  EXPECT_EQ(callbacks_.answered_by, proxy::Answerer::kBanner);
  EXPECT_EQ(*callbacks_.headers.Find("Content-Type"), "text/css; charset=utf-8");
  EXPECT_NE(callbacks_.headers.Find("ETag"), nullptr);
  EXPECT_NE(callbacks_.headers.Find("Cache-Control"), nullptr);
  EXPECT_NE(callbacks_.body.find(".tidegate-banner"), std::string::npos);
  EXPECT_EQ(stats_.stylesheet_served.load(), 1u);

  FakeCallbacks head_callbacks;
  proxy::RequestHead head = Get("/.tidegate/assets/banner.css");
  head.method = "HEAD";
  EXPECT_EQ(route->CreateFilter(head_callbacks)->OnRequestHeaders(head),
            proxy::FilterStatus::kStop);
  EXPECT_EQ(head_callbacks.status, 200);

  FakeCallbacks post_callbacks;
  proxy::RequestHead post = Get("/.tidegate/assets/banner.css");
  post.method = "POST";
  EXPECT_EQ(route->CreateFilter(post_callbacks)->OnRequestHeaders(post),
            proxy::FilterStatus::kContinue);
  EXPECT_FALSE(post_callbacks.replied);
  EXPECT_EQ(stats_.stylesheet_served.load(), 2u);
}

TEST_F(BannerFilterTest, RendersOncePerStateVersion) {
  config::Config config;
  auto factory = Factory(config);
  SetOverride("one", "info");
  proxy::RequestHead request = Get("/");
  auto first = factory->BannerFor(0, request);
  auto second = factory->BannerFor(0, request);
  ASSERT_TRUE(first);
  EXPECT_EQ(first.get(), second.get());  // the same rendered string
  SetOverride("two", "info");
  auto third = factory->BannerFor(0, request);
  ASSERT_TRUE(third);
  EXPECT_NE(third->find("two"), std::string::npos);
  // A worker index past the slots still works (shared, locked slot).
  EXPECT_TRUE(factory->BannerFor(17, request));
}

TEST_F(BannerFilterTest, ExpiredOverrideDisappearsOnTheFakeClock) {
  config::Config config;
  auto factory = Factory(config);
  SetOverride("Flash sale", "info", std::nullopt, time_.WallNow() + std::chrono::minutes(10));
  proxy::RequestHead request = Get("/");
  auto before = factory->BannerFor(0, request);
  ASSERT_TRUE(before);
  EXPECT_NE(before->find("Flash sale"), std::string::npos);
  time_.Advance(std::chrono::minutes(9));
  EXPECT_TRUE(factory->BannerFor(0, request));  // still in force, same state version
  time_.Advance(std::chrono::minutes(1));       // now == expires_at
  EXPECT_FALSE(factory->BannerFor(0, request));

  // With a configured banner, the configuration's comes back.
  config.banner.enabled = true;
  config.banner.message = "Free shipping";
  auto with_config = Factory(config);
  auto after = with_config->BannerFor(0, request);
  ASSERT_TRUE(after);
  EXPECT_NE(after->find("Free shipping"), std::string::npos);
  EXPECT_EQ(after->find("Flash sale"), std::string::npos);
}

TEST_F(BannerFilterTest, NextUpdateIsShownRelativeToTheFakeNow) {
  config::Config config;
  auto factory = Factory(config);
  auto next = common::ParseRfc3339("2030-01-15T13:30:00Z");      // 14:30 in Paris
  time_.SetWall(*common::ParseRfc3339("2030-01-14T08:00:00Z"));  // the day before
  SetOverride("Busy", "warning", next);
  proxy::RequestHead request = Get("/", "en");
  auto day_before = factory->BannerFor(0, request);
  ASSERT_TRUE(day_before);
  EXPECT_NE(day_before->find("15 Jan 14:30</time>"), std::string::npos) << *day_before;
  // The same state a day later: re-rendered (at most 60 s stale), same day.
  time_.Advance(std::chrono::hours(24));
  auto same_day = factory->BannerFor(0, request);
  ASSERT_TRUE(same_day);
  EXPECT_EQ(same_day->find("15 Jan"), std::string::npos) << *same_day;
  EXPECT_NE(same_day->find(">14:30</time>"), std::string::npos) << *same_day;
}

// [features.NAME] action = "hide": its <style> rides on the same injection,
// on every GET page (not bound to [banner].match), only while switched off.
// With nothing that could be inserted the filter is not created at all (one
// allocation less per request); anything that may insert makes it apply.
TEST_F(BannerFilterTest, AppliesOnlyWhenSomethingMayBeInserted) {
  proxy::RequestHead request = Get("/");
  config::Config config;
  EXPECT_FALSE(Factory(config)->AppliesTo(request));
  config.banner.enabled = true;  // enabled without a message: nothing to show
  EXPECT_FALSE(Factory(config)->AppliesTo(request));
  config.banner.message = "Hello";
  EXPECT_TRUE(Factory(config)->AppliesTo(request));

  config::Config hiding;
  config::FeatureConfig hide;
  hide.name = "invoice";
  hide.action = config::FeatureAction::kHide;
  hide.hide_selector = "#pay-invoice";
  hiding.features = {hide};
  EXPECT_TRUE(Factory(hiding)->AppliesTo(request));

  auto factory = Factory(config::Config());
  EXPECT_FALSE(factory->AppliesTo(request));
  SetOverride("Forte affluence", "warning");  // a run-time banner, no restart
  EXPECT_TRUE(factory->AppliesTo(request));
}

TEST_F(BannerFilterTest, HiddenOptionCssIsInjectedWhileTheFeatureIsOff) {
  config::Config config;
  config.banner.match = {"^/only-here"};  // the banner's paths do not limit hiding
  config::FeatureConfig hide;
  hide.name = "invoice";
  hide.action = config::FeatureAction::kHide;
  hide.hide_selector = "#pay-invoice";
  config.features = {hide};
  auto factory = Factory(config);
  auto run = [&](const std::string& method) {
    auto filter = factory->CreateFilter(callbacks_);
    proxy::RequestHead request = Get("/checkout");
    request.method = method;
    filter->OnRequestHeaders(request);
    proxy::ResponseHead response = Html200();
    filter->OnResponseHeaders(response);
    if (!filter->WantsResponseBody()) return std::string("untouched");
    return Body(*filter, "<html><body class=\"shop\">x</body></html>");
  };
  EXPECT_EQ(run("GET"), "untouched");
  auto on = std::make_shared<state::RuntimeState>(*state_.Load());
  on->maintenance["invoice"].message = "x";
  on->version++;
  state_.Publish(on);
  EXPECT_EQ(run("GET"),
            "<html><body class=\"shop\"><style id=\"tidegate-hide\">#pay-invoice{display:none!"
            "important}</style>x</body></html>");
  EXPECT_EQ(run("POST"), "untouched");
  EXPECT_EQ(stats_.hide_injections.load(), 1u);
  EXPECT_EQ(stats_.injections.load(), 0u);  // no banner was shown
  auto off = std::make_shared<state::RuntimeState>(*state_.Load());
  off->maintenance.clear();
  off->version++;
  state_.Publish(off);
  EXPECT_EQ(run("GET"), "untouched");
}

}  // namespace
}  // namespace tidegate::banner

namespace tidegate::banner {
namespace {

std::string GunzipAll(const std::string& data) {
  testing::Inflated result = testing::InflateAll(data, MAX_WBITS + 16);
  return result.complete ? result.bytes : std::string();
}

config::Config BannerOn() {
  config::Config config;
  config.banner.enabled = true;
  config.banner.message = "Hello";
  return config;  // compressed = "compress", the default
}

TEST_F(BannerFilterTest, CompressModeGzipsThePageForAGzipClient) {
  auto factory = Factory(BannerOn());
  auto filter = factory->CreateFilter(callbacks_);
  proxy::RequestHead request = Get("/");
  filter->OnRequestHeaders(request);
  EXPECT_EQ(*request.headers.Find("Accept-Encoding"), "identity");
  proxy::ResponseHead response = Html200();
  response.content_length = 2026;  // the page below
  filter->OnResponseHeaders(response);
  ASSERT_TRUE(filter->WantsResponseBody());
  EXPECT_EQ(*response.headers.Find("Content-Encoding"), "gzip");
  EXPECT_EQ(*response.headers.Find("Vary"), "Accept-Encoding, Accept-Language");
  EXPECT_EQ(*response.headers.Find("ETag"), "W/\"abc\"");
  // Held whole: the head waits for the end and gets the encoded length.
  EXPECT_TRUE(filter->HoldResponseHead(response));
  const std::string page = "<html><body>" + std::string(2000, 'x') + "</body></html>";
  std::string out = Body(*filter, page);
  EXPECT_FALSE(filter->HoldResponseHead(response));
  EXPECT_EQ(response.framing, proxy::BodyFraming::kContentLength);
  EXPECT_EQ(response.content_length, out.size());
  std::string decoded = GunzipAll(out);
  EXPECT_NE(decoded.find("<body><div class=\"tidegate-banner"), std::string::npos) << decoded;
  EXPECT_EQ(stats_.gzipped.load(), 1u);
  EXPECT_EQ(stats_.injections.load(), 1u);
}

TEST_F(BannerFilterTest, CompressModeGzipsOtherCompressibleResponses) {
  auto factory = Factory(BannerOn());
  auto filter = factory->CreateFilter(callbacks_);
  proxy::RequestHead request = Get("/api/cart");
  request.headers.Set("Accept", "*/*");
  filter->OnRequestHeaders(request);
  EXPECT_EQ(*request.headers.Find("Accept-Encoding"), "identity");
  proxy::ResponseHead response = Html200();
  response.headers.Set("Content-Type", "application/json");
  const std::string json = "{\"lines\": [" + std::string(1000, '7') + "]}";
  response.content_length = json.size();
  filter->OnResponseHeaders(response);
  ASSERT_TRUE(filter->WantsResponseBody());
  EXPECT_EQ(*response.headers.Find("Content-Encoding"), "gzip");
  EXPECT_EQ(response.headers.Find("Cache-Control"), nullptr);  // no banner: not made private
  EXPECT_TRUE(filter->HoldResponseHead(response));
  std::string out = Body(*filter, json);
  EXPECT_FALSE(filter->HoldResponseHead(response));
  EXPECT_EQ(response.content_length, out.size());
  EXPECT_EQ(GunzipAll(out), json);
  EXPECT_EQ(stats_.skipped(SkipReason::kContentType), 1u);
}

TEST_F(BannerFilterTest, CompressModeLeavesClientsWithoutGzipAlone) {
  auto factory = Factory(BannerOn());
  for (const char* encoding : {"deflate", "gzip;q=0, br"}) {
    auto filter = factory->CreateFilter(callbacks_);
    proxy::RequestHead request = Get("/");
    request.headers.Set("Accept-Encoding", encoding);
    filter->OnRequestHeaders(request);
    EXPECT_EQ(*request.headers.Find("Accept-Encoding"), encoding);
    proxy::ResponseHead response = Html200();
    response.content_length = 3000;
    filter->OnResponseHeaders(response);
    EXPECT_EQ(response.headers.Find("Content-Encoding"), nullptr) << encoding;
    EXPECT_EQ(response.framing, proxy::BodyFraming::kContentLength) << encoding;
  }
}

}  // namespace
}  // namespace tidegate::banner
