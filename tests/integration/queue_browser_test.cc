// The queue page as a shopper meets it: headless Chromium (Debian's chromium
// + chromium-driver, harness/webdriver.h) in front of a real tidegate and the
// demo shop, with a small room (total_active_users = 1, refresh 1 s).
//
// * the page's script polls /.tidegate/queue and updates the page in place
//   (the position drops when the visitor ahead is admitted), the changing
//   message sits in an aria-live region, and the page moves into the shop by
//   itself once the operator raises the limits (PATCH /v1/rooms/shop);
// * the progress bar never moves back while the page is open, whatever the
//   polls answer (a longer estimate lowers the server's figure);
// * with JavaScript disabled, the "check again" button leads into the shop
//   once admitted (French page through the browser's Accept-Language);
// * the page loads nothing external, its CSP allows only its own script and
//   style (by hash) and both run under it, and it stays under 20 KB.
//
// Waits are bounded polls (a few seconds of pacing, never asserted sleeps).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/room_cookies.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"
#include "tests/integration/harness/webdriver.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr char kOperatorToken[] = "browser-operator-token-0123456789abcdef01";
// Bounds of the waits: a few refresh intervals, generous for a loaded CI
// machine (sanitizer build of tidegate; Chromium itself is not instrumented).
constexpr milliseconds kPollWait{20000};

std::string Sha256(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), sizeof digest);
}

std::string Hex(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// The contents of every <tag>…</tag> block of a page.
std::vector<std::string> Blocks(const std::string& html, const std::string& tag) {
  std::vector<std::string> blocks;
  const std::string open = "<" + tag + ">";
  const std::string close = "</" + tag + ">";
  size_t at = 0;
  while ((at = html.find(open, at)) != std::string::npos) {
    size_t start = at + open.size();
    size_t end = html.find(close, start);
    if (end == std::string::npos) break;
    blocks.push_back(html.substr(start, end - start));
    at = end + close.size();
  }
  return blocks;
}

// The sources of one CSP directive ("script-src 'a' 'b'" → {"'a'", "'b'"}).
std::vector<std::string> Directive(const std::string& csp, const std::string& name) {
  std::vector<std::string> sources;
  size_t at = csp.find(name + " ");
  if (at == std::string::npos) return sources;
  std::string rest = csp.substr(at + name.size() + 1, csp.find(';', at) - at - name.size() - 1);
  size_t start = 0;
  while (start < rest.size()) {
    size_t end = rest.find(' ', start);
    if (end == std::string::npos) end = rest.size();
    if (end > start) sources.push_back(rest.substr(start, end - start));
    start = end + 1;
  }
  return sources;
}

// Cookies of one raw visitor.
using Visitor = RoomCookies;  // the jar of the "shop" room

// Polls `done` every 100 ms until it holds or `limit` passes.
bool WaitFor(const std::function<bool()>& done, milliseconds limit = kPollWait) {
  auto deadline = steady_clock::now() + limit;
  while (steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(100));  // pacing only
  }
  return done();
}

class QueueBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shop_ = StartDemoShopOrFail(dir_);
    std::ofstream(dir_.File("k1")) << "browser-test-signing-key-0123456789abcdef\n";
  }

  void TearDown() override {
    browser_.reset();
    no_script_.reset();
    driver_.reset();
    if (!tidegate_) return;
    ASSERT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
    EXPECT_EQ(tidegate_->Stop(std::chrono::seconds(10)), 0) << tidegate_->Stderr();
  }

  // tidegate in front of the demo shop with room "shop" on every path: one
  // shopper inside at a time, admissions as fast as the limits allow.
  void Start() {
    ASSERT_TRUE(shop_);
    TidegateOptions options;
    options.config =
        "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 2\ndrain_timeout = \"5s\"\n"
        "\n[upstream]\nservers = [\"127.0.0.1:" +
        std::to_string(shop_->port()) +
        "\"]\n"
        "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
        "audit_log = \"${DIR}/audit.jsonl\"\n"
        "tokens = [{ name = \"ops\", token_sha256 = \"" +
        Hex(Sha256(kOperatorToken)) +
        "\", role = \"operator\" }]\n"
        "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
        "\n[rooms.shop]\nmatch = [\"^/\"]\nrefresh_interval = \"1s\"\n"
        "total_active_users = 1\nnew_users_per_minute = 6000\n";
    tidegate_ = StartTidegateOrFail(dir_, options);
    ASSERT_TRUE(tidegate_);
    driver_ = StartChromeDriverOrFail(dir_);
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(tidegate_->port()) + path;
  }

  HttpMessage Request(const std::string& method, const std::string& target, Visitor* v,
                      const std::string& extra = "", const std::string& body = "",
                      uint16_t port = 0) {
    auto conn = ConnectOrFail(port != 0 ? port : tidegate_->port());
    if (!conn) return {};
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (v != nullptr && !v->Cookie().empty()) req += "Cookie: " + v->Cookie() + "\r\n";
    req += extra;
    if (!body.empty() || method == "POST" || method == "PATCH") {
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "Connection: close\r\n\r\n" + body;
    EXPECT_TRUE(conn->Send(req));
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(10000)));
    EXPECT_TRUE(m.ok) << m.error;
    if (v != nullptr) v->Absorb(m);
    return m;
  }

  // The operator raises the room's limits: everyone waiting is let in.
  void RaiseLimits() {
    HttpMessage m = Request("PATCH", "/v1/rooms/shop", nullptr,
                            std::string("Authorization: Bearer ") + kOperatorToken +
                                "\r\nContent-Type: application/json\r\n",
                            R"({"total_active_users": 100})", tidegate_->admin_port());
    ASSERT_EQ(m.status, 200) << m.raw;
  }

  // A raw visitor takes the only slot.
  void FillTheShop(Visitor* inside) {
    ASSERT_EQ(Request("GET", "/", inside).status, 200);
    ASSERT_FALSE(inside->pass.empty()) << "the first visitor is admitted at once";
  }

  // True while the browser shows the queue page (false on the shop or error).
  static bool ShowsQueuePage(WebDriverSession& s) { return s.FindElement("#tg-queue").has_value(); }

  // True when the browser shows a demo shop page.
  static bool ShowsShop(WebDriverSession& s) {
    std::optional<std::string> title = s.Title();
    return title && title->find("Tide & Anchor") != std::string::npos && !ShowsQueuePage(s);
  }

  TempDir dir_{"tidegate-browser"};
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<TidegateProcess> tidegate_;
  std::unique_ptr<ChromeDriver> driver_;
  std::unique_ptr<WebDriverSession> browser_;
  std::unique_ptr<WebDriverSession> no_script_;
};

TEST_F(QueueBrowserTest, ScriptPollsAnnouncesAndEntersTheShopWhenAdmitted) {
  Start();
  ASSERT_TRUE(driver_);
  Visitor inside;
  FillTheShop(&inside);
  Visitor ahead;
  ASSERT_EQ(Request("GET", "/", &ahead).status, 200);
  ASSERT_FALSE(ahead.wait.empty()) << "queued behind the shopper inside";

  browser_ = CreateSessionOrFail(*driver_);
  ASSERT_TRUE(browser_);
  ASSERT_TRUE(browser_->Navigate(Url("/"))) << browser_->last_error();
  ASSERT_TRUE(ShowsQueuePage(*browser_)) << browser_->PageSource().value_or("");
  EXPECT_EQ(browser_->TextOf("#tg-position"), "2");
  EXPECT_EQ(browser_->TextOf("#tg-live"), "You are number 2 in line.");
  EXPECT_EQ(browser_->AttributeOf("html", "lang"), "en");
  EXPECT_EQ(browser_->AttributeOf("#tg-queue", "data-script"), "on") << "the script runs";

  // The message that changes is announced: it sits in a polite live region.
  std::optional<Json> live = browser_->ExecuteScript(
      "var el = document.getElementById('tg-live');"
      "var region = el && el.closest('[aria-live]');"
      "return region ? [region.getAttribute('aria-live'), region.getAttribute('role')] : null;");
  ASSERT_TRUE(live) << browser_->last_error();
  EXPECT_EQ(*live, Json::array({"polite", "status"}));

  // A mark that a reload would wipe: the page must update in place.
  ASSERT_TRUE(browser_->ExecuteScript("window.tgNoReload = 42; return 1;"));

  // The shopper inside places an order (Tidegate-Session: end frees the
  // slot) and the visitor ahead claims it: the browser is first in line.
  std::string order = "shipping_method=standard&payment_method=card";
  Visitor buyer = inside;
  HttpMessage placed =
      Request("POST", "/checkout", &buyer,
              "Cookie: cart=1:1\r\nContent-Type: application/x-www-form-urlencoded\r\n", order);
  ASSERT_EQ(placed.status, 200) << placed.body.substr(0, 300);
  ASSERT_TRUE(WaitFor([&] {
    HttpMessage poll = Request("GET", "/.tidegate/queue", &ahead);
    return Json::parse(poll.body, nullptr, false).value("admitted", false);
  })) << "the visitor ahead is admitted when the slot frees";

  EXPECT_TRUE(WaitFor([&] { return browser_->TextOf("#tg-position") == "1"; }))
      << "the page's script polls and shows the new position; page now:\n"
      << browser_->PageSource().value_or(browser_->last_error());
  EXPECT_TRUE(WaitFor([&] { return browser_->TextOf("#tg-live") == "You are number 1 in line."; }))
      << browser_->TextOf("#tg-live").value_or(browser_->last_error());
  EXPECT_EQ(browser_->ExecuteScript("return window.tgNoReload === 42;"), Json(true))
      << "updated in place, without reloading";
  std::optional<Json> polls = browser_->ExecuteScript(
      "return performance.getEntriesByType('resource')"
      ".filter(function (e) { return e.name.indexOf('/.tidegate/queue?room=shop') >= 0; })"
      ".length;");
  ASSERT_TRUE(polls) << browser_->last_error();
  EXPECT_GE(polls->get<int>(), 1) << "fetches of /.tidegate/queue";

  // The operator raises the limits: the page moves into the shop by itself.
  RaiseLimits();
  EXPECT_TRUE(WaitFor([&] { return ShowsShop(*browser_); }))
      << "the browser did not enter the shop; page now:\n"
      << browser_->PageSource().value_or(browser_->last_error());
  EXPECT_EQ(browser_->CurrentUrl(), Url("/"));
  std::optional<Json> cookies = browser_->ExecuteScript("return document.cookie;");
  EXPECT_EQ(cookies, Json("")) << "the room's cookies are HttpOnly";
}

// Issue 12: an incident opened, updated and resolved while a shopper waits
// shows on the queue page in place (the poll's `shop_notice`), no reload.
TEST_F(QueueBrowserTest, IncidentNoticeUpdatesInPlaceWhileQueued) {
  Start();
  ASSERT_TRUE(driver_);
  Visitor inside;
  FillTheShop(&inside);
  browser_ = CreateSessionOrFail(*driver_);
  ASSERT_TRUE(browser_);
  ASSERT_TRUE(browser_->Navigate(Url("/"))) << browser_->last_error();
  ASSERT_TRUE(ShowsQueuePage(*browser_)) << browser_->PageSource().value_or("");
  EXPECT_EQ(browser_->TextOf("#tg-notice"), "") << "nothing in force";
  ASSERT_TRUE(browser_->ExecuteScript("window.tgNoReload = 42; return 1;"));
  auto admin = [&](const std::string& target, const std::string& body) {
    return Request("POST", target, nullptr,
                   std::string("Authorization: Bearer ") + kOperatorToken +
                       "\r\nContent-Type: application/json\r\n",
                   body, tidegate_->admin_port());
  };
  HttpMessage opened = admin(
      "/v1/incidents",
      R"({"title": "Payments slow", "message": "We are looking into it", "impact": "degraded"})");
  ASSERT_EQ(opened.status, 201) << opened.body;
  std::string id = Json::parse(opened.body, nullptr, false).value("id", "");
  ASSERT_FALSE(id.empty()) << opened.body;
  auto notice = [&] { return browser_->TextOf("#tg-notice").value_or(""); };
  EXPECT_TRUE(WaitFor([&] {
    return notice().find("Payments slow") != std::string::npos &&
           notice().find("We are looking into it") != std::string::npos;
  })) << notice();
  HttpMessage updated = admin("/v1/incidents/" + id + "/updates",
                              R"({"status": "identified", "message": "A fix is on its way"})");
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_TRUE(WaitFor([&] { return notice().find("A fix is on its way") != std::string::npos; }))
      << notice();
  ASSERT_EQ(admin("/v1/incidents/" + id + "/resolve", R"({"message": "Fixed"})").status, 200);
  EXPECT_TRUE(WaitFor([&] { return notice().empty(); })) << notice();
  EXPECT_EQ(browser_->ExecuteScript("return window.tgNoReload === 42;"), Json(true))
      << "updated in place, without reloading";
  EXPECT_TRUE(ShowsQueuePage(*browser_));
}

// The page's own script under answers it cannot get from a live room on
// demand: the test stands in for the poll (window.fetch) with progress 60,
// then 30 (the estimate grew), then 70, and records the bar before each
// poll. The bar holds at 60 and moves on to 70 (docs/waiting-room.md, "The
// queue page": the progress bar).
TEST_F(QueueBrowserTest, TheProgressBarNeverMovesBack) {
  Start();
  ASSERT_TRUE(driver_);
  Visitor inside;
  FillTheShop(&inside);
  browser_ = CreateSessionOrFail(*driver_);
  ASSERT_TRUE(browser_);
  ASSERT_TRUE(browser_->Navigate(Url("/"))) << browser_->last_error();
  ASSERT_TRUE(ShowsQueuePage(*browser_)) << browser_->PageSource().value_or("");
  ASSERT_TRUE(browser_->ExecuteScript(
      "window.tgAnswers = [60, 30, 70]; window.tgBars = [];"
      "window.fetch = function () {"
      "  window.tgBars.push(document.getElementById('tg-progress').value);"
      "  var p = window.tgAnswers.length ? window.tgAnswers.shift() : 70;"
      "  return Promise.resolve({json: function () { return {in_queue: true, position: 1,"
      "    wait_text: 'a few minutes', updated_text: '12:00', progress: p,"
      "    message: 'You are number 1 in line.', refresh_seconds: 1}; }});"
      "}; return 1;"))
      << browser_->last_error();
  std::optional<Json> bars;
  EXPECT_TRUE(WaitFor([&] {
    bars = browser_->ExecuteScript("return window.tgBars;");
    return bars && bars->is_array() && bars->size() >= 4;
  })) << (bars ? bars->dump() : browser_->last_error());
  ASSERT_TRUE(bars && bars->size() >= 4);
  EXPECT_EQ((*bars)[1], Json(60)) << bars->dump();
  EXPECT_EQ((*bars)[2], Json(60)) << "the bar moved back: " << bars->dump();
  EXPECT_EQ((*bars)[3], Json(70)) << bars->dump();
  EXPECT_TRUE(ShowsQueuePage(*browser_));
}

TEST_F(QueueBrowserTest, WithoutScriptTheCheckAgainButtonLeadsIntoTheShop) {
  Start();
  ASSERT_TRUE(driver_);
  Visitor inside;
  FillTheShop(&inside);

  SessionOptions options;
  options.javascript = false;
  options.accept_language = "fr-FR";
  no_script_ = CreateSessionOrFail(*driver_, options);
  ASSERT_TRUE(no_script_);
  ASSERT_TRUE(no_script_->Navigate(Url("/products/1"))) << no_script_->last_error();
  ASSERT_TRUE(ShowsQueuePage(*no_script_)) << no_script_->PageSource().value_or("");
  EXPECT_EQ(no_script_->AttributeOf("html", "lang"), "fr");
  EXPECT_EQ(no_script_->TextOf("#tg-position"), "1");

  // Script is really off: the page's script marks <main> when it starts.
  EXPECT_EQ(no_script_->AttributeOf("#tg-queue", "data-script"), "");
  std::optional<std::string> button = no_script_->FindElement("a.button");
  ASSERT_TRUE(button) << no_script_->last_error();
  EXPECT_EQ(no_script_->ElementText(*button), "Vérifier à nouveau");
  EXPECT_EQ(no_script_->ElementAttribute(*button, "href"), "/products/1") << "the same URL";

  // Still queued: the button brings back the queue page, same place.
  ASSERT_TRUE(no_script_->Click(*button)) << no_script_->last_error();
  ASSERT_TRUE(ShowsQueuePage(*no_script_));
  EXPECT_EQ(no_script_->TextOf("#tg-position"), "1") << "the wait cookie keeps the place";

  // Once the operator raises the limits, the button leads into the shop.
  RaiseLimits();
  EXPECT_TRUE(WaitFor([&] {
    if (ShowsShop(*no_script_)) return true;
    std::optional<std::string> again = no_script_->FindElement("a.button");
    return again && no_script_->Click(*again) && ShowsShop(*no_script_);
  })) << "page now:\n"
      << no_script_->PageSource().value_or(no_script_->last_error());
  EXPECT_EQ(no_script_->CurrentUrl(), Url("/products/1"));
}

TEST_F(QueueBrowserTest, PageLoadsNothingExternalAndItsCspAllowsOnlyItsOwnScript) {
  Start();
  ASSERT_TRUE(driver_);
  Visitor inside;
  FillTheShop(&inside);

  Visitor queued;
  HttpMessage page = Request("GET", "/", &queued, "Accept: text/html\r\n");
  ASSERT_EQ(page.status, 200);
  ASSERT_NE(page.body.find("id=\"tg-queue\""), std::string::npos) << page.body.substr(0, 300);
  EXPECT_LT(page.body.size(), 20'000u);
  EXPECT_EQ(page.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.Header("Cache-Control"), "no-store");
  for (const char* external : {"src=", "http:", "https:", "url(", "@import", "//"}) {
    EXPECT_EQ(page.body.find(external), std::string::npos) << "external resource: " << external;
  }
  // One <link>: an empty inline icon, so browsers do not ask for
  // /favicon.ico (which would be one more queue page per visitor).
  EXPECT_EQ(CountOccurrences(page.body, "<link"), 1);
  EXPECT_NE(page.body.find("<link rel=\"icon\" href=\"data:,\">"), std::string::npos);
  std::optional<std::string> csp = page.Header("Content-Security-Policy");
  ASSERT_TRUE(csp);
  EXPECT_EQ(Directive(*csp, "default-src"), std::vector<std::string>{"'none'"}) << *csp;
  EXPECT_EQ(Directive(*csp, "connect-src"), std::vector<std::string>{"'self'"}) << *csp;
  std::vector<std::string> scripts = Blocks(page.body, "script");
  ASSERT_EQ(scripts.size(), 1u) << "one inline script";
  EXPECT_EQ(Directive(*csp, "script-src"),
            std::vector<std::string>{"'sha256-" + Base64(Sha256(scripts[0])) + "'"})
      << *csp;
  std::vector<std::string> styles = Blocks(page.body, "style");
  ASSERT_EQ(styles.size(), 1u) << "one inline style";
  EXPECT_EQ(Directive(*csp, "style-src"),
            std::vector<std::string>{"'sha256-" + Base64(Sha256(styles[0])) + "'"})
      << *csp;
  EXPECT_EQ(csp->find("unsafe"), std::string::npos) << *csp;

  // In the browser: the style applies under the CSP, the script runs (it
  // polls), and the only resources fetched are the page's own polls.
  browser_ = CreateSessionOrFail(*driver_);
  ASSERT_TRUE(browser_);
  ASSERT_TRUE(browser_->Navigate(Url("/"))) << browser_->last_error();
  ASSERT_TRUE(ShowsQueuePage(*browser_));
  EXPECT_EQ(browser_->ExecuteScript("return getComputedStyle(document.body).backgroundColor;"),
            Json("rgb(244, 246, 248)"))
      << "the inline style is allowed by its hash";
  const char* kResources =
      "return performance.getEntriesByType('resource').map(function (e) { return e.name; });";
  EXPECT_TRUE(WaitFor([&] {
    std::optional<Json> r = browser_->ExecuteScript(kResources);
    return r && r->is_array() && !r->empty();
  })) << "the script polled";
  std::optional<Json> resources = browser_->ExecuteScript(kResources);
  ASSERT_TRUE(resources && resources->is_array());
  for (const Json& name : *resources) {
    EXPECT_EQ(name.get<std::string>().rfind(Url("/.tidegate/queue?room=shop"), 0), 0u) << name;
  }
}

}  // namespace
}  // namespace tidegate::itest
