// Abuse resistance of the waiting room in the real binary (issue 11), in
// front of the demo shop:
// * join_challenge = "pow": 200 scripted joins without an answer get no
//   ticket and no pass (every one counted as challenge_missing in /metrics
//   and GET /v1/state); a client that solves the challenge in C++ gets a
//   place; replaying its answer gets none (challenge_replayed); a wrong
//   answer gets none (challenge_invalid);
// * max_tickets_per_ip_per_minute: beyond the cap, 429 with the reason on
//   the page and in JSON, no ticket (ticket_rate_limited);
// * headless Chromium joins by itself: the page solves the challenge in a
//   Web Worker and reloads into its place; without JavaScript the page says
//   honestly why it cannot join. Skipped when Chromium is not installed.
// Low difficulty (8-12 bits) keeps the solving cheap.
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
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
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"
#include "tests/integration/harness/webdriver.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr char kOperatorToken[] = "abuse-operator-token-0123456789abcdef0123";
constexpr char kAnswerHeader[] = "Tidegate-Challenge";

using Visitor = RoomCookies;  // the jar of the "shop" room

// The wire format of docs/waiting-room.md ("Join challenge (wire
// format)"), written again here as a client would: the first counter n
// with SHA-256("<token>.<n>") starting with `bits` zero bits.
std::string Solve(const std::string& token, int bits) {
  for (uint64_t n = 0; n < (uint64_t{1} << 30); ++n) {
    std::string answer = token + "." + std::to_string(n);
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(answer.data()), answer.size(), d);
    int zeros = 0;
    for (unsigned char byte : d) {
      if (byte == 0) {
        zeros += 8;
        continue;
      }
      zeros += __builtin_clz(static_cast<unsigned>(byte)) - 24;
      break;
    }
    if (zeros >= bits) return answer;
  }
  return "";
}

bool WaitFor(const std::function<bool()>& done, milliseconds limit = milliseconds(20000)) {
  auto deadline = steady_clock::now() + limit;
  while (steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(100));  // pacing only
  }
  return done();
}

class QueueAbuseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shop_ = StartDemoShopOrFail(dir_);
    std::ofstream(dir_.File("k1")) << "abuse-test-signing-key-0123456789abcdef\n";
  }

  void TearDown() override {
    browser_.reset();
    driver_.reset();
    if (!tidegate_) return;
    ASSERT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
    EXPECT_EQ(tidegate_->Stop(std::chrono::seconds(10)), 0) << tidegate_->Stderr();
  }

  void Start(const std::string& room_keys) {
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
        Sha256Hex(kOperatorToken) +
        "\", role = \"operator\" }]\n"
        "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
        "\n[rooms.shop]\nmatch = [\"^/\"]\nrefresh_interval = \"1s\"\n"
        "total_active_users = 1\nnew_users_per_minute = 6000\n" +
        room_keys;
    tidegate_ = StartTidegateOrFail(dir_, options);
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(tidegate_->port()) + path;
  }

  HttpMessage Request(const std::string& target, Visitor* v, const std::string& extra = "",
                      uint16_t port = 0) {
    auto conn = ConnectOrFail(port != 0 ? port : tidegate_->port());
    if (!conn) return {};
    // The admin port answers 421 to a Host that is not its own (DNS rebinding).
    std::string req = "GET " + target +
                      " HTTP/1.1\r\nHost: " + std::string(port != 0 ? "127.0.0.1" : "shop.test") +
                      "\r\n";
    if (v != nullptr && !v->Cookie().empty()) req += "Cookie: " + v->Cookie() + "\r\n";
    req += extra + "Connection: close\r\n\r\n";
    EXPECT_TRUE(conn->Send(req));
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(10000)));
    EXPECT_TRUE(m.ok) << m.error;
    if (v != nullptr) v->Absorb(m);
    return m;
  }

  HttpMessage Metrics() { return Request("/metrics", nullptr, "", tidegate_->admin_port()); }

  Json State() {
    HttpMessage m = Request("/v1/state", nullptr,
                            std::string("Authorization: Bearer ") + kOperatorToken + "\r\n",
                            tidegate_->admin_port());
    return Json::parse(m.body, nullptr, false);
  }

  static std::string AbuseSample(const std::string& reason, uint64_t n) {
    return "tidegate_room_abuse_total{room=\"shop\",reason=\"" + reason + "\"} " +
           std::to_string(n) + "\n";
  }

  // A JSON join: the challenge of the answer.
  Json JsonJoin(Visitor* v, const std::string& answer = "") {
    std::string extra = "Accept: application/json\r\n";
    if (!answer.empty()) extra += std::string(kAnswerHeader) + ": " + answer + "\r\n";
    HttpMessage m = Request("/", v, extra);
    return Json::parse(m.body, nullptr, false);
  }

  TempDir dir_{"tidegate-abuse"};
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<TidegateProcess> tidegate_;
  std::unique_ptr<ChromeDriver> driver_;
  std::unique_ptr<WebDriverSession> browser_;
};

TEST_F(QueueAbuseTest, ScriptedJoinsWithoutAnswersGetNoTicket) {
  Start("join_challenge = \"pow\"\njoin_challenge_bits = 8\nmax_tickets_per_ip_per_minute = 0\n");
  ASSERT_TRUE(tidegate_);
  constexpr int kJoins = 200;
  int places = 0;
  int challenged = 0;
  for (int i = 0; i < kJoins; ++i) {
    Visitor bot;
    bool json = i % 2 == 1;
    HttpMessage m =
        Request(i % 3 == 0 ? "/products/1" : "/", &bot, json ? "Accept: application/json\r\n" : "");
    places += bot.HasPlace() ? 1 : 0;
    if (json) {
      Json j = Json::parse(m.body, nullptr, false);
      challenged += j.contains("challenge") && j["challenge"].value("type", "") == "pow" ? 1 : 0;
    } else {
      challenged += m.body.find("data-challenge=\"k1.") != std::string::npos ? 1 : 0;
    }
  }
  EXPECT_EQ(places, 0) << "no wait cookie and no pass without an answer";
  EXPECT_EQ(challenged, kJoins);
  HttpMessage metrics = Metrics();
  EXPECT_NE(metrics.body.find(AbuseSample("challenge_missing", kJoins)), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(AbuseSample("ticket_rate_limited", 0)), std::string::npos)
      << "every reason is rendered, zeros included\n"
      << metrics.body;
  Json state = State();
  EXPECT_EQ(state["rooms"]["shop"]["abuse"]["challenge_missing"], kJoins) << state.dump();
  EXPECT_EQ(state["rooms"]["shop"]["counters"]["queued"], 0) << state.dump();
}

TEST_F(QueueAbuseTest, ASolvedChallengeGetsAPlaceOnceAndAWrongOneNone) {
  Start("join_challenge = \"pow\"\njoin_challenge_bits = 8\nmax_tickets_per_ip_per_minute = 0\n");
  ASSERT_TRUE(tidegate_);
  // The first solver takes the only slot; the second gets a ticket.
  Visitor first;
  Json c1 = JsonJoin(&first);
  ASSERT_TRUE(c1.contains("challenge")) << c1.dump();
  EXPECT_EQ(c1["challenge"]["header"], kAnswerHeader);
  EXPECT_EQ(c1["challenge"]["bits"], 8);
  JsonJoin(&first, Solve(c1["challenge"]["token"], 8));
  ASSERT_FALSE(first.pass.empty()) << "admitted at once: the room had space";

  Visitor second;
  Json c2 = JsonJoin(&second);
  std::string answer = Solve(c2["challenge"]["token"], c2["challenge"]["bits"]);
  Json queued = JsonJoin(&second, answer);
  EXPECT_EQ(queued.value("in_queue", false), true) << queued.dump();
  EXPECT_EQ(queued.value("position", 0), 1) << queued.dump();
  ASSERT_FALSE(second.wait.empty()) << "a ticket for a valid answer";

  // Replayed by another client: no ticket, a fresh challenge instead.
  Visitor replayer;
  Json replayed = JsonJoin(&replayer, answer);
  EXPECT_FALSE(replayer.HasPlace()) << replayed.dump();
  EXPECT_EQ(replayed.value("refused", ""), "challenge_replayed") << replayed.dump();
  EXPECT_TRUE(replayed.contains("challenge")) << replayed.dump();

  // A wrong counter, or a challenge altered by the client: none either.
  Visitor cheat;
  Json c3 = JsonJoin(&cheat);
  std::string token = c3["challenge"]["token"];
  std::string right = Solve(token, 8);
  std::string wrong = token + ".x" + right.substr(right.rfind('.') + 1);
  EXPECT_EQ(JsonJoin(&cheat, wrong).value("refused", ""), "challenge_invalid");
  std::string altered = Solve("k1.Y3xzaG9wfDF8MHwx" + token.substr(token.rfind('.')), 8);
  EXPECT_EQ(JsonJoin(&cheat, altered).value("refused", ""), "challenge_invalid");
  EXPECT_FALSE(cheat.HasPlace());

  HttpMessage metrics = Metrics();
  EXPECT_NE(metrics.body.find(AbuseSample("challenge_replayed", 1)), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(AbuseSample("challenge_invalid", 2)), std::string::npos)
      << metrics.body;
  Json state = State();
  EXPECT_EQ(state["rooms"]["shop"]["counters"]["queued"], 1) << state.dump();
  EXPECT_EQ(state["rooms"]["shop"]["abuse"]["challenge_replayed"], 1) << state.dump();
}

TEST_F(QueueAbuseTest, JoinsBeyondThePerAddressCapAreRefusedWithTheReason) {
  // Fixed one-minute windows: start early in a minute so the whole test
  // stays in one (a bounded wait of at most 12 s).
  WaitFor([] { return std::time(nullptr) % 60 < 45; }, milliseconds(16000));
  Start("max_tickets_per_ip_per_minute = 4\n");
  ASSERT_TRUE(tidegate_);
  int places = 0;
  for (int i = 0; i < 4; ++i) {
    Visitor v;
    EXPECT_EQ(Request("/", &v).status, 200);
    places += v.HasPlace() ? 1 : 0;
  }
  EXPECT_EQ(places, 4) << "up to the cap: a pass, then tickets";

  Visitor over;
  HttpMessage page = Request("/", &over, "Accept: text/html\r\n");
  EXPECT_EQ(page.status, 429);
  EXPECT_TRUE(page.HasHeader("Retry-After"));
  EXPECT_FALSE(over.HasPlace());
  EXPECT_NE(page.body.find("Too many places in line were asked for from your network"),
            std::string::npos)
      << page.body.substr(0, 2000);
  EXPECT_NE(page.body.find("role=\"status\""), std::string::npos);

  HttpMessage json = Request("/", &over, "Accept: application/json\r\n");
  EXPECT_EQ(json.status, 429);
  Json j = Json::parse(json.body, nullptr, false);
  EXPECT_EQ(j.value("refused", ""), "ticket_rate_limited") << json.body;
  EXPECT_GT(j.value("retry_after_seconds", 0), 0) << json.body;
  EXPECT_FALSE(over.HasPlace());

  HttpMessage metrics = Metrics();
  EXPECT_NE(metrics.body.find(AbuseSample("ticket_rate_limited", 2)), std::string::npos)
      << metrics.body;
}

TEST_F(QueueAbuseTest, HeadlessChromiumSolvesTheChallengeAndJoinsByItself) {
  if (access(kChromiumBinary, X_OK) != 0 || access(kChromedriverBinary, X_OK) != 0) {
    GTEST_SKIP() << "Chromium or chromedriver is not installed";
  }
  Start("join_challenge = \"pow\"\njoin_challenge_bits = 12\n");
  ASSERT_TRUE(tidegate_);
  // A scripted shopper takes the only slot: the browser must queue.
  Visitor inside;
  Json c = JsonJoin(&inside);
  JsonJoin(&inside, Solve(c["challenge"]["token"], 12));
  ASSERT_FALSE(inside.pass.empty());

  driver_ = StartChromeDriverOrFail(dir_);
  ASSERT_TRUE(driver_);
  browser_ = CreateSessionOrFail(*driver_);
  ASSERT_TRUE(browser_);
  ASSERT_TRUE(browser_->Navigate(Url("/products/1"))) << browser_->last_error();
  // The challenge page first (or already the queue page, if the worker was
  // quicker than the check): either way the page ends in the queue.
  EXPECT_TRUE(WaitFor([&] { return browser_->FindElement("#tg-position").has_value(); }))
      << "the page did not join by itself; page now:\n"
      << browser_->PageSource().value_or(browser_->last_error());
  EXPECT_EQ(browser_->TextOf("#tg-position"), "1");
  EXPECT_EQ(browser_->CurrentUrl(), Url("/products/1"));
  std::optional<Json> live = browser_->ExecuteScript(
      "var el = document.getElementById('tg-live');"
      "return el ? [el.getAttribute('role'), el.getAttribute('aria-live')] : null;");
  EXPECT_EQ(live, Json::array({"status", "polite"}));

  HttpMessage metrics = Metrics();
  EXPECT_NE(metrics.body.find(AbuseSample("challenge_invalid", 0)), std::string::npos)
      << "the browser's answer was accepted the first time\n"
      << metrics.body;
  Json state = State();
  EXPECT_EQ(state["rooms"]["shop"]["counters"]["queued"], 1) << state.dump();

  // Without JavaScript: an honest text, no place.
  SessionOptions no_js;
  no_js.javascript = false;
  browser_.reset();
  browser_ = CreateSessionOrFail(*driver_, no_js);
  ASSERT_TRUE(browser_);
  ASSERT_TRUE(browser_->Navigate(Url("/"))) << browser_->last_error();
  std::optional<std::string> text = browser_->TextOf("#tg-noscript");
  ASSERT_TRUE(text) << browser_->PageSource().value_or(browser_->last_error());
  EXPECT_NE(text->find("needs JavaScript"), std::string::npos) << *text;
  EXPECT_FALSE(browser_->FindElement("#tg-position").has_value());
}

}  // namespace
}  // namespace tidegate::itest
