// Auto-protection's safety net in the real binary (docs/waiting-room.md,
// "Auto-protection"): a room in mode auto whose configured limits are far
// above what it holds starts queueing by itself when the origin's answers
// to its admitted shoppers fail, and lets people in again once the origin
// is healthy. The origin's failures reach the room through the proxy's
// response path (StreamFilter::OnUpstreamOutcome): here the demo shop's
// /status?code=503 for shoppers inside. Without protection the same
// failures change nothing (every newcomer is let in).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/admin_metrics.h"
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

constexpr char kOperator[] = "protect-safety-net-operator-token-0123456789";

class ProtectSafetyNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shop_ = StartDemoShopOrFail(dir_);
    std::ofstream(dir_.File("k1")) << "protect-test-signing-key-0123456789abcdef\n";
  }

  // `upstream_extra`: more [upstream] keys; `target`: target_latency;
  // `protect_extra`: more [rooms.shop.protect] keys.
  void Start(bool protect, const std::string& upstream_extra = "", const std::string& target = "2s",
             const std::string& protect_extra = "") {
    ASSERT_TRUE(shop_);
    TidegateOptions options;
    options.config =
        "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 2\ndrain_timeout = \"5s\"\n"
        "\n[upstream]\nservers = [\"127.0.0.1:" +
        std::to_string(shop_->port()) + "\"]\n" + upstream_extra +
        "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
        "tokens = [{ name = \"ops\", token_sha256 = \"" +
        Sha256Hex(kOperator) +
        "\", role = \"operator\" }]\n"
        "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
        "\n[rooms.shop]\nmatch = [\"^/\"]\nrefresh_interval = \"1s\"\nmode = \"auto\"\n"
        // Limits far above anything this test reaches: only protection queues.
        "total_active_users = 1000\nnew_users_per_minute = 6000\n"
        // Every visitor of this test comes from 127.0.0.1.
        "max_tickets_per_ip_per_minute = 0\n"
        "\n[rooms.shop.protect]\nenabled = " +
        std::string(protect ? "true" : "false") + "\ntarget_latency = \"" + target +
        "\"\nmax_error_rate = 0.05\n" + protect_extra;
    tidegate_ = StartTidegateOrFail(dir_, options);
  }

  void TearDown() override {
    if (!tidegate_) return;
    ASSERT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
    EXPECT_EQ(tidegate_->Stop(std::chrono::seconds(10)), 0) << tidegate_->Stderr();
  }

  HttpMessage Get(const std::string& target, RoomCookies* v) {
    return GetWithRoomCookies(tidegate_->port(), target, v);
  }

  // A newcomer asks for the home page: true when let in, false when queued.
  bool NewcomerAdmitted(std::vector<RoomCookies>* inside, std::vector<RoomCookies>* queued) {
    RoomCookies v;
    HttpMessage m = Get("/", &v);
    if (IsQueuePage(m)) {
      EXPECT_FALSE(v.wait.empty());
      queued->push_back(v);
      return false;
    }
    EXPECT_EQ(m.status, 200) << m.raw.substr(0, 300);
    EXPECT_FALSE(v.pass.empty());
    inside->push_back(v);
    return true;
  }

  // Every shopper inside asks for `target` once.
  void Browse(std::vector<RoomCookies>* inside, const std::string& target) {
    for (RoomCookies& v : *inside) Get(target, &v);
  }

  // Every shopper inside asks for a page the shop never answers in time
  // (/slow for a minute: the proxy's response_timeout ends it with a 504).
  // The connections stay open, unread, until the test ends.
  void Hang(const std::vector<RoomCookies>& inside) {
    for (const RoomCookies& v : inside) {
      auto conn = ConnectOrFail(tidegate_->port());
      if (!conn) return;
      std::string req = "GET /slow?ms=60000 HTTP/1.1\r\nHost: shop.test\r\n";
      if (!v.Cookie().empty()) req += "Cookie: " + v.Cookie() + "\r\n";
      EXPECT_TRUE(conn->Send(req + "\r\n"));
      hanging_.push_back(std::move(conn));
    }
  }

  // The shop fails for the shoppers inside (503s) while newcomers keep
  // coming, until one is queued (true) or 15 s passed (false).
  bool FailUntilQueueing(std::vector<RoomCookies>* inside, std::vector<RoomCookies>* queued) {
    auto deadline = steady_clock::now() + milliseconds(15'000);
    while (steady_clock::now() < deadline) {
      Browse(inside, "/status?code=503");
      if (!NewcomerAdmitted(inside, queued)) return true;
    }
    return false;
  }

  // The queued visitors poll once; those let in move inside.
  void Poll(std::vector<RoomCookies>* inside, std::vector<RoomCookies>* queued) {
    for (auto it = queued->begin(); it != queued->end();) {
      Json j = Json::parse(Get("/.tidegate/queue", &*it).body, nullptr, false);
      if (j.is_object() && j.value("admitted", false)) {
        inside->push_back(*it);
        it = queued->erase(it);
      } else {
        ++it;
      }
    }
  }

  // A gauge of room "shop" from /metrics; NaN when absent.
  double RoomGauge(const std::string& name) {
    return ReadMetric(tidegate_->admin_port(), "tidegate_" + name + "{room=\"shop\"}")
        .value_or(std::nan(""));
  }

  TempDir dir_;
  std::vector<std::unique_ptr<RawConnection>> hanging_;
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<TidegateProcess> tidegate_;
};

TEST_F(ProtectSafetyNetTest, FailingOriginQueuesNewcomersBelowTheLimitsThenLetsThemIn) {
  Start(/*protect=*/true);
  ASSERT_TRUE(tidegate_);
  std::vector<RoomCookies> inside, queued;
  // Calm: the room is nearly empty and the shop healthy, everyone comes in
  // (the door first opens to 1.5 x the sessions inside + 4: a slow start).
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(NewcomerAdmitted(&inside, &queued));
  Browse(&inside, "/");
  // The shop fails for the shoppers inside (503s); a newcomer is soon
  // queued although the room holds a handful of its 1000 places.
  ASSERT_TRUE(FailUntilQueueing(&inside, &queued))
      << "the room never started queueing with every request failing";
  size_t inside_at_cut = inside.size();
  EXPECT_LT(inside_at_cut, 40u);
  // While it keeps failing, nobody new comes in.
  for (int i = 0; i < 3; ++i) {
    Browse(&inside, "/status?code=503");
    EXPECT_FALSE(NewcomerAdmitted(&inside, &queued));
  }
  // The shop recovers: the shoppers inside get fast pages, the queued
  // visitors (polling) are let in, and newcomers are admitted at once again.
  auto deadline = steady_clock::now() + milliseconds(30'000);
  bool open_again = false;
  while (!open_again && steady_clock::now() < deadline) {
    Browse(&inside, "/");
    for (auto it = queued.begin(); it != queued.end();) {
      HttpMessage poll = Get("/.tidegate/queue", &*it);
      Json j = Json::parse(poll.body, nullptr, false);
      if (j.is_object() && j.value("admitted", false)) {
        inside.push_back(*it);
        it = queued.erase(it);
      } else {
        ++it;
      }
    }
    if (queued.empty()) open_again = NewcomerAdmitted(&inside, &queued);
    std::this_thread::sleep_for(milliseconds(200));  // pacing only
  }
  EXPECT_TRUE(queued.empty()) << queued.size() << " still queued after 30 s of a healthy shop"
                              << tidegate_->Stderr();
  EXPECT_TRUE(open_again) << "newcomers are admitted at once once the queue is empty";
}

// The shop's process dies: connections are refused, the shoppers inside
// get the proxy's 502 page. Those failures (never a response from the
// origin) count as errors too.
TEST_F(ProtectSafetyNetTest, UnreachableOriginQueuesNewcomers) {
  Start(/*protect=*/true);
  ASSERT_TRUE(tidegate_);
  std::vector<RoomCookies> inside, queued;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(NewcomerAdmitted(&inside, &queued));
  Browse(&inside, "/");
  ASSERT_TRUE(shop_->process().Signal(SIGKILL));  // the test's own demo shop
  ASSERT_TRUE(shop_->process().WaitExit(milliseconds(5'000)).has_value());
  bool queueing = false;
  auto deadline = steady_clock::now() + milliseconds(15'000);
  while (!queueing && steady_clock::now() < deadline) {
    for (RoomCookies& v : inside) EXPECT_EQ(Get("/", &v).status, 502);
    RoomCookies newcomer;
    HttpMessage m = Get("/", &newcomer);
    queueing = IsQueuePage(m);
    if (queueing) queued.push_back(newcomer);
    if (!queueing) {
      EXPECT_EQ(m.status, 502);
    }
  }
  ASSERT_TRUE(queueing);
  // The slow start alone queues for a second; errors keep the door shut:
  // for 4 s of refused connections nobody waiting is let in.
  auto until = steady_clock::now() + milliseconds(4'000);
  while (steady_clock::now() < until) {
    for (RoomCookies& v : inside) Get("/", &v);
    for (RoomCookies& v : queued) {
      Json j = Json::parse(Get("/.tidegate/queue", &v).body, nullptr, false);
      EXPECT_FALSE(j.is_object() && j.value("admitted", false))
          << "refused connections were not taken for a failing origin";
    }
    std::this_thread::sleep_for(milliseconds(200));  // pacing only
  }
}

// The shop stops answering (requests hang until the proxy's
// response_timeout): silence is not health. A request pending past the
// target counts as slow at its age, so newcomers are queued within a
// second or two and nobody is let in while the shop hangs (before, no
// samples read as "healthy (p90 0 ms)" and the slow start opened the door
// to everyone). When the shop answers again, the 504s that end the hung
// requests seconds later belong to when they crossed the target: they do
// not shut the recovered door.
TEST_F(ProtectSafetyNetTest, AHangingOriginQueuesNewcomersAndItsLateTimeoutsDoNotShutTheDoor) {
  Start(/*protect=*/true, "response_timeout = \"4s\"\n", "300ms");
  ASSERT_TRUE(tidegate_);
  std::vector<RoomCookies> inside, queued;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(NewcomerAdmitted(&inside, &queued));
  Browse(&inside, "/");
  std::this_thread::sleep_for(milliseconds(1'100));  // a decision on healthy pages
  Browse(&inside, "/");
  Hang(inside);
  bool queueing = false;
  auto deadline = steady_clock::now() + milliseconds(10'000);
  while (!queueing && steady_clock::now() < deadline) {
    size_t before = inside.size();
    queueing = !NewcomerAdmitted(&inside, &queued);
    if (!queueing) {
      Hang(std::vector<RoomCookies>(inside.begin() + static_cast<std::ptrdiff_t>(before),
                                    inside.end()));
    }
    std::this_thread::sleep_for(milliseconds(100));  // pacing only
  }
  ASSERT_TRUE(queueing) << "a hung shop never queued anybody";
  EXPECT_LT(inside.size(), 12u) << "the door opened while nothing answered";
  // While it hangs (the shoppers inside keep waiting on pages), nobody new
  // comes in, and nobody queued is let in.
  auto until = steady_clock::now() + milliseconds(2'500);
  int hang_round = 0;
  while (steady_clock::now() < until) {
    if (++hang_round % 5 == 0) Hang(inside);
    EXPECT_FALSE(NewcomerAdmitted(&inside, &queued)) << "let in while the shop hangs";
    size_t waiting = queued.size();
    Poll(&inside, &queued);
    EXPECT_EQ(queued.size(), waiting) << "a queued visitor let in while the shop hangs";
    std::this_thread::sleep_for(milliseconds(200));  // pacing only
  }
  // The shop answers again; the hung requests end with 504s up to 4 s
  // later. The queue is let in once they are over, not shut by them.
  auto recovered = steady_clock::now();
  deadline = recovered + milliseconds(15'000);
  while (!queued.empty() && steady_clock::now() < deadline) {
    Browse(&inside, "/");
    Poll(&inside, &queued);
    std::this_thread::sleep_for(milliseconds(200));  // pacing only
  }
  EXPECT_TRUE(queued.empty()) << queued.size() << " still queued 15 s after the shop recovered\n"
                              << tidegate_->Stderr();
}

// Audit 11: long-polls (answers slow on purpose) read as a slow shop: the
// door was cut ("cut_latency p90 3011 ms > target 500 ms (4 unanswered)")
// on an idle, fast origin. Paths under exclude_paths are gated as any but
// not measured: the same held requests move nothing. Without the
// exclusion they cut (the control half).
TEST_F(ProtectSafetyNetTest, ExcludedLongPollsAreNotMeasured) {
  for (bool excluded : {true, false}) {
    SCOPED_TRACE(excluded ? "excluded" : "measured");
    if (tidegate_) {
      hanging_.clear();
      EXPECT_EQ(tidegate_->Stop(std::chrono::seconds(10)), 0);
    }
    Start(/*protect=*/true, "", "300ms", excluded ? "exclude_paths = [\"^/slow\"]\n" : "");
    ASSERT_TRUE(tidegate_);
    std::vector<RoomCookies> inside, queued;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(NewcomerAdmitted(&inside, &queued));
    Browse(&inside, "/");
    Hang(inside);  // /slow for a minute: a long-poll each
    bool cut = false;
    double worst_p90 = 0;
    auto until = steady_clock::now() + milliseconds(3'000);
    while (steady_clock::now() < until && !cut) {
      Browse(&inside, "/");  // fast pages beside the long-polls
      cut = RoomGauge("room_protect_direction") == -1;
      worst_p90 = std::max(worst_p90, RoomGauge("room_protect_origin_p90_seconds"));
      std::this_thread::sleep_for(milliseconds(200));  // pacing only
    }
    EXPECT_EQ(cut, !excluded) << "worst p90 " << worst_p90 << " s\n" << tidegate_->Stderr();
    if (excluded) {
      EXPECT_LT(worst_p90, 0.3);
    }
  }
}

// Audit 16, finding 1: admitted clients that upload slowly (a body dripped
// over seconds: a poor mobile link, or a script that wants the door shut)
// are not a slow origin. The origin answers the moment it has the body; on
// the old code the time spent waiting for the client's bytes counted as
// the origin's latency (and as requests in flight), and the door was cut.
TEST_F(ProtectSafetyNetTest, SlowUploadsAreNotOriginSlowness) {
  Start(/*protect=*/true, "", "300ms");
  ASSERT_TRUE(tidegate_);
  std::vector<RoomCookies> inside, queued;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(NewcomerAdmitted(&inside, &queued));
  Browse(&inside, "/");
  constexpr size_t kBody = 1536;
  constexpr size_t kPiece = 48;  // every 100 ms: the body takes 3.2 s
  std::vector<std::unique_ptr<RawConnection>> uploads;
  for (const RoomCookies& v : inside) {
    auto conn = ConnectOrFail(tidegate_->port());
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send("POST /echo HTTP/1.1\r\nHost: shop.test\r\nCookie: " + v.Cookie() +
                           "\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                           std::to_string(kBody) + "\r\nConnection: close\r\n\r\n"));
    uploads.push_back(std::move(conn));
  }
  bool cut = false;
  double worst_p90 = 0;
  for (size_t sent = 0; sent < kBody; sent += kPiece) {
    for (auto& conn : uploads) EXPECT_TRUE(conn->Send(std::string(kPiece, 'x')));
    Browse(&inside, "/");  // fast pages beside the uploads
    cut = cut || RoomGauge("room_protect_direction") == -1;
    worst_p90 = std::max(worst_p90, RoomGauge("room_protect_origin_p90_seconds"));
    std::this_thread::sleep_for(milliseconds(100));  // the client's pace
  }
  for (auto& conn : uploads) {
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(5000)));
    EXPECT_EQ(m.status, 200) << m.raw.substr(0, 300);
  }
  // Counted after the last byte: the answers themselves are fast.
  for (int i = 0; i < 5; ++i) {
    cut = cut || RoomGauge("room_protect_direction") == -1;
    worst_p90 = std::max(worst_p90, RoomGauge("room_protect_origin_p90_seconds"));
    std::this_thread::sleep_for(milliseconds(200));
  }
  EXPECT_FALSE(cut) << "worst p90 " << worst_p90 << " s\n" << tidegate_->Stderr();
  EXPECT_LT(worst_p90, 0.3);
  EXPECT_TRUE(NewcomerAdmitted(&inside, &queued)) << "the door was shut by slow clients";
}

// Audit 16, finding 5: `PATCH /v1/rooms {"protect": false}` hands the room
// back to its limits at once, and what operators read says so at once —
// before, /metrics and /v1/state kept showing the old cut until the room's
// next request.
TEST_F(ProtectSafetyNetTest, SwitchedOffAtRunTimeReportsAtOnce) {
  Start(/*protect=*/true);
  ASSERT_TRUE(tidegate_);
  std::vector<RoomCookies> inside, queued;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(NewcomerAdmitted(&inside, &queued));
  ASSERT_TRUE(FailUntilQueueing(&inside, &queued))
      << "the room never started queueing with every request failing";
  ASSERT_EQ(RoomGauge("room_protect_limiting"), 1);
  // No shopper request from here on: only the operator and the readers.
  auto conn = ConnectOrFail(tidegate_->admin_port());
  ASSERT_TRUE(conn);
  std::string body = R"({"protect": false})";
  ASSERT_TRUE(
      conn->Send("PATCH /v1/rooms/shop HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                 std::string(kOperator) + "\r\nContent-Type: application/json\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body));
  HttpMessage patched = ReadResponse(*conn, Within(milliseconds(5000)));
  ASSERT_EQ(patched.status, 200) << patched.raw;
  // The gauges are only for rooms under protection: absent now, never "1".
  EXPECT_NE(RoomGauge("room_protect_limiting"), 1) << "the old cut is still reported";
  auto state_conn = ConnectOrFail(tidegate_->admin_port());
  ASSERT_TRUE(state_conn);
  ASSERT_TRUE(
      state_conn->Send("GET /v1/state HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                       std::string(kOperator) + "\r\nConnection: close\r\n\r\n"));
  Json state =
      Json::parse(ReadResponse(*state_conn, Within(milliseconds(5000))).body, nullptr, false);
  ASSERT_TRUE(state.is_object());
  Json protect = state["rooms"]["shop"]["protect"];
  EXPECT_EQ(protect.value("limiting", true), false) << protect.dump();
}

TEST_F(ProtectSafetyNetTest, WithoutProtectionTheSameFailuresQueueNobody) {
  Start(/*protect=*/false);
  ASSERT_TRUE(tidegate_);
  std::vector<RoomCookies> inside, queued;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(NewcomerAdmitted(&inside, &queued));
  auto until = steady_clock::now() + milliseconds(4'000);
  int newcomers = 0;
  while (steady_clock::now() < until) {
    Browse(&inside, "/status?code=503");
    EXPECT_TRUE(NewcomerAdmitted(&inside, &queued)) << "limits of 1000 are far away";
    ++newcomers;
  }
  EXPECT_GT(newcomers, 3);
  EXPECT_TRUE(queued.empty());
}

}  // namespace
}  // namespace tidegate::itest
