// A ticket's place never changes after it was issued (queue/queue_order.h,
// docs/waiting-room.md "Changing the method, rotating keys"): through the
// real binary, visitors with their own cookies wait while the operator
// switches queueing_method by PATCH (fifo -> random -> fifo, mid-block) or
// rotates the signing key by SIGHUP in a random room. Every visitor keeps
// its position, nobody is told its place was already used, the places stay
// distinct, and once the room lets people in they come in by those places.
//
// Nobody may be invited while positions are compared, whatever the time
// the scenario takes: the room holds one shopper (total_active_users 1, let
// in before anybody queues, a session of an hour), so it is full and Tick
// invites nobody. A low rate is not enough: a new room lets its first burst
// (at least one person) in at the first tick that finds somebody waiting
// (docs/waiting-room.md; unit:
// RoomLogicTest.ANewRoomLetsItsFirstBurstInAtTheFirstTickFifoAndRandomAlike),
// so "nobody is let in at 1/min" held only while everything ran within the
// first 250 ms tick, and failed on a loaded machine.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/room_cookies.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr char kOperatorToken[] = "queue-order-operator-token-0123456789abcd";

class QueueOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shop_ = StartDemoShopOrFail(dir_);
    std::ofstream(dir_.File("k1")) << "queue-order-signing-key-1-0123456789abcdef\n";
    std::ofstream(dir_.File("k2")) << "queue-order-signing-key-2-fedcba9876543210\n";
  }

  std::string Config(const std::string& keys, const std::string& method) const {
    return "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 2\ndrain_timeout = \"5s\"\n"
           "\n[upstream]\nservers = [\"127.0.0.1:" +
           std::to_string(shop_->port()) +
           "\"]\n"
           "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
           "audit_log = \"${DIR}/audit.jsonl\"\n"
           "tokens = [{ name = \"ops\", token_sha256 = \"" +
           Sha256Hex(kOperatorToken) +
           "\", role = \"operator\" }]\n"
           "\n[secrets]\ntoken_keys = [" +
           keys +
           "]\n"
           "\n[rooms.shop]\nmatch = [\"^/\"]\nrefresh_interval = \"1s\"\n"
           "total_active_users = 1\nnew_users_per_minute = 1\nsession_duration = \"1h\"\n"
           "max_tickets_per_ip_per_minute = 0\nqueueing_method = \"" +
           method + "\"\n";
  }
  static std::string Key(const char* id) {
    return std::string("{ id = \"") + id + "\", secret_file = \"${DIR}/" + id + "\" }";
  }

  void Start(const std::string& method) {
    ASSERT_TRUE(shop_);
    TidegateOptions options;
    options.config = Config(Key("k1"), method);
    tidegate_ = StartTidegateOrFail(dir_, options);
    if (!tidegate_) return;
    // The one shopper inside: the room is full before anybody queues, so
    // nobody is invited until ExpectAdmittedInPlaceOrder opens it.
    RoomCookies insider;
    HttpMessage m = Request("GET", "/", &insider);
    ASSERT_EQ(m.status, 200) << m.body;
    ASSERT_FALSE(insider.pass.empty()) << "let in directly";
    ASSERT_TRUE(insider.wait.empty());
  }

  void TearDown() override {
    if (!tidegate_) return;
    ASSERT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
    EXPECT_EQ(tidegate_->Stop(std::chrono::seconds(10)), 0) << tidegate_->Stderr();
  }

  HttpMessage Request(const std::string& method, const std::string& target, RoomCookies* v,
                      const std::string& extra = "", const std::string& body = "",
                      uint16_t port = 0) {
    auto conn = ConnectOrFail(port != 0 ? port : tidegate_->port());
    if (!conn) return {};
    std::string host = port != 0 ? "127.0.0.1" : "shop.test";
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
    if (v != nullptr && !v->Cookie().empty()) req += "Cookie: " + v->Cookie() + "\r\n";
    req += extra;
    if (!body.empty() || method == "PATCH") {
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "Connection: close\r\n\r\n" + body;
    EXPECT_TRUE(conn->Send(req));
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(5000)));
    EXPECT_TRUE(m.ok) << m.error;
    if (v != nullptr) v->Absorb(m);
    return m;
  }

  void Patch(const std::string& json) {
    HttpMessage m = Request("PATCH", "/v1/rooms/shop", nullptr,
                            std::string("Authorization: Bearer ") + kOperatorToken +
                                "\r\nContent-Type: application/json\r\n",
                            json, tidegate_->admin_port());
    ASSERT_EQ(m.status, 200) << json << "\n" << m.body;
  }

  // N new visitors, each with its own jar, in arrival order.
  void Arrive(int n) {
    for (int i = 0; i < n; ++i) {
      visitors_.emplace_back();
      Request("GET", "/", &visitors_.back());
      ASSERT_FALSE(visitors_.back().wait.empty()) << "visitor " << visitors_.size() << " queued";
    }
  }

  Json Poll(RoomCookies* v) {
    HttpMessage m = Request("GET", "/.tidegate/queue", v);
    return Json::parse(m.body, nullptr, false);
  }

  // Every visitor's position; none told its place was used, none let in
  // (the room is full), every wait cookie kept. Retries a poll that has no
  // position yet (the room's order being read), briefly.
  std::vector<int64_t> Positions(const std::string& when) {
    std::vector<int64_t> out;
    for (size_t i = 0; i < visitors_.size(); ++i) {
      RoomCookies& v = visitors_[i];
      int64_t position = -1;
      auto deadline = steady_clock::now() + milliseconds(3000);
      while (steady_clock::now() < deadline) {
        Json j = Poll(&v);
        EXPECT_TRUE(j.is_object()) << when;
        if (!j.is_object()) break;
        EXPECT_FALSE(j.contains("notice") && j["notice"].is_string())
            << "visitor " << i << " " << when << ": " << j.dump();
        EXPECT_FALSE(j.value("admitted", false)) << "visitor " << i << " let in " << when;
        if (j["position"].is_number()) {
          position = j["position"].get<int64_t>();
          break;
        }
        std::this_thread::sleep_for(milliseconds(50));  // pacing only
      }
      EXPECT_GT(position, 0) << "visitor " << i << " has no position " << when;
      EXPECT_FALSE(v.wait.empty()) << "visitor " << i << " lost its wait cookie " << when;
      out.push_back(position);
    }
    return out;
  }

  void ExpectSame(const std::vector<int64_t>& before, const std::vector<int64_t>& after,
                  const std::string& when) {
    ASSERT_LE(before.size(), after.size());
    for (size_t i = 0; i < before.size(); ++i) {
      EXPECT_EQ(after[i], before[i]) << "visitor " << i << " moved " << when;
    }
    // Positions may repeat in random order (they count the people ahead
    // who joined before: docs/waiting-room.md "Random order"), but never
    // exceed the earlier arrivals + 1.
    for (size_t i = 0; i < after.size(); ++i) {
      EXPECT_LE(after[i], static_cast<int64_t>(i) + 1) << "visitor " << i << " " << when;
    }
  }

  // The places behind positions taken while nobody was invited: a visitor's
  // position counts the earlier arrivals placed ahead (+ 1; in random order
  // later ones are not counted: docs/waiting-room.md "Random order"), so
  // inserting each visitor, in arrival order, at that index rebuilds the
  // order of the places. Every ticket issued must be a visitor of the list.
  static std::vector<int64_t> PlacesFromPositions(const std::vector<int64_t>& positions) {
    std::vector<size_t> order;
    for (size_t i = 0; i < positions.size(); ++i) {
      size_t at = std::min<size_t>(order.size(), static_cast<size_t>(positions[i] - 1));
      order.insert(order.begin() + static_cast<std::ptrdiff_t>(at), i);
    }
    std::vector<int64_t> places(positions.size());
    for (size_t k = 0; k < order.size(); ++k) places[order[k]] = static_cast<int64_t>(k) + 1;
    return places;
  }

  // Opens the room (space and a high rate) and lets everyone in: each round polls the
  // waiting visitors from the last place to the first, so a visitor let in
  // before one with an earlier place would show as a later round for the
  // earlier place. Expects rounds not to decrease along the places.
  void ExpectAdmittedInPlaceOrder(const std::vector<int64_t>& places) {
    Patch(R"({"total_active_users": 1000, "new_users_per_minute": 1200})");
    std::vector<size_t> by_place(visitors_.size());
    for (size_t i = 0; i < by_place.size(); ++i) by_place[i] = i;
    std::sort(by_place.begin(), by_place.end(),
              [&](size_t a, size_t b) { return places[a] < places[b]; });
    std::vector<int> round_of(visitors_.size(), -1);
    size_t left = visitors_.size();
    auto deadline = steady_clock::now() + std::chrono::seconds(40);
    for (int round = 0; left > 0 && steady_clock::now() < deadline; ++round) {
      for (auto it = by_place.rbegin(); it != by_place.rend(); ++it) {
        if (round_of[*it] >= 0) continue;
        Json j = Poll(&visitors_[*it]);
        ASSERT_TRUE(j.is_object());
        EXPECT_FALSE(j.contains("notice") && j["notice"].is_string()) << j.dump();
        if (j.value("admitted", false)) {
          round_of[*it] = round;
          --left;
        }
      }
      std::this_thread::sleep_for(milliseconds(100));  // pacing only
    }
    ASSERT_EQ(left, 0u) << "not everyone was let in";
    for (size_t k = 1; k < by_place.size(); ++k) {
      EXPECT_LE(round_of[by_place[k - 1]], round_of[by_place[k]])
          << "place " << places[by_place[k]] << " let in before place " << places[by_place[k - 1]];
    }
  }

  TempDir dir_;
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<TidegateProcess> tidegate_;
  std::vector<RoomCookies> visitors_;
};

TEST_F(QueueOrderTest, MethodSwitchesMoveNobody) {
  ASSERT_NO_FATAL_FAILURE(Start("fifo"));
  ASSERT_TRUE(tidegate_);
  Arrive(24);  // tickets 1..24
  std::vector<int64_t> before = Positions("at first");
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(before[i], static_cast<int64_t>(i) + 1);

  Patch(R"({"queueing_method": "random"})");
  std::vector<int64_t> after = Positions("after the switch to random");
  ExpectSame(before, after, "after the switch to random");
  Arrive(60);  // 25..64 stay fifo (the switch's block); 65..84 shuffled
  after = Positions("after more arrivals");
  for (size_t i = 0; i < 64; ++i) EXPECT_EQ(after[i], static_cast<int64_t>(i) + 1);
  for (size_t i = 64; i < after.size(); ++i) {
    EXPECT_GE(after[i], 65);
    EXPECT_LE(after[i], static_cast<int64_t>(i) + 1);  // the people who joined before + 1
  }
  before = after;

  Patch(R"({"queueing_method": null})");  // back to the configured fifo
  Arrive(10);                             // 85..94: still in the shuffled block
  after = Positions("after the switch back to fifo");
  ExpectSame(before, after, "after the switch back to fifo");
  ExpectAdmittedInPlaceOrder(PlacesFromPositions(after));
}

TEST_F(QueueOrderTest, KeyRotationInARandomRoomMovesNobody) {
  ASSERT_NO_FATAL_FAILURE(Start("random"));
  ASSERT_TRUE(tidegate_);
  Arrive(30);  // mid-block
  std::vector<int64_t> before = Positions("before the rotation");
  int64_t in_arrival_order = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_LE(before[i], static_cast<int64_t>(i) + 1);  // the people who joined before + 1
    in_arrival_order += before[i] == static_cast<int64_t>(i) + 1;
  }
  EXPECT_LT(in_arrival_order, static_cast<int64_t>(before.size())) << "shuffled";

  // The documented rotation: the new key first, the old one kept.
  ASSERT_TRUE(tidegate_->RewriteConfig(Config(Key("k2") + ", " + Key("k1"), "random")));
  ASSERT_TRUE(tidegate_->Reload());
  bool rotated = false;
  auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (!rotated && steady_clock::now() < deadline) {
    RoomCookies probe;
    Request("GET", "/", &probe);
    rotated = probe.wait.rfind("k2.", 0) == 0;  // signed with the new key
    // The probes that came before the reload queue too (the old key is
    // kept): every ticket is a visitor (PlacesFromPositions).
    visitors_.push_back(probe);
    if (!rotated) std::this_thread::sleep_for(milliseconds(50));  // pacing only
  }
  ASSERT_TRUE(rotated) << "the reload did not take the new key";
  std::vector<int64_t> after = Positions("after the rotation");
  ExpectSame(before, after, "after the rotation");
  Arrive(50);  // the rest of the block, then the next one
  after = Positions("after more arrivals");
  ExpectSame(before, after, "after more arrivals");
  ExpectAdmittedInPlaceOrder(PlacesFromPositions(after));
}

}  // namespace
}  // namespace tidegate::itest
