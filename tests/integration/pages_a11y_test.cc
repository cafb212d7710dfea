// tidegate's own shopper pages checked for accessibility (issue 12): the
// status page, the maintenance page and the queue page, served by a real
// tidegate in front of the demo shop, loaded in headless Chromium
// (harness/webdriver.h) and checked with axe-core (npm `axe-core`, pinned
// in tests/integration/a11y/package.json, installed by scripts/setup.sh),
// which the test injects into each page: no violation of the WCAG 2.0/2.1
// A and AA rules (axe tags wcag2a, wcag2aa, wcag21a, wcag21aa) is allowed,
// calm and during an incident told by banner, maintenance and status page;
// and long unbroken operator text stays inside a 375 px phone screen.
//
// Waits are bounded polls; nothing is asserted on timing.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"
#include "tests/integration/harness/webdriver.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;

constexpr char kOperatorToken[] = "a11y-operator-token-0123456789abcdef0123";
constexpr char kAxePath[] =
    TIDEGATE_SOURCE_DIR "/tests/integration/a11y/node_modules/axe-core/axe.min.js";

std::string HexSha256(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// One line per violation: rule, impact, and each offending node.
std::string Describe(const Json& violations) {
  std::string out;
  for (const Json& v : violations) {
    out += v.value("id", "?") + " (" + v.value("impact", "?") + "): " + v.value("help", "") + "\n";
    for (const Json& node : v.value("nodes", Json::array())) {
      out += "    " + node.get<std::string>() + "\n";
    }
  }
  return out;
}

class PagesA11yTest : public ::testing::Test {
 protected:
  void SetUp() override {
    axe_ = ReadFile(kAxePath);
    ASSERT_TRUE(axe_) << kAxePath << " is missing: run scripts/setup.sh (npm ci in "
                      << "tests/integration/a11y)";
    shop_ = StartDemoShopOrFail(dir_);
    ASSERT_TRUE(shop_);
    std::ofstream(dir_.File("k1")) << "a11y-test-signing-key-0123456789abcdef0123\n";
    TidegateOptions options;
    options.config =
        "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 1\ndrain_timeout = \"5s\"\n"
        "\n[upstream]\nservers = [\"127.0.0.1:" +
        std::to_string(shop_->port()) +
        "\"]\n"
        "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
        "audit_log = \"${DIR}/audit.jsonl\"\n"
        "tokens = [{ name = \"ops\", token_sha256 = \"" +
        HexSha256(kOperatorToken) +
        "\", role = \"operator\" }]\n"
        "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
        "\n[site]\nname = \"Tide & Anchor\"\ntime_zone = \"Europe/Paris\"\n"
        "\n[features.checkout]\nmatch = [{ path = \"^/checkout\" }]\n"
        "\n[features.search]\nmatch = [{ path = \"^/search\" }]\n"
        "\n[rooms.drop]\nmatch = [\"^/drop\"]\nmode = \"queue_all\"\n";
    tidegate_ = StartTidegateOrFail(dir_, options);
    ASSERT_TRUE(tidegate_);
    driver_ = StartChromeDriverOrFail(dir_);
    ASSERT_TRUE(driver_);
  }

  void TearDown() override {
    sessions_.clear();
    driver_.reset();
    if (!tidegate_) return;
    ASSERT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
    EXPECT_EQ(tidegate_->Stop(std::chrono::seconds(10)), 0) << tidegate_->Stderr();
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(tidegate_->port()) + path;
  }

  // An operator's call on the admin API.
  HttpMessage Admin(const std::string& method, const std::string& path, const std::string& body) {
    auto conn = ConnectOrFail(tidegate_->admin_port());
    if (!conn) return {};
    std::string req =
        method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "Authorization: Bearer " +
        kOperatorToken +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body;
    EXPECT_TRUE(conn->Send(req));
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(10000)));
    EXPECT_TRUE(m.ok) << m.error;
    return m;
  }

  WebDriverSession* Browser(const std::string& accept_language, int viewport_width = 0) {
    SessionOptions options;
    options.accept_language = accept_language;
    options.viewport_width = viewport_width;
    sessions_.push_back(CreateSessionOrFail(*driver_, options));
    return sessions_.back().get();
  }

  // Loads `path`, injects axe-core and runs the WCAG 2.1 A/AA rules; the
  // violations (nullopt when axe could not run: the failure is recorded).
  // `spoil`: a script run before axe (the self-check below).
  std::optional<Json> Violations(WebDriverSession& browser, const std::string& path,
                                 const std::string& spoil = "") {
    if (!browser.Navigate(Url(path))) {
      ADD_FAILURE() << path << ": " << browser.last_error();
      return std::nullopt;
    }
    if (!spoil.empty() && !browser.ExecuteScript(spoil)) {
      ADD_FAILURE() << path << ": " << browser.last_error();
      return std::nullopt;
    }
    // The library is the body of the injected script: WebDriver runs it
    // outside the page's Content-Security-Policy (no inline <script>).
    std::optional<Json> loaded = browser.ExecuteScript(*axe_ + "\n;return typeof window.axe;");
    if (loaded != Json("object")) {
      ADD_FAILURE() << path << ": axe-core did not load: " << browser.last_error();
      return std::nullopt;
    }
    std::optional<Json> started = browser.ExecuteScript(R"(
      window.tgAxe = null;
      axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                         resultTypes: ['violations']})
        .then(function (r) {
          window.tgAxe = {violations: r.violations.map(function (v) {
            return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(function (n) {
              return n.html + ' :: ' + n.failureSummary; })}; }),
            passes: r.passes.length};
        }, function (e) { window.tgAxe = {error: String(e)}; });
      return true;)");
    if (started != Json(true)) {
      ADD_FAILURE() << path << ": axe.run failed to start: " << browser.last_error();
      return std::nullopt;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      std::optional<Json> result = browser.ExecuteScript("return window.tgAxe;");
      if (result && result->is_object()) {
        if (result->contains("error")) {
          ADD_FAILURE() << path << ": axe: " << (*result)["error"];
          return std::nullopt;
        }
        EXPECT_GT(result->value("passes", 0), 5) << path << ": axe checked next to nothing";
        return (*result)["violations"];
      }
      std::this_thread::sleep_for(milliseconds(200));  // pacing only
    }
    ADD_FAILURE() << path << ": axe did not finish within 60 s";
    return std::nullopt;
  }

  void ExpectAccessible(WebDriverSession& browser, const std::string& path,
                        const std::string& must_show) {
    std::optional<Json> violations = Violations(browser, path);
    if (!violations) return;
    EXPECT_TRUE(violations->empty()) << path << " (" << must_show << "):\n"
                                     << Describe(*violations);
    std::optional<std::string> source = browser.PageSource();
    ASSERT_TRUE(source) << browser.last_error();
    EXPECT_NE(source->find(must_show), std::string::npos)
        << path << " does not show \"" << must_show << "\":\n"
        << *source;
  }

  TempDir dir_{"tidegate-a11y"};
  std::optional<std::string> axe_;
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<TidegateProcess> tidegate_;
  std::unique_ptr<ChromeDriver> driver_;
  std::vector<std::unique_ptr<WebDriverSession>> sessions_;
};

TEST_F(PagesA11yTest, CalmPagesHaveNoViolations) {
  WebDriverSession* browser = Browser("en-US");
  ASSERT_TRUE(browser);
  ExpectAccessible(*browser, "/.tidegate/status", "All systems are working normally.");
  ExpectAccessible(*browser, "/drop/sneakers", "id=\"tg-queue\"");

  // The check can fail: pale text and an image without a text alternative
  // added to the page are reported.
  std::optional<Json> spoiled = Violations(
      *browser, "/.tidegate/status",
      "var p = document.createElement('p'); p.style.color = '#ddd'; p.textContent = 'pale';"
      "document.querySelector('main').appendChild(p);"
      "document.querySelector('main').appendChild(document.createElement('img'));"
      "return true;");
  ASSERT_TRUE(spoiled);
  std::string ids;
  for (const Json& v : *spoiled) ids += v.value("id", "") + " ";
  EXPECT_NE(ids.find("color-contrast"), std::string::npos) << Describe(*spoiled);
  EXPECT_NE(ids.find("image-alt"), std::string::npos) << Describe(*spoiled);
}

TEST_F(PagesA11yTest, PagesDuringMaintenanceAndANoticeHaveNoViolations) {
  // Promise the next update 30 minutes from now.
  auto next = std::chrono::system_clock::now() + std::chrono::minutes(30);
  std::time_t t = std::chrono::system_clock::to_time_t(next);
  char next_text[32];
  std::strftime(next_text, sizeof next_text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  HttpMessage banner =
      Admin("PUT", "/v1/banner",
            std::string(R"({"message": "Card payments fail at the moment",)") +
                R"("severity": "warning", "next_update_at": ")" + next_text + "\"}");
  ASSERT_EQ(banner.status, 200) << banner.body;
  HttpMessage maintenance =
      Admin("PUT", "/v1/features/checkout/maintenance",
            R"({"message": "Our payment provider is down; your basket is kept."})");
  ASSERT_EQ(maintenance.status, 200) << maintenance.body;

  WebDriverSession* english = Browser("en-US");
  ASSERT_TRUE(english);
  ExpectAccessible(*english, "/.tidegate/status", "Maintenance: checkout");
  ExpectAccessible(*english, "/checkout", "your basket is kept");
  ExpectAccessible(*english, "/drop/sneakers", "tg-notice");
  WebDriverSession* french = Browser("fr-FR");
  ASSERT_TRUE(french);
  ExpectAccessible(*french, "/.tidegate/status", "Prochaine mise à jour à");
  ExpectAccessible(*french, "/checkout", "Continuer mes achats");
  ExpectAccessible(*french, "/drop/sneakers", "Card payments fail at the moment");
}

// One switch (POST /v1/incidents): every page a shopper can meet tells the
// same incident — the status page (timeline), the shop's pages (banner),
// the maintenance page of the feature it switched off and the queue page —
// and each of them passes axe; then an update reaches all of them.
TEST_F(PagesA11yTest, EveryPageTellsTheOpenIncidentAndHasNoViolations) {
  HttpMessage opened = Admin("POST", "/v1/incidents", R"({
      "title": "Payments failing", "message": "Card payments fail; we are on it.",
      "impact": "partial_outage", "features": ["checkout"], "banner": true,
      "next_update": "30m"})");
  ASSERT_EQ(opened.status, 201) << opened.body;
  std::string id = Json::parse(opened.body, nullptr, false).value("id", "");
  ASSERT_FALSE(id.empty()) << opened.body;

  WebDriverSession* english = Browser("en-US");
  ASSERT_TRUE(english);
  ExpectAccessible(*english, "/.tidegate/status", "Card payments fail; we are on it.");
  ExpectAccessible(*english, "/checkout", "Card payments fail; we are on it.");
  ExpectAccessible(*english, "/drop/sneakers", "Payments failing");
  // The shop's own page is the demo shop's; only the banner is ours.
  ASSERT_TRUE(english->Navigate(Url("/")));
  std::optional<std::string> banner = english->TextOf("[data-tidegate-banner]");
  ASSERT_TRUE(banner) << english->PageSource().value_or(english->last_error());
  EXPECT_NE(banner->find("Card payments fail; we are on it."), std::string::npos) << *banner;
  EXPECT_NE(banner->find("Next update at"), std::string::npos) << *banner;
  EXPECT_EQ(english->AttributeOf(".tidegate-banner__link", "href"), "/.tidegate/status");

  HttpMessage updated = Admin("POST", "/v1/incidents/" + id + "/updates", R"({
      "status": "identified", "message": "Our payment provider is down.",
      "next_update": "20m"})");
  ASSERT_EQ(updated.status / 100, 2) << updated.body;
  WebDriverSession* french = Browser("fr-FR");
  ASSERT_TRUE(french);
  ExpectAccessible(*french, "/.tidegate/status", "Cause identifiée");
  ExpectAccessible(*french, "/checkout", "Our payment provider is down.");
  ExpectAccessible(*french, "/drop/sneakers", "Our payment provider is down.");
  ASSERT_TRUE(french->Navigate(Url("/.tidegate/status")));
  std::optional<Json> timeline = french->ExecuteScript(
      "return Array.prototype.map.call(document.querySelectorAll('#incident-" + id +
      " .timeline li'), function (li) { return li.textContent.trim(); });");
  ASSERT_TRUE(timeline && timeline->is_array()) << french->last_error();
  ASSERT_EQ(timeline->size(), 2u) << timeline->dump();
  EXPECT_NE((*timeline)[0].get<std::string>().find("Our payment provider is down."),
            std::string::npos)
      << "newest first: " << timeline->dump();

  HttpMessage resolved = Admin("POST", "/v1/incidents/" + id + "/resolve",
                               R"({"message": "Payments work again. Thank you for waiting."})");
  ASSERT_EQ(resolved.status / 100, 2) << resolved.body;
  WebDriverSession* after = Browser("en-US");
  ASSERT_TRUE(after);
  ExpectAccessible(*after, "/.tidegate/status", "Payments work again. Thank you for waiting.");
  ASSERT_TRUE(after->Navigate(Url("/")));
  EXPECT_FALSE(after->FindElement("[data-tidegate-banner]")) << "the incident's banner is gone";
}

// Operator text shoppers read can be long and unbroken (a 500-byte URL as
// the message, a 200-byte title): on a 375 px phone screen it wraps inside
// the banner, the maintenance page, the queue page and the status page
// instead of running off the screen. Checked in the browser: no element
// under `root` is wider than its box (scrollWidth <= clientWidth) or reaches
// past the viewport, and (tidegate's own pages) the page does not scroll
// sideways.
TEST_F(PagesA11yTest, LongOperatorTextWrapsOnAPhoneScreen) {
  const std::string url = "https://status.example.com/incidents/" + std::string(463, 'x');
  ASSERT_EQ(url.size(), 500u);
  const std::string title(200, 'T');
  HttpMessage opened = Admin("POST", "/v1/incidents",
                             R"({"title": ")" + title + R"(", "message": ")" + url +
                                 R"(", "impact": "major_outage", "features": ["checkout"],
                                    "banner": true, "next_update": "30m"})");
  ASSERT_EQ(opened.status, 201) << opened.body;

  WebDriverSession* phone = Browser("en-US", 375);
  ASSERT_TRUE(phone);
  const std::string check = R"(
    var root = document.querySelector(arguments[0]);
    if (!root) return {error: 'no ' + arguments[0]};
    var viewport = document.documentElement.clientWidth;
    var out = {viewport: viewport, page: document.documentElement.scrollWidth, wide: []};
    var all = [root].concat(Array.prototype.slice.call(root.querySelectorAll('*')));
    all.forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 ||
          r.right > viewport + 1) {
        out.wide.push(el.tagName + '.' + el.className + ' scroll ' + el.scrollWidth +
                      ' client ' + el.clientWidth + ' right ' + Math.round(r.right));
      }
    });
    return out;)";
  struct Page {
    const char* path;
    const char* root;
    bool own;  // tidegate's page (the whole page is checked), not the shop's
  };
  for (const Page& page :
       {Page{"/", "[data-tidegate-banner]", false}, Page{"/checkout", "main", true},
        Page{"/drop/sneakers", "main", true}, Page{"/.tidegate/status", "main", true}}) {
    SCOPED_TRACE(page.path);
    ASSERT_TRUE(phone->Navigate(Url(page.path))) << phone->last_error();
    std::optional<std::string> source = phone->PageSource();
    ASSERT_TRUE(source) << phone->last_error();
    EXPECT_NE(source->find(url), std::string::npos) << "the message is shown: " << *source;
    std::optional<Json> seen = phone->ExecuteScript(check, Json::array({page.root}));
    ASSERT_TRUE(seen && seen->is_object()) << phone->last_error();
    ASSERT_FALSE(seen->contains("error")) << seen->dump();
    EXPECT_LE((*seen)["viewport"].get<int>(), 400) << "not a phone-sized window: " << seen->dump();
    EXPECT_TRUE((*seen)["wide"].empty()) << seen->dump(2);
    if (page.own) {
      EXPECT_LE((*seen)["page"].get<int>(), (*seen)["viewport"].get<int>()) << seen->dump();
    }
  }
}

}  // namespace
}  // namespace tidegate::itest
