// The waiting room in the real binary, in front of the demo shop, with the
// in-process store: admitted at once when there is space, queued beyond
// total_active_users, admitted automatically when a slot frees (the shop's
// `Tidegate-Session: end` on POST /checkout), FIFO order, JSON answers,
// tampered cookies treated as no cookie, PATCH /v1/rooms switching the mode
// at run time, shadow mode, a lapsed wait cookie told that its place was lost.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/signed_token.h"
#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/room_cookies.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/shopper.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr char kOperatorToken[] = "queue-operator-token-0123456789abcdef0123";

using Visitor = RoomCookies;  // the jar of the "shop" room

class QueueTest : public ::testing::Test {
 protected:
  static constexpr char kSigningKey[] = "queue-test-signing-key-0123456789abcdef";

  void SetUp() override {
    shop_ = StartDemoShopOrFail(dir_);
    std::ofstream(dir_.File("k1")) << kSigningKey << "\n";
  }

  void Start(const std::string& room_keys, const std::string& refresh = "1s",
             const std::string& match = "^/") {
    ASSERT_TRUE(shop_);
    TidegateOptions options;
    options.config =
        "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 2\n"
        "drain_timeout = \"5s\"\n"
        "\n[upstream]\nservers = [\"127.0.0.1:" +
        std::to_string(shop_->port()) +
        "\"]\n"
        "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
        "audit_log = \"${DIR}/audit.jsonl\"\n"
        "tokens = [{ name = \"ops\", token_sha256 = \"" +
        Sha256Hex(kOperatorToken) +
        "\", role = \"operator\" }]\n"
        "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
        "\n[rooms.shop]\nmatch = [\"" +
        match + "\"]\nrefresh_interval = \"" + refresh + "\"\n" + room_keys;
    tidegate_ = StartTidegateOrFail(dir_, options);
  }

  void TearDown() override {
    if (!tidegate_) return;
    ASSERT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
    EXPECT_EQ(tidegate_->Stop(std::chrono::seconds(10)), 0) << tidegate_->Stderr();
  }

  HttpMessage Request(const std::string& method, const std::string& target, Visitor* v,
                      const std::string& extra = "", const std::string& body = "",
                      uint16_t port = 0) {
    auto conn = ConnectOrFail(port != 0 ? port : tidegate_->port());
    if (!conn) return {};
    // The admin port answers only its own names (DNS-rebinding check).
    std::string host = port != 0 ? "127.0.0.1" : "shop.test";
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
    if (v != nullptr && !v->Cookie().empty()) req += "Cookie: " + v->Cookie() + "\r\n";
    req += extra;
    if (!body.empty() || method == "POST" || method == "PATCH") {
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "Connection: close\r\n\r\n" + body;
    EXPECT_TRUE(conn->Send(req));
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(5000)));
    EXPECT_TRUE(m.ok) << m.error;
    EXPECT_TRUE(m.status < 500 || (m.status == 503 && m.HasHeader("Retry-After")))
        << method << " " << target << "\n"
        << m.raw;
    if (v != nullptr) v->Absorb(m);
    return m;
  }

  Json Poll(Visitor* v) {
    HttpMessage m = Request("GET", "/.tidegate/queue", v);
    return Json::parse(m.body, nullptr, false);
  }

  // Polls until admitted or 5 s pass.
  bool PollUntilAdmitted(Visitor* v) {
    auto deadline = steady_clock::now() + milliseconds(5000);
    while (steady_clock::now() < deadline) {
      Json j = Poll(v);
      if (j.is_object() && j.value("admitted", false)) return true;
      std::this_thread::sleep_for(milliseconds(100));  // pacing only, not an assertion
    }
    return false;
  }

  // Places an order with the shop: its answer carries Tidegate-Session: end.
  HttpMessage Checkout(Visitor* v) {
    std::string body = "shipping_method=standard&payment_method=card";
    Visitor with_cart = *v;
    HttpMessage m =
        Request("POST", "/checkout", &with_cart,
                "Cookie: cart=1:1\r\nContent-Type: application/x-www-form-urlencoded\r\n", body);
    v->pass = with_cart.pass;
    return m;
  }

  TempDir dir_;
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<TidegateProcess> tidegate_;
};

TEST_F(QueueTest, AdmittedAtOnceWhenThereIsSpace) {
  Start("total_active_users = 5\nnew_users_per_minute = 600\n");
  ASSERT_TRUE(tidegate_);
  Visitor v;
  HttpMessage first = Request("GET", "/", &v);
  EXPECT_EQ(first.status, 200);
  EXPECT_FALSE(IsQueuePage(first));
  EXPECT_FALSE(v.pass.empty()) << first.raw.substr(0, 600);
  auto cookie = first.Header("Set-Cookie");
  ASSERT_TRUE(cookie);
  EXPECT_NE(cookie->find("HttpOnly; SameSite=Lax"), std::string::npos);
  HttpMessage again = Request("GET", "/", &v);
  EXPECT_EQ(again.status, 200);
  EXPECT_FALSE(again.HasHeader("Set-Cookie")) << "same bucket: no refresh needed";
}

TEST_F(QueueTest, QueuedBeyondCapacityThenAdmittedInOrderWhenCheckoutEndsSessions) {
  Start("total_active_users = 1\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  Visitor inside;
  ASSERT_EQ(Request("GET", "/", &inside).status, 200);
  ASSERT_FALSE(inside.pass.empty());
  std::vector<Visitor> waiting(3);
  for (Visitor& w : waiting) {
    HttpMessage page = Request("GET", "/", &w, "Accept-Language: fr\r\n");
    EXPECT_EQ(page.status, 200);
    EXPECT_TRUE(IsQueuePage(page)) << page.body.substr(0, 300);
    EXPECT_NE(page.body.find("lang=\"fr\""), std::string::npos);
    EXPECT_NE(page.body.find("aria-live=\"polite\""), std::string::npos);
    EXPECT_LT(page.body.size(), 20'000u);
    auto csp = page.Header("Content-Security-Policy");
    ASSERT_TRUE(csp);
    EXPECT_NE(csp->find("script-src 'sha256-"), std::string::npos);
    EXPECT_FALSE(w.wait.empty());
  }
  // Positions are 1, 2, 3 in arrival order, whatever the polling order.
  for (int i = 2; i >= 0; --i) {
    Json j = Poll(&waiting[static_cast<size_t>(i)]);
    EXPECT_EQ(j["in_queue"], true) << j.dump();
    EXPECT_EQ(j["position"], i + 1) << j.dump();
    EXPECT_TRUE(j["estimated_wait_seconds"].is_array());
    EXPECT_EQ(j["refresh_seconds"], 1);
  }
  // Each order placed frees the slot for the next in line, in FIFO order.
  Visitor* current = &inside;
  for (size_t next = 0; next < waiting.size(); ++next) {
    HttpMessage order = Checkout(current);
    EXPECT_EQ(order.status, 200) << order.body.substr(0, 300);
    EXPECT_FALSE(order.HasHeader("Tidegate-Session")) << "removed before the client";
    EXPECT_TRUE(current->pass.empty()) << "the pass cookie is cleared";
    for (size_t later = waiting.size() - 1; later > next; --later) {
      EXPECT_EQ(Poll(&waiting[later])["in_queue"], true) << "ticket " << later + 1 << " waits";
    }
    ASSERT_TRUE(PollUntilAdmitted(&waiting[next])) << "ticket " << next + 1;
    EXPECT_FALSE(waiting[next].pass.empty());
    HttpMessage shop = Request("GET", "/", &waiting[next]);
    EXPECT_EQ(shop.status, 200);
    EXPECT_FALSE(IsQueuePage(shop));
    current = &waiting[next];
  }
}

// A shopper whose turn came claims it with a page request (a reload, the
// page's "check again" link without script) while the shop is down: the
// proxy's 502 spends the claim, so it carries the pass — the retry goes
// straight in instead of "this place was already used" and the back of the
// line (audit 8, F1).
TEST_F(QueueTest, AClaimAnsweredByTheProxysOwn502KeepsThePass) {
  Start("total_active_users = 1\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  Visitor inside;
  ASSERT_EQ(Request("GET", "/", &inside).status, 200);
  ASSERT_FALSE(inside.pass.empty());
  Visitor waiter;
  HttpMessage queued = Request("GET", "/", &waiter);
  ASSERT_TRUE(IsQueuePage(queued)) << queued.body.substr(0, 300);
  ASSERT_FALSE(waiter.wait.empty());
  ASSERT_EQ(Checkout(&inside).status, 200);  // frees the one place
  shop_.reset();                             // the shop goes down

  // Page requests until the invitation comes (at the room's next tick).
  HttpMessage claim;
  auto deadline = steady_clock::now() + milliseconds(5000);
  while (steady_clock::now() < deadline) {
    auto conn = ConnectOrFail(tidegate_->port());
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send("GET / HTTP/1.1\r\nHost: shop.test\r\nCookie: " + waiter.Cookie() +
                           "\r\nConnection: close\r\n\r\n"));
    claim = ReadResponse(*conn, Within(milliseconds(5000)));
    ASSERT_TRUE(claim.ok) << claim.error;
    if (!IsQueuePage(claim)) break;
    std::this_thread::sleep_for(milliseconds(100));  // pacing only
  }
  ASSERT_EQ(claim.status, 502) << claim.raw.substr(0, 600);
  waiter.Absorb(claim);
  EXPECT_FALSE(waiter.pass.empty()) << "the 502 must carry the pass: " << claim.raw.substr(0, 600);
  auto cache = claim.Header("Cache-Control");
  ASSERT_TRUE(cache);
  EXPECT_NE(cache->find("no-store"), std::string::npos);

  // The shopper is inside: the room says admitted, not "ticket_used".
  Json j = Poll(&waiter);
  EXPECT_EQ(j.value("admitted", false), true) << j.dump();
  EXPECT_FALSE(j.contains("notice")) << j.dump();
}

// A shopper whose turn came claims it with the order itself (a POST to
// /checkout, whose answer ends the session): the answer clears the pass
// and the wait cookie both — kept, the spent wait cookie would tell the
// next visit "this place was already used" (audit 9 N3).
TEST_F(QueueTest, AClaimThatEndsTheSessionClearsTheWaitCookieToo) {
  Start("total_active_users = 1\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  Visitor inside;
  ASSERT_EQ(Request("GET", "/", &inside).status, 200);
  Visitor waiter;
  ASSERT_TRUE(IsQueuePage(Request("GET", "/", &waiter)));
  ASSERT_FALSE(waiter.wait.empty());
  ASSERT_EQ(Checkout(&inside).status, 200);  // frees the one place

  // Orders until the invitation comes (at the room's next tick): the claim
  // is the order, which ends the session at once.
  HttpMessage order;
  auto deadline = steady_clock::now() + milliseconds(5000);
  while (steady_clock::now() < deadline) {
    Visitor attempt = waiter;
    order = Checkout(&attempt);
    if (!IsQueuePage(order)) {
      waiter = attempt;
      break;
    }
    std::this_thread::sleep_for(milliseconds(100));  // pacing only
  }
  ASSERT_EQ(order.status, 200) << order.raw.substr(0, 600);
  ASSERT_FALSE(IsQueuePage(order));
  waiter.Absorb(order);
  EXPECT_TRUE(waiter.pass.empty()) << "the session ended: " << order.raw.substr(0, 600);
  EXPECT_TRUE(waiter.wait.empty())
      << "the spent wait cookie is cleared: " << order.raw.substr(0, 600);
  HttpMessage next = Request("GET", "/", &waiter);
  EXPECT_EQ(next.body.find("already been used"), std::string::npos) << next.body.substr(0, 600);
}

// The front of the line polls every second (an invitation is claimed at
// once, not up to a refresh interval later); the rest at refresh_interval.
// (The room is full: its one place turns over once per 10-s session, so the
// first in line is about 10 s away, the 40th minutes away.)
TEST_F(QueueTest, TheFrontOfTheLinePollsSooner) {
  Start("total_active_users = 1\nnew_users_per_minute = 60\nsession_duration = \"10s\"\n", "10s");
  ASSERT_TRUE(tidegate_);
  Visitor inside;
  ASSERT_EQ(Request("GET", "/", &inside).status, 200);
  std::vector<Visitor> line(40);
  for (Visitor& v : line) ASSERT_EQ(Request("GET", "/", &v).status, 200);
  Json first = Poll(&line[0]);
  EXPECT_EQ(first["position"], 1) << first.dump();
  EXPECT_EQ(first["refresh_seconds"], 1) << first.dump();
  Json last = Poll(&line.back());
  EXPECT_EQ(last["position"], 40) << last.dump();
  EXPECT_EQ(last["refresh_seconds"], 10) << "minutes away: " << last.dump();
}

// A full room invites only as sessions end: with its one place held for a
// 5-minute session, the first in line is not told "less than a minute" (the
// configured 60 a minute would say a second), and the second waits longer.
TEST_F(QueueTest, AFullRoomTellsTheWaitItsSessionsMake) {
  Start("total_active_users = 1\nnew_users_per_minute = 60\nsession_duration = \"5m\"\n");
  ASSERT_TRUE(tidegate_);
  Visitor inside;
  ASSERT_EQ(Request("GET", "/", &inside).status, 200);
  std::vector<Visitor> line(2);
  for (Visitor& v : line) ASSERT_EQ(Request("GET", "/", &v).status, 200);
  Json first = Poll(&line[0]);
  ASSERT_EQ(first["position"], 1) << first.dump();
  ASSERT_TRUE(first["estimated_wait_seconds"].is_array()) << first.dump();
  EXPECT_GE(first["estimated_wait_seconds"][1].get<int>(), 300) << first.dump();
  EXPECT_GE(first["estimated_wait_seconds"][0].get<int>(), 180) << first.dump();
  Json second = Poll(&line[1]);
  EXPECT_GT(second["estimated_wait_seconds"][1].get<int>(),
            first["estimated_wait_seconds"][1].get<int>())
      << second.dump();
}

// Audit F4 through the binary: a full room whose line moved (each order
// placed frees the place for the next in line) and then stops. The estimate
// of a shopper polling every second may grow, but by a bounded factor per
// poll: before, 5 s into the stop the full room's turnover (one session per
// 5 min) replaced the measured speed at once, and "less than a minute" at
// position 10 became "40 to 65 min" one poll later.
TEST_F(QueueTest, TheEstimateDoesNotLeapWhenTheLineStops) {
  Start("total_active_users = 1\nnew_users_per_minute = 60\nsession_duration = \"5m\"\n");
  ASSERT_TRUE(tidegate_);
  Visitor inside;
  ASSERT_EQ(Request("GET", "/", &inside).status, 200);
  std::vector<Visitor> line(30);
  for (Visitor& v : line) ASSERT_EQ(Request("GET", "/", &v).status, 200);
  // The line moves about one place a second for 14 s or more (the first
  // window of measurement is 10 s).
  Visitor* current = &inside;
  auto moving_until = steady_clock::now() + milliseconds(14'000);
  size_t next = 0;
  while (steady_clock::now() < moving_until && next + 12 < line.size()) {
    auto paced = steady_clock::now() + milliseconds(700);
    ASSERT_EQ(Checkout(current).status, 200);
    ASSERT_TRUE(PollUntilAdmitted(&line[next])) << "ticket " << next + 1;
    current = &line[next++];
    std::this_thread::sleep_for(paced - steady_clock::now());  // pacing only
  }
  ASSERT_GE(next, 10u);
  // The line stops (nobody places an order): the last in line polls every
  // second for 12 s.
  Visitor& last = line.back();
  int previous_high = -1;
  for (int poll = 0; poll < 12; ++poll) {
    Json j = Poll(&last);
    ASSERT_TRUE(j["estimated_wait_seconds"].is_array()) << j.dump();
    int high = j["estimated_wait_seconds"][1].get<int>();
    if (previous_high > 0) {
      // x1.15 a second, the rounding step (1 min below 15 min) and a poll
      // late by a second on a loaded machine: well under x10.
      EXPECT_LE(high, previous_high * 2 + 60) << "poll " << poll << ": " << j.dump();
    }
    previous_high = high;
    std::this_thread::sleep_for(milliseconds(1000));  // the page's pace
  }
}

// The queue page is written by the proxy in place (its pieces and the
// visitor's values straight into the output, its constant headers
// serialized once per page): on the wire it is one whole response, its
// Content-Length the body's size, each header once, on a keep-alive
// connection whose next answer (and a HEAD's, without body) frames right.
TEST_F(QueueTest, QueuePageWrittenInPlaceIsWholeOnTheWire) {
  Start("mode = \"queue_all\"\ntotal_active_users = 1\nnew_users_per_minute = 1\n");
  auto conn = ConnectOrFail(tidegate_->port());
  ASSERT_TRUE(conn);
  std::string get = "GET /products?x=%22a HTTP/1.1\r\nHost: shop.test\r\n\r\n";
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(conn->Send(get));
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(5000)));
    ASSERT_TRUE(m.ok) << m.error;
    EXPECT_EQ(m.status, 200);
    EXPECT_TRUE(m.keep_alive);
    EXPECT_EQ(m.Header("Content-Length"), std::to_string(m.body.size()));
    EXPECT_NE(m.body.find("id=\"tg-queue\""), std::string::npos);
    EXPECT_NE(m.body.find("href=\"/products?x=%22a\""), std::string::npos) << m.body;
    EXPECT_EQ(m.body.find("@@TG_"), std::string::npos);
    EXPECT_EQ(m.body.substr(m.body.size() - 8), "</html>\n");
    for (const char* name : {"Content-Type", "Content-Security-Policy", "X-Content-Type-Options",
                             "Referrer-Policy", "Cache-Control", "Set-Cookie"}) {
      EXPECT_EQ(m.HeaderCount(name), 1) << name << "\n" << m.raw;
    }
    EXPECT_EQ(m.Header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(m.Header("Content-Security-Policy").value_or("").find("script-src 'sha256-"),
              std::string::npos);
  }
  ASSERT_TRUE(conn->Send("HEAD /products HTTP/1.1\r\nHost: shop.test\r\n\r\n"));
  ReadOptions head = Within(milliseconds(5000));
  head.head_request = true;
  HttpMessage h = ReadResponse(*conn, head);
  ASSERT_TRUE(h.ok) << h.error;
  EXPECT_TRUE(h.body.empty());
  EXPECT_GT(std::stoul(h.Header("Content-Length").value_or("0")), 1000u);
  EXPECT_EQ(h.HeaderCount("Content-Security-Policy"), 1);
  ASSERT_TRUE(conn->Send(get));  // the HEAD left nothing behind on the connection
  HttpMessage after = ReadResponse(*conn, Within(milliseconds(5000)));
  ASSERT_TRUE(after.ok) << after.error;
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.Header("Content-Length"), std::to_string(after.body.size()));
}

// A local reply is written straight to the socket when nothing is queued
// before it (Stream::WriteLocalDirect) and through the output buffer
// otherwise: pipelined requests answered by the room, the built-in router
// and the origin, one after another on one connection, get their answers
// whole and in order.
TEST_F(QueueTest, PipelinedLocalAndOriginAnswersStayInOrder) {
  Start(
      "mode = \"queue_all\"\ntotal_active_users = 1\nnew_users_per_minute = 1\n"
      "bypass_paths = [\"^/static/\"]\n");
  auto conn = ConnectOrFail(tidegate_->port());
  ASSERT_TRUE(conn);
  std::string pipelined;
  for (const char* target : {"/a", "/.tidegate/health", "/static/none.css", "/b", "/c"}) {
    pipelined += std::string("GET ") + target + " HTTP/1.1\r\nHost: shop.test\r\n\r\n";
  }
  ASSERT_TRUE(conn->Send(pipelined));
  auto queue_page = [](const HttpMessage& m) {
    return m.status == 200 && m.body.find("id=\"tg-queue\"") != std::string::npos &&
           m.Header("Content-Length") == std::to_string(m.body.size()) &&
           m.body.substr(m.body.size() - 8) == "</html>\n";
  };
  HttpMessage a = ReadResponse(*conn, Within(milliseconds(5000)));
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_TRUE(queue_page(a)) << a.raw;
  HttpMessage health = ReadResponse(*conn, Within(milliseconds(5000)));
  ASSERT_TRUE(health.ok) << health.error;
  EXPECT_EQ(health.status, 200) << health.raw;
  EXPECT_EQ(health.body.find("tg-queue"), std::string::npos);
  HttpMessage origin = ReadResponse(*conn, Within(milliseconds(5000)));
  ASSERT_TRUE(origin.ok) << origin.error;
  EXPECT_EQ(origin.body.find("tg-queue"), std::string::npos) << origin.raw;
  for (int i = 0; i < 2; ++i) {
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(5000)));
    ASSERT_TRUE(m.ok) << m.error;
    EXPECT_TRUE(queue_page(m)) << m.raw;
  }
}

// A client that asks for many pages before reading any: the first pages
// are written straight to the socket, the later ones wait in the output
// buffer behind what the socket has not taken; every page arrives whole,
// in order. (Whether one writev is cut short here depends on the kernel's
// buffer sizes; GatheredWriteTest covers that cut byte for byte.)
TEST_F(QueueTest, QueuePagesToAClientThatReadsLateArriveWhole) {
  Start(
      "mode = \"queue_all\"\ntotal_active_users = 1\nnew_users_per_minute = 1\n"
      "max_tickets_per_ip_per_minute = 0\n");  // every page is one more ticket from 127.0.0.1
  auto conn = ConnectOrFail(tidegate_->port());
  ASSERT_TRUE(conn);
  constexpr int kPages = 300;  // about 1.3 MB of answers: more than both sockets hold
  std::string pipelined;
  for (int i = 0; i < kPages; ++i) {
    pipelined += "GET /p" + std::to_string(i) + " HTTP/1.1\r\nHost: shop.test\r\n\r\n";
  }
  ASSERT_TRUE(conn->Send(pipelined));
  std::this_thread::sleep_for(milliseconds(500));  // not an assertion: let the sockets fill
  for (int i = 0; i < kPages; ++i) {
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(5000)));
    ASSERT_TRUE(m.ok) << "page " << i << ": " << m.error;
    ASSERT_EQ(m.status, 200);
    ASSERT_EQ(m.Header("Content-Length"), std::to_string(m.body.size()));
    ASSERT_EQ(m.body.substr(m.body.size() - 8), "</html>\n") << "page " << i;
    ASSERT_NE(m.body.find("href=\"/p" + std::to_string(i) + "\""), std::string::npos)
        << "page " << i << " out of order";
  }
}

TEST_F(QueueTest, JsonForApiClientsAndConfiguredStatus) {
  Start("total_active_users = 1\nnew_users_per_minute = 6000\nqueued_status = 503\n");
  ASSERT_TRUE(tidegate_);
  Visitor inside;
  ASSERT_EQ(Request("GET", "/", &inside).status, 200);
  Visitor app;
  HttpMessage m = Request("GET", "/api/products", &app, "Accept: application/json\r\n");
  EXPECT_EQ(m.status, 503);
  EXPECT_EQ(m.Header("Retry-After"), "1");
  Json j = Json::parse(m.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << m.body;
  EXPECT_EQ(j["in_queue"], true);
  EXPECT_EQ(j["position"], 1);
  EXPECT_EQ(j["estimated_wait_seconds"].size(), 2u);
  EXPECT_EQ(j["refresh_seconds"], 1);
  // Without a ticket, /.tidegate/queue says so and issues none.
  Visitor nobody;
  Json none = Poll(&nobody);
  EXPECT_EQ(none["in_queue"], false);
  EXPECT_EQ(none["admitted"], false);
  EXPECT_TRUE(nobody.wait.empty());
}

TEST_F(QueueTest, TamperedCookiesCountAsNoCookie) {
  Start("total_active_users = 1\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  Visitor inside;
  ASSERT_EQ(Request("GET", "/", &inside).status, 200);
  std::string good = inside.pass;
  std::vector<std::string> forged = {
      good.substr(0, good.size() - 2), good + "x",           "k1..", "%%%",
      std::string(3000, 'A'),          "k9" + good.substr(2)};
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 1;
  forged.push_back(flipped);
  for (const std::string& f : forged) {
    Visitor v;
    v.pass = f;
    HttpMessage m = Request("GET", "/", &v);
    EXPECT_EQ(m.status, 200);
    EXPECT_TRUE(IsQueuePage(m)) << "forged pass " << f.substr(0, 40);
  }
  // A wait cookie presented as a pass is not a pass (case 43).
  Visitor queued;
  Request("GET", "/", &queued);
  ASSERT_FALSE(queued.wait.empty());
  Visitor swapped;
  swapped.pass = queued.wait;
  EXPECT_TRUE(IsQueuePage(Request("GET", "/", &swapped)));
  // Two cookies of the same name, one forged: the valid one wins (case 45).
  HttpMessage both = Request("GET", "/", nullptr,
                             "Cookie: tg_pass_shop=" + flipped + "; tg_pass_shop=" + good + "\r\n");
  EXPECT_FALSE(IsQueuePage(both));
}

// A lost place (docs/waiting-room.md, "A lost place"): a wait cookie signed
// with the room's key whose ticket lapsed an hour ago (the browser keeps it
// a day longer than the ticket) gets a new place at the end and is told
// so, on the page and in JSON; the same cookie with a flipped MAC, or one
// of another room, gets a newcomer's place without the notice; a valid
// wait cookie is left as it is.
TEST_F(QueueTest, ALapsedWaitCookieIsToldItsPlaceWasLost) {
  Start("total_active_users = 1\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  Visitor inside;
  ASSERT_EQ(Request("GET", "/", &inside).status, 200);
  Visitor waiting;
  HttpMessage queued = Request("GET", "/", &waiting);
  ASSERT_TRUE(IsQueuePage(queued));
  ASSERT_FALSE(waiting.wait.empty());
  bool kept_a_day_longer = false;
  for (const auto& [name, value] : queued.headers) {
    if (value.rfind("tg_wait_shop=", 0) == 0) {
      kept_a_day_longer = value.find("Max-Age=108000") != std::string::npos;
    }
  }
  EXPECT_TRUE(kept_a_day_longer) << queued.raw.substr(0, 800);

  common::SignedTokenCodec codec(std::vector<common::SigningKey>{{"k1", kSigningKey}});
  int64_t now =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  auto lapsed_wait = [&](const std::string& room) {  // ticket 1, lapsed an hour ago
    int64_t expires = now - 3'600'000;
    return codec.Sign(
        common::TokenPurpose::kWait,
        room + "|1|" + std::to_string(expires - 6 * 3'600'000) + "|" + std::to_string(expires));
  };
  const std::string kTold = "expired while you were away";

  Visitor back;
  back.wait = lapsed_wait("shop");
  std::string old = back.wait;
  HttpMessage page = Request("GET", "/", &back);
  EXPECT_TRUE(IsQueuePage(page));
  EXPECT_NE(page.body.find(kTold), std::string::npos) << page.body.substr(0, 3000);
  EXPECT_FALSE(back.wait.empty());
  EXPECT_NE(back.wait, old) << "a new ticket replaces the lapsed cookie";
  EXPECT_TRUE(back.pass.empty()) << "never a pass";
  Json again = Poll(&back);
  EXPECT_EQ(again["in_queue"], true) << again.dump();
  EXPECT_FALSE(again.contains("notice")) << "the new ticket is an ordinary one: " << again.dump();
  EXPECT_GE(again.value("position", 0), 2) << "behind the visitor already waiting";

  Visitor api;
  api.wait = lapsed_wait("shop");
  HttpMessage m = Request("GET", "/api/products", &api, "Accept: application/json\r\n");
  Json j = Json::parse(m.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << m.body;
  EXPECT_EQ(j["notice"], "place_expired") << m.body;
  EXPECT_TRUE(j["position"].is_number()) << m.body;
  EXPECT_NE(j.value("message", "").find(kTold), std::string::npos) << m.body;

  std::string flipped = lapsed_wait("shop");
  flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';
  for (const std::string& cookie : {flipped, lapsed_wait("other")}) {
    Visitor v;
    v.wait = cookie;
    HttpMessage other = Request("GET", "/", &v);
    EXPECT_TRUE(IsQueuePage(other));
    EXPECT_EQ(other.body.find(kTold), std::string::npos) << cookie;
    EXPECT_NE(v.wait, cookie) << "a newcomer's ticket";
  }

  std::string valid = waiting.wait;
  HttpMessage still = Request("GET", "/", &waiting);
  EXPECT_TRUE(IsQueuePage(still));
  EXPECT_EQ(still.body.find(kTold), std::string::npos);
  EXPECT_EQ(waiting.wait, valid) << "a valid cookie is left as it is";
  EXPECT_FALSE(still.Header("Set-Cookie")) << still.raw.substr(0, 800);
}

TEST_F(QueueTest, PatchSwitchesTheModeAtRunTime) {
  Start("mode = \"off\"\ntotal_active_users = 100\nnew_users_per_minute = 60\n");
  ASSERT_TRUE(tidegate_);
  HttpMessage open = Request("GET", "/", nullptr);
  EXPECT_EQ(open.status, 200);
  EXPECT_FALSE(open.HasHeader("Set-Cookie")) << "room off: untouched";
  std::string patch = R"({"mode": "queue_all"})";
  HttpMessage changed = Request("PATCH", "/v1/rooms/shop", nullptr,
                                std::string("Authorization: Bearer ") + kOperatorToken +
                                    "\r\nContent-Type: application/json\r\n",
                                patch, tidegate_->admin_port());
  ASSERT_EQ(changed.status, 200) << changed.body;
  Visitor v;
  HttpMessage queued = Request("GET", "/", &v);
  EXPECT_TRUE(IsQueuePage(queued)) << queued.body.substr(0, 300);
  EXPECT_FALSE(v.wait.empty());
  EXPECT_TRUE(PollUntilAdmitted(&v)) << "queue_all still lets people in at the rate";
}

// A room switched off at run time lets everyone through untouched (the gate
// skips it per request) and queues again once switched back on.
TEST_F(QueueTest, SwitchedOffAtRunTimeAndOnAgain) {
  Start("mode = \"queue_all\"\ntotal_active_users = 100\nnew_users_per_minute = 60\n");
  ASSERT_TRUE(tidegate_);
  auto patch = [&](const std::string& mode) {
    return Request("PATCH", "/v1/rooms/shop", nullptr,
                   std::string("Authorization: Bearer ") + kOperatorToken +
                       "\r\nContent-Type: application/json\r\n",
                   R"({"mode": ")" + mode + R"("})", tidegate_->admin_port());
  };
  Visitor before;
  EXPECT_TRUE(IsQueuePage(Request("GET", "/", &before)));
  ASSERT_EQ(patch("off").status, 200);
  HttpMessage open = Request("GET", "/", nullptr);
  EXPECT_EQ(open.status, 200);
  EXPECT_FALSE(IsQueuePage(open));
  EXPECT_FALSE(open.HasHeader("Set-Cookie")) << "room off: untouched";
  Json polled = Poll(&before);  // the room is off: everyone may go in
  EXPECT_TRUE(polled.is_object() && polled.value("admitted", false)) << polled.dump();
  ASSERT_EQ(patch("queue_all").status, 200);
  Visitor after;
  HttpMessage queued = Request("GET", "/", &after);
  EXPECT_TRUE(IsQueuePage(queued)) << queued.body.substr(0, 300);
  EXPECT_FALSE(after.wait.empty());
  EXPECT_TRUE(PollUntilAdmitted(&after)) << "queue_all lets people in at the rate";
}

// Operators see the room live: /metrics (open on loopback) and GET /v1/state
// carry the queue length and the sessions inside.
TEST_F(QueueTest, LiveCountersReachMetricsAndState) {
  Start("total_active_users = 1\nnew_users_per_minute = 1\n");
  ASSERT_TRUE(tidegate_);
  Visitor inside;
  ASSERT_EQ(Request("GET", "/", &inside).status, 200);
  ASSERT_FALSE(inside.pass.empty());
  std::vector<Visitor> waiting(2);
  for (Visitor& w : waiting) EXPECT_TRUE(IsQueuePage(Request("GET", "/", &w)));

  HttpMessage metrics = Request("GET", "/metrics", nullptr, "", "", tidegate_->admin_port());
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_NE(metrics.body.find("tidegate_room_counters_available 1\n"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("tidegate_room_queued{room=\"shop\"} 2\n"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("tidegate_room_active{room=\"shop\"} 1\n"), std::string::npos)
      << metrics.body;
  // Answerers are counted when an exchange is logged, just after its last
  // byte is written: poll (bounded) for the second queue page.
  const std::string answered = "tidegate_responses_by_answerer_total{answered_by=\"queue\"} 2\n";
  auto deadline = steady_clock::now() + milliseconds(5000);
  while (metrics.body.find(answered) == std::string::npos && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
    metrics = Request("GET", "/metrics", nullptr, "", "", tidegate_->admin_port());
  }
  EXPECT_NE(metrics.body.find(answered), std::string::npos) << metrics.body;

  HttpMessage state = Request("GET", "/v1/state", nullptr,
                              std::string("Authorization: Bearer ") + kOperatorToken + "\r\n", "",
                              tidegate_->admin_port());
  ASSERT_EQ(state.status, 200) << state.body;
  Json j = Json::parse(state.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << state.body;
  EXPECT_NE(state.body.find("\"queued\":2"), std::string::npos) << state.body;
}

TEST_F(QueueTest, ShadowModeQueuesNobody) {
  Start("enforced = false\ntotal_active_users = 1\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  for (int i = 0; i < 5; ++i) {
    Visitor v;
    HttpMessage m = Request("GET", "/", &v);
    EXPECT_EQ(m.status, 200);
    EXPECT_FALSE(IsQueuePage(m));
  }
}

TEST_F(QueueTest, BypassHeaderAndStaticPaths) {
  std::ofstream(dir_.File("bypass")) << "load-test-bypass-secret-0123456789\n";
  Start(
      "total_active_users = 1\nnew_users_per_minute = 6000\nbypass_paths = [\"^/static/\"]\n"
      "bypass_header = \"X-Load-Test\"\nbypass_secret_file = \"${DIR}/bypass\"\n");
  ASSERT_TRUE(tidegate_);
  Visitor inside;
  ASSERT_EQ(Request("GET", "/", &inside).status, 200);
  EXPECT_TRUE(IsQueuePage(Request("GET", "/", nullptr)));
  EXPECT_FALSE(IsQueuePage(
      Request("GET", "/", nullptr, "X-Load-Test: load-test-bypass-secret-0123456789\r\n")));
  EXPECT_TRUE(IsQueuePage(Request("GET", "/", nullptr, "X-Load-Test: wrong\r\n")));
  EXPECT_FALSE(IsQueuePage(Request("GET", "/static/x.css", nullptr)));
  // A bypass path must hold for every spelling: an origin that reads %2F or
  // %5C as '/' serves "/secret" for "/static%2Fx/..": refused (400) like
  // every dot segment (audit 15), never let through as a bypass path.
  for (const char* target : {"/static/..%2fsecret", "/static/%2E%2E%5csecret",
                             "/static%2F..%2Fsecret", "/static/..\\secret", "/static/..;/secret"}) {
    HttpMessage m = Request("GET", target, nullptr);
    EXPECT_EQ(m.status, 400) << target;
    EXPECT_FALSE(IsQueuePage(m)) << target;
  }
  // A spelling with an encoded separator and no dot segment is judged in
  // both readings: "/static%2Fx" is not under ^/static/ when %2F stays
  // text, so it waits.
  EXPECT_TRUE(IsQueuePage(Request("GET", "/static%2Fsecret", nullptr)));
}

// Issue 11: room patterns are matched like feature rules, case-insensitively
// on the normalised path, so a script cannot walk past the room by spelling
// /checkout differently; and the queue page's "check again" link is built
// from the normalised path, never the raw target.
TEST_F(QueueTest, EverySpellingOfAProtectedPathIsQueued) {
  Start("mode = \"queue_all\"\ntotal_active_users = 100\nnew_users_per_minute = 60\n", "1s",
        "^/checkout");
  ASSERT_TRUE(tidegate_);
  for (const char* target : {"/checkout", "/CheckOut", "/CHECKOUT", "//checkout", "/%43heckout",
                             "/checkout;x=1", "/checkout%2Fx", "/checkout\\x"}) {
    HttpMessage m = Request("GET", target, nullptr);
    EXPECT_TRUE(IsQueuePage(m)) << target << " reached the origin: " << m.status;
  }
  // Dot segments, however spelt (separators an origin may decode, ";" params
  // servlets drop), are refused before the room judges them (audit 15:
  // origins resolve them in different ways).
  for (const char* target : {"/a/../Checkout", "/x/..%2fcheckout", "/x%2F..%2FCheckout",
                             "/x/..%5Ccheckout", "/x\\..\\checkout", "/checkout//..",
                             "/static/..;/checkout", "//evil.example/../CheckOut?step=2"}) {
    EXPECT_EQ(Request("GET", target, nullptr).status, 400) << target;
  }
  EXPECT_FALSE(IsQueuePage(Request("GET", "/", nullptr))) << "outside the room";

  // The queue page's link is the normalised path: "//CheckOut" reads as a
  // host to a browser.
  HttpMessage tricked = Request("GET", "//CheckOut?step=2", nullptr);
  ASSERT_TRUE(IsQueuePage(tricked));
  EXPECT_NE(tricked.body.find("href=\"/CheckOut?step=2\""), std::string::npos) << tricked.body;
}

// A pass added to a page the origin marks public must not be stored by a
// shared cache (a CDN in front would hand one visitor's pass to others).
TEST_F(QueueTest, PagesCarryingAPassAreNeverPublic) {
  Start("total_active_users = 5\nnew_users_per_minute = 600\n");
  ASSERT_TRUE(tidegate_);
  const std::string page = "/banner-test/page?cc=public,max-age=60,s-maxage=600";
  Visitor v;
  HttpMessage first = Request("GET", page, &v);
  ASSERT_EQ(first.status, 200);
  ASSERT_TRUE(first.HasHeader("Set-Cookie")) << first.raw.substr(0, 600);
  EXPECT_EQ(first.Header("Cache-Control").value_or(""), "private, max-age=60");
  // The pass is renewed when its 10 s bucket changes: wait for that answer.
  auto deadline = steady_clock::now() + milliseconds(12000);
  bool renewed = false;
  while (!renewed && steady_clock::now() < deadline) {
    HttpMessage m = Request("GET", page, &v);
    ASSERT_EQ(m.status, 200);
    EXPECT_EQ(m.HeaderCount("Cache-Control"), 1);
    if (m.HasHeader("Set-Cookie")) {
      renewed = true;
      EXPECT_EQ(m.Header("Cache-Control").value_or(""), "private, max-age=60") << m.raw;
      EXPECT_EQ(m.raw.find("public"), std::string::npos) << m.raw;
    } else {
      // No cookie added: the origin's own choice stays.
      EXPECT_EQ(m.Header("Cache-Control").value_or(""), "public,max-age=60,s-maxage=600");
      std::this_thread::sleep_for(milliseconds(250));  // pacing only
    }
  }
  EXPECT_TRUE(renewed) << "no renewal within 12 s";
}

// The room's bypass secrets and the staff bypass cookie are read by tidegate
// and never forwarded: demo_shop's /echo shows what the origin received.
TEST_F(QueueTest, BypassSecretsNeverReachTheOrigin) {
  const std::string secret = "load-test-bypass-secret-0123456789";
  std::ofstream(dir_.File("bypass")) << secret << "\n";
  Start(
      "total_active_users = 5\nnew_users_per_minute = 6000\n"
      "bypass_header = \"X-Load-Test\"\nbypass_cookie = \"tg_staff\"\n"
      "bypass_secret_file = \"${DIR}/bypass\"\n");
  ASSERT_TRUE(tidegate_);
  HttpMessage by_header = Request("GET", "/echo", nullptr,
                                  "X-Load-Test: " + secret +
                                      "\r\nCookie: a=1; tg_bypass=v1.k1.9.mac;  b=2; "
                                      "tg_staff=" +
                                      secret + "; c=3\r\n");
  ASSERT_EQ(by_header.status, 200) << by_header.raw;
  EXPECT_EQ(by_header.body.find(secret), std::string::npos) << by_header.body;
  EXPECT_EQ(by_header.body.find("X-Load-Test"), std::string::npos) << by_header.body;
  EXPECT_EQ(by_header.body.find("tg_bypass"), std::string::npos) << by_header.body;
  EXPECT_NE(by_header.body.find("\r\nCookie: a=1;  b=2; c=3\r\n"), std::string::npos)
      << by_header.body;
  EXPECT_FALSE(by_header.HasHeader("Set-Cookie")) << "bypassed: no pass";

  HttpMessage by_cookie = Request("GET", "/echo", nullptr, "Cookie: tg_staff=" + secret + "\r\n");
  ASSERT_EQ(by_cookie.status, 200) << by_cookie.raw;
  EXPECT_EQ(by_cookie.body.find(secret), std::string::npos) << by_cookie.body;
  EXPECT_EQ(by_cookie.body.find("Cookie:"), std::string::npos) << "emptied Cookie removed";
}

}  // namespace
}  // namespace tidegate::itest
