// Scheduled events in the real binary (local store, real HTTP, the demo
// shop): during the pre-queue every visitor is queued without a position
// (JSON `position: null`, `draw_at`); at the event's start the pre-queue is
// drawn — positions are a shuffle of the tickets, not their order — later
// arrivals are behind every drawn visitor, and admission follows the drawn
// places (the event's limits: one shopper at a time, a checkout frees the
// slot).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/rfc3339.h"
#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/redis_server.h"
#include "tests/integration/harness/room_cookies.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using std::chrono::system_clock;

constexpr int kPrequeueVisitors = 30;

using Visitor = RoomCookies;  // the jar of the "shop" room

// Runs with the local store and with Redis (one instance; the marks and
// the draw are the same code over RoomStore::Mark).
class QueueEventsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "redis") {
      if (!RedisServer::Available()) GTEST_SKIP() << "redis-server is not installed";
      redis_ = StartRedisOrFail(dir_);
      ASSERT_TRUE(redis_);
    }
    shop_ = StartDemoShopOrFail(dir_);
    std::ofstream(dir_.File("k1")) << "queue-events-test-signing-key-0123456789\n";
  }

  void TearDown() override {
    if (!tidegate_) return;
    ASSERT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
    EXPECT_EQ(tidegate_->Stop(std::chrono::seconds(10)), 0) << tidegate_->Stderr();
  }

  // The room admits freely (auto, 1000 places) outside the event; the event
  // lets one shopper in at a time.
  void Start(
      system_clock::time_point prequeue, system_clock::time_point start,
      const std::string& event_limits = "total_active_users = 1\nnew_users_per_minute = 6000\n") {
    ASSERT_TRUE(shop_);
    TidegateOptions options;
    options.config =
        "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 2\n"
        "drain_timeout = \"5s\"\n"
        "\n[upstream]\nservers = [\"127.0.0.1:" +
        std::to_string(shop_->port()) + "\"]\n" +
        // A probed admin port: the default 127.0.0.1:9901 would collide
        // with the other backend's run in parallel.
        "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
        "audit_log = \"${DIR}/audit.jsonl\"\n" +
        StateSection() +
        "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
        "\n[rooms.shop]\nmatch = [\"^/\"]\nrefresh_interval = \"1s\"\n"
        "total_active_users = 1000\nnew_users_per_minute = 6000\n"
        "\n[[rooms.shop.events]]\nname = \"launch\"\n"
        "prequeue_start = " +
        common::FormatRfc3339(prequeue) + "\nstart = " + common::FormatRfc3339(start) +
        "\nend = " + common::FormatRfc3339(start + std::chrono::hours(1)) + "\n" + event_limits +
        "mode = \"queue_all\"\n";
    tidegate_ = StartTidegateOrFail(dir_, options);
  }

  HttpMessage Request(const std::string& method, const std::string& target, Visitor* v,
                      const std::string& extra = "", const std::string& body = "") {
    auto conn = ConnectOrFail(tidegate_->port());
    if (!conn) return {};
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: shop.test\r\n";
    if (v != nullptr && !v->Cookie().empty()) req += "Cookie: " + v->Cookie() + "\r\n";
    req += extra;
    if (!body.empty() || method == "POST") {
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "Connection: close\r\n\r\n" + body;
    EXPECT_TRUE(conn->Send(req));
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(5000)));
    EXPECT_TRUE(m.ok) << m.error;
    if (v != nullptr) v->Absorb(m);
    return m;
  }

  Json Poll(Visitor* v) {
    return Json::parse(Request("GET", "/.tidegate/queue", v).body, nullptr, false);
  }

  // The room's room_estimated_wait_seconds on /metrics (open on loopback).
  double EstimatedWaitMetric() {
    auto conn = ConnectOrFail(tidegate_->admin_port());
    if (!conn) return -1;
    EXPECT_TRUE(
        conn->Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(5000)));
    EXPECT_EQ(m.status, 200) << m.body;
    const std::string name = "tidegate_room_estimated_wait_seconds{room=\"shop\"} ";
    size_t at = m.body.find(name);
    if (at == std::string::npos) {
      ADD_FAILURE() << m.body;
      return -1;
    }
    return std::stod(m.body.substr(at + name.size()));
  }

  // Arrivals of visitors who each keep a wait cookie (queued).
  void Arrive(int n) {
    for (int i = 0; i < n; ++i) {
      Visitor v;
      HttpMessage m = Request("GET", "/", &v, "Accept: application/json\r\n");
      EXPECT_EQ(m.status, 200);
      EXPECT_FALSE(v.wait.empty()) << m.body;
    }
  }

  // Places an order: the shop's answer carries Tidegate-Session: end.
  HttpMessage Checkout(Visitor* v) {
    Visitor with_cart = *v;
    HttpMessage m =
        Request("POST", "/checkout", &with_cart,
                "Cookie: cart=1:1\r\nContent-Type: application/x-www-form-urlencoded\r\n",
                "shipping_method=standard&payment_method=card");
    v->pass = with_cart.pass;
    return m;
  }

  std::string StateSection() const {
    if (!redis_) return "";
    return "\n[state]\nbackend = \"redis\"\nredis = \"" + redis_->address() +
           "\"\non_failure = \"closed\"\n";
  }

  TempDir dir_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<TidegateProcess> tidegate_;
};

TEST_P(QueueEventsTest, PrequeueIsDrawnAtTheStartAndLaterArrivalsQueueBehind) {
  // The pre-queue is open; the sale starts in 5 s (time for start-up and 30
  // arrivals on a loaded machine).
  system_clock::time_point start = std::chrono::ceil<seconds>(system_clock::now()) + seconds(5);
  Start(system_clock::now() - seconds(60), start);
  ASSERT_TRUE(tidegate_);

  // 1. Pre-queue: everyone is queued, nobody has a position.
  std::vector<Visitor> early(kPrequeueVisitors);
  for (Visitor& v : early) {
    HttpMessage m = Request("GET", "/", &v, "Accept: application/json\r\n");
    ASSERT_LT(system_clock::now(), start) << "the machine is too slow for this test's schedule";
    EXPECT_EQ(m.status, 200);
    Json j = Json::parse(m.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << m.body;
    EXPECT_EQ(j["in_queue"], true) << j.dump();
    EXPECT_TRUE(j["position"].is_null()) << j.dump();
    EXPECT_EQ(j["draw_at"], common::FormatRfc3339(start)) << j.dump();
    EXPECT_TRUE(j["message"].is_string()) << j.dump();
    EXPECT_FALSE(v.wait.empty());
    EXPECT_TRUE(v.pass.empty());
  }
  // The queue page says it too (French here).
  Visitor page_visitor = early[0];
  HttpMessage page = Request("GET", "/", &page_visitor, "Accept-Language: fr\r\n");
  EXPECT_NE(page.body.find("tirage"), std::string::npos) << page.body.substr(0, 2000);

  // 2. The start: wait (bounded) until the draw is known.
  auto deadline = steady_clock::now() + seconds(20);
  Json first;
  while (steady_clock::now() < deadline) {
    first = Poll(&early[0]);
    if (first.is_object() && (first.value("admitted", false) || first["position"].is_number())) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(100));  // pacing only
  }
  ASSERT_GE(system_clock::now(), start);
  ASSERT_TRUE(first.is_object() &&
              (first.value("admitted", false) || first["position"].is_number()))
      << first.dump();

  // 3. A visitor arriving after the start is behind all of them.
  Visitor late;
  Json late_json =
      Json::parse(Request("GET", "/", &late, "Accept: application/json\r\n").body, nullptr, false);
  ASSERT_TRUE(late_json.is_object());
  EXPECT_EQ(late_json["in_queue"], true) << late_json.dump();
  // The first tick of the event invites exactly one place (its
  // total_active_users = 1); ticks run at most every 250 ms, so wait for it:
  // the late visitor then stands 30th.
  Json late_now;
  auto invited_by = steady_clock::now() + seconds(10);
  while (steady_clock::now() < invited_by) {
    late_now = Poll(&late);
    if (late_now.is_object() && late_now["position"] == kPrequeueVisitors) break;
    std::this_thread::sleep_for(milliseconds(50));  // pacing only
  }
  ASSERT_EQ(late_now["position"], kPrequeueVisitors) << late_now.dump();

  // 4. Positions: one shopper was invited (the event's total_active_users =
  // 1); the others hold positions 1..29 in a shuffled order, the late one 30.
  std::vector<int> position(kPrequeueVisitors, 0);  // 0 = admitted
  int admitted = 0;
  std::set<int> seen;
  for (int i = 0; i < kPrequeueVisitors; ++i) {
    Json j = Poll(&early[static_cast<size_t>(i)]);
    ASSERT_TRUE(j.is_object());
    if (j.value("admitted", false)) {
      ++admitted;
      continue;
    }
    ASSERT_TRUE(j["position"].is_number()) << j.dump();
    position[static_cast<size_t>(i)] = j["position"].get<int>();
    seen.insert(position[static_cast<size_t>(i)]);
  }
  EXPECT_EQ(admitted, 1);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kPrequeueVisitors - 1));
  EXPECT_EQ(*seen.begin(), 1);
  EXPECT_EQ(*seen.rbegin(), kPrequeueVisitors - 1);
  std::vector<int> queued_positions;
  for (int p : position) {
    if (p != 0) queued_positions.push_back(p);
  }
  EXPECT_FALSE(std::is_sorted(queued_positions.begin(), queued_positions.end()))
      << "positions follow the ticket order: no draw";
  Json late_again = Poll(&late);
  EXPECT_EQ(late_again["position"], kPrequeueVisitors) << late_again.dump();

  // 5. Admission follows the drawn places: each checkout frees the slot for
  // the visitor at position 1, not for the next ticket.
  auto inside = std::find(position.begin(), position.end(), 0);
  ASSERT_NE(inside, position.end());
  Visitor* current = &early[static_cast<size_t>(inside - position.begin())];
  for (int step = 1; step <= 3; ++step) {
    HttpMessage order = Checkout(current);
    EXPECT_EQ(order.status, 200) << order.body.substr(0, 300);
    auto next = std::find(position.begin(), position.end(), step);
    auto after = std::find(position.begin(), position.end(), step + 1);
    ASSERT_NE(next, position.end());
    ASSERT_NE(after, position.end());
    Visitor* next_visitor = &early[static_cast<size_t>(next - position.begin())];
    bool in = false;
    auto until = steady_clock::now() + seconds(10);
    while (!in && steady_clock::now() < until) {
      in = Poll(next_visitor).value("admitted", false);
      if (!in) std::this_thread::sleep_for(milliseconds(50));  // pacing only
    }
    ASSERT_TRUE(in) << "drawn position " << step << " not admitted";
    Json behind = Poll(&early[static_cast<size_t>(after - position.begin())]);
    EXPECT_EQ(behind["in_queue"], true) << behind.dump();
    EXPECT_EQ(behind["position"], 1) << behind.dump();
    current = next_visitor;
  }
}

// Operators' estimate (/metrics, GET /v1/state) uses the limits the gate
// applies: the event's rate during the event (6 a minute here, against the
// room's configured 6000), and during the pre-queue the time left until the
// start on top. Before, it used the room's configured limits: "10 s" for a
// line that takes minutes.
TEST_P(QueueEventsTest, OperatorsEstimateFollowsTheLiveEventsRate) {
  Start(system_clock::now() - seconds(120), system_clock::now() - seconds(1),
        "total_active_users = 1000\nnew_users_per_minute = 6\n");
  ASSERT_TRUE(tidegate_);
  Arrive(10);
  // About 9 waiting at 0.1 a second: 90 s, told as a range up to 2 min.
  double wait = EstimatedWaitMetric();
  EXPECT_GE(wait, 60) << "the room's configured rate, not the event's";
  EXPECT_LE(wait, 300);
}

TEST_P(QueueEventsTest, OperatorsEstimateDuringThePrequeueCountsTheTimeToTheStart) {
  system_clock::time_point start = std::chrono::ceil<seconds>(system_clock::now()) + seconds(120);
  Start(system_clock::now() - seconds(60), start,
        "total_active_users = 1000\nnew_users_per_minute = 6\n");
  ASSERT_TRUE(tidegate_);
  Arrive(10);
  double until_start = std::chrono::duration<double>(start - system_clock::now()).count();
  double wait = EstimatedWaitMetric();
  EXPECT_GE(wait, until_start) << "the draw is at the start: nobody gets in before";
  EXPECT_LE(wait, until_start + 300);
}

// Audit 20 F6: an event starting at 17:06:18 was announced as "opens at
// 17:07. Everyone who arrives before then gets a place drawn": a visitor
// arriving at 17:06:30 read that and was queued behind the draw. Off a
// whole minute the start is shown to the second (the shop's zone: UTC).
TEST_P(QueueEventsTest, ThePrequeueMessageShowsAStartOffTheMinuteToTheSecond) {
  system_clock::time_point start = std::chrono::floor<std::chrono::minutes>(system_clock::now()) +
                                   std::chrono::hours(2) + seconds(18);
  Start(system_clock::now() - seconds(60), start);
  ASSERT_TRUE(tidegate_);
  std::time_t t = system_clock::to_time_t(start);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char clock[16];
  std::snprintf(clock, sizeof clock, "%02d:%02d:18 UTC", utc.tm_hour, utc.tm_min);

  Visitor v;
  Json j =
      Json::parse(Request("GET", "/", &v, "Accept: application/json\r\n").body, nullptr, false);
  ASSERT_TRUE(j.is_object());
  const std::string message = j.value("message", "");
  EXPECT_NE(message.find(std::string("opens at ") + clock), std::string::npos) << j.dump();
  EXPECT_NE(message.find(std::string("drawn at random at ") + clock), std::string::npos)
      << j.dump();
  EXPECT_NE(j.value("wait_text", "").find(clock), std::string::npos) << j.dump();
  HttpMessage page = Request("GET", "/", &v);
  EXPECT_NE(page.body.find(clock), std::string::npos) << page.body.substr(0, 3000);
}

INSTANTIATE_TEST_SUITE_P(Backends, QueueEventsTest, ::testing::Values("local", "redis"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tidegate::itest
