// The waiting room's promises, proven with real processes: simulated
// shoppers (harness/shopper.h) over real sockets against the real tidegate
// in front of the demo shop. Most tests run against
// * local: one instance (2 workers) with the in-process room store, and
// * redis: three instances sharing one redis-server started by the test
//   (`[state] backend = "redis"`), shoppers spread over the three.
// Promises: global FIFO order; the admission rate within ±5 % of
// new_users_per_minute over 60 s (run once); total_active_users exceeded by
// no more than 2 %; ghosts (half the queue abandoning) do not stall the rate
// (run once);
// a Redis restart under load loses no admitted session and no queue place;
// a session without activity expires after session_duration and frees its
// slot; queueing_method random admits everyone (not in arrival order) and
// closing the tab then coming back keeps the place.
//
// The redis variants need the Redis room store (queue/redis_room_store.h);
// without it they are skipped with that reason. Skipped as well when
// redis-server is not installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/redis_server.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/shopper.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

#if __has_include("queue/redis_room_store.h")
#define TIDEGATE_HAVE_REDIS_ROOM_STORE 1
#else
#define TIDEGATE_HAVE_REDIS_ROOM_STORE 0
#endif

namespace tidegate::itest {
namespace {

using namespace std::chrono_literals;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr char kOperatorToken[] = "cluster-operator-token-0123456789abcdef012";

enum class Backend { kLocal, kRedis };

std::string BackendName(Backend b) { return b == Backend::kLocal ? "local" : "redis"; }

// Why the redis variant cannot run here ("" when it can).
std::string RedisSkipReason() {
  if (!TIDEGATE_HAVE_REDIS_ROOM_STORE) {
    return "RedisRoomStore not built (queue/redis_room_store.h missing): rooms are not shared";
  }
  if (!RedisServer::Available()) return RedisServer::Binary() + " is not installed";
  return "";
}

// Shoppers, instances, the shop and Redis of one test.
class ClusterFixture : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto& tg : instances_) {
      EXPECT_TRUE(tg->process().Running()) << "tidegate died:\n" << tg->Stderr();
      EXPECT_EQ(tg->Stop(15s), 0) << tg->Stderr();
    }
  }

  // Starts the shop, Redis (backend redis) and the instances with `room_keys`
  // in [rooms.shop]. False (with a gtest failure or skip) when impossible.
  bool Launch(Backend backend, const std::string& room_keys) {
    backend_ = backend;
    if (backend == Backend::kRedis) {
      std::string reason = RedisSkipReason();
      if (!reason.empty()) {
        skip_reason_ = reason;
        return false;
      }
      redis_ = StartRedisOrFail(dir_);
      if (!redis_) return false;
    }
    shop_ = StartDemoShopOrFail(dir_);
    if (!shop_) return false;
    std::ofstream(dir_.File("k1")) << "cluster-test-signing-key-0123456789abcdef\n";
    int count = backend == Backend::kLocal ? 1 : redis_instances_;
    for (int i = 0; i < count; ++i) {
      TidegateOptions options;
      options.name = "tidegate" + std::to_string(i);
      options.config = Config(backend, room_keys, i);
      auto tg = StartTidegateOrFail(dir_, options);
      if (!tg) return false;
      ports_.push_back(tg->port());
      instances_.push_back(std::move(tg));
    }
    return true;
  }

  std::string Config(Backend backend, const std::string& room_keys, int index) const {
    std::string c =
        "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\n"
        "workers = " +
        std::string(backend == Backend::kLocal ? "2" : "1") +
        "\ndrain_timeout = \"5s\"\n"
        "access_log = \"\"\n"
        "\n[upstream]\nservers = [\"127.0.0.1:" +
        std::to_string(shop_->port()) +
        "\"]\n"
        "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
        "audit_log = \"${DIR}/audit" +
        std::to_string(index) +
        ".jsonl\"\n"
        "tokens = [{ name = \"ops\", token_sha256 = \"" +
        Sha256Hex(kOperatorToken) +
        "\", role = \"operator\" }]\n"
        "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n";
    if (backend == Backend::kRedis) {
      c += "\n[state]\nbackend = \"redis\"\nredis = \"" + redis_->address() +
           "\"\nredis_timeout = \"500ms\"\nresync_interval = \"500ms\"\non_failure = \"" +
           on_failure_ + "\"\n";
    }
    // Every simulated shopper comes from 127.0.0.1: no per-address cap.
    c += "\n[rooms.shop]\nmatch = [\"^/\"]\nrefresh_interval = \"1s\"\n"
         "max_tickets_per_ip_per_minute = 0\n" +
         room_keys;
    return c;
  }

  // A sample of a metric of the room from instance `i`'s /metrics.
  std::optional<long> Metric(size_t i, const std::string& family) {
    return MetricSeries(i, family + "{room=\"shop\"}");
  }
  // One series of instance i's /metrics, e.g. `room_active{room="shop"}`.
  std::optional<long> MetricSeries(size_t i, const std::string& series) {
    std::string error;
    auto conn = RawConnection::Connect(instances_[i]->admin_port(), &error);
    if (!conn) return std::nullopt;
    if (!conn->Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")) {
      return std::nullopt;
    }
    HttpMessage m = ReadResponse(*conn, Within(5000ms));
    if (!m.ok || m.status != 200) return std::nullopt;
    std::string needle = "tidegate_" + series + " ";
    size_t at = m.body.find(needle);
    if (at == std::string::npos) return std::nullopt;
    return std::stol(m.body.substr(at + needle.size()));
  }

  HttpMessage PatchRoom(const std::string& json) {
    auto conn = ConnectOrFail(instances_[0]->admin_port());
    if (!conn) return {};
    conn->Send("PATCH /v1/rooms/shop HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
               std::string(kOperatorToken) +
               "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
               std::to_string(json.size()) + "\r\n\r\n" + json);
    return ReadResponse(*conn, Within(5000ms));
  }

  uint16_t PortFor(size_t i) const { return ports_[i % ports_.size()]; }

  Backend backend_ = Backend::kLocal;
  std::string on_failure_ = "local";
  int redis_instances_ = 3;
  std::string skip_reason_;
  TempDir dir_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<DemoShop> shop_;
  std::vector<std::unique_ptr<TidegateProcess>> instances_;
  std::vector<uint16_t> ports_;
};

class QueueClusterTest : public ClusterFixture, public ::testing::WithParamInterface<Backend> {};

#define LAUNCH_OR_RETURN(keys)                                                 \
  do {                                                                         \
    if (!Launch(GetParam(), keys)) {                                           \
      if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;                 \
      FAIL() << "could not start the " << BackendName(GetParam()) << " setup"; \
    }                                                                          \
  } while (0)

// Visitors arriving in order, each on the next instance, get consecutive
// places whichever instance they ask; with one place inside, each order
// placed (Tidegate-Session: end) lets exactly the next ticket in.
TEST_P(QueueClusterTest, GlobalFifoOrder) {
  LAUNCH_OR_RETURN(
      "total_active_users = 1\nnew_users_per_minute = 6000\nsession_duration = \"5m\"\n");
  Shopper inside(PortFor(0));
  ASSERT_EQ(inside.Arrive(), ArriveResult::kAdmitted);
  constexpr size_t kWaiting = 9;
  std::vector<std::unique_ptr<Shopper>> waiting;
  for (size_t k = 0; k < kWaiting; ++k) {
    waiting.push_back(std::make_unique<Shopper>(PortFor(k)));
    ASSERT_EQ(waiting[k]->Arrive(), ArriveResult::kQueued) << "visitor " << k;
  }
  for (size_t k = 0; k < kWaiting; ++k) {
    waiting[k]->set_port(PortFor(k + 1));
    PollStatus p = waiting[k]->Poll();
    EXPECT_TRUE(p.in_queue) << p.body;
    EXPECT_EQ(p.position, k + 1) << "visitor " << k << " asked instance " << (k + 1) % 3;
  }
  Shopper* current = &inside;
  for (size_t next = 0; next < kWaiting; ++next) {
    ASSERT_TRUE(current->Checkout()) << "order of the shopper inside";
    bool admitted = false;
    auto deadline = steady_clock::now() + 15s;
    for (size_t round = 0; !admitted && steady_clock::now() < deadline; ++round) {
      for (size_t k = next; k < kWaiting; ++k) {
        waiting[k]->set_port(PortFor(k + round));
        PollStatus p = waiting[k]->Poll();
        if (!p.admitted) continue;
        ASSERT_EQ(k, next) << "ticket " << k + 1 << " admitted before ticket " << next + 1;
        admitted = true;
        break;
      }
      if (!admitted) std::this_thread::sleep_for(50ms);  // pacing only
    }
    ASSERT_TRUE(admitted) << "ticket " << next + 1 << " never admitted";
    EXPECT_TRUE(waiting[next]->Browse("/")) << "ticket " << next + 1 << " let in";
    current = waiting[next].get();
  }
}

// At most total_active_users × 1.02 shoppers inside at once, under churn:
// 150 shoppers rush a room of 50, each stays 1.5 s then places an order.
TEST_P(QueueClusterTest, ActiveUsersExceededByAtMostTwoPercent) {
  constexpr int kCap = 50;
  constexpr size_t kShoppers = 150;
  LAUNCH_OR_RETURN("total_active_users = " + std::to_string(kCap) +
                   "\nnew_users_per_minute = 6000\nsession_duration = \"5m\"\n");
  CrowdOptions options;
  options.ports = ports_;
  options.threads = 8;
  options.poll_interval = 200ms;
  options.stay = 1500ms;
  Crowd crowd(options);
  auto until = steady_clock::now() + 40s;
  crowd.Start(
      kShoppers, [](size_t i) { return milliseconds(i * 5); }, until);
  long server_max = 0;
  while (crowd.admitted.load() < kShoppers && steady_clock::now() < until) {
    for (size_t i = 0; i < instances_.size(); ++i) {
      server_max = std::max(server_max, Metric(i, "room_active").value_or(0));
    }
    std::this_thread::sleep_for(100ms);  // sampling pace only
  }
  crowd.Join();
  size_t client_max = crowd.MaxConcurrentSessions();
  const double bound = kCap * 1.02;
  EXPECT_EQ(crowd.admitted.load(), kShoppers) << "everyone gets in as orders free places";
  EXPECT_LE(static_cast<double>(client_max), bound) << "shoppers inside at once";
  EXPECT_LE(static_cast<double>(server_max), bound) << "room_active in /metrics";
  EXPECT_GE(client_max, static_cast<size_t>(kCap * 8 / 10)) << "the room was really full";
  EXPECT_EQ(crowd.errors.load(), 0u) << crowd.first_error();
  std::cout << "[ cluster ] " << BackendName(GetParam()) << ": cap " << kCap
            << ", max inside (shoppers) " << client_max << ", max room_active " << server_max
            << "\n";
}

// A session without activity ends after session_duration (counted in 10-s
// buckets: freed between session_duration − 10 s and session_duration after
// the last request) and its place goes to the next in line.
TEST_P(QueueClusterTest, IdleSessionExpiresAndFreesItsSlot) {
  LAUNCH_OR_RETURN(
      "total_active_users = 1\nnew_users_per_minute = 6000\nsession_duration = \"20s\"\n");
  Shopper inside(PortFor(0));
  auto last_activity = steady_clock::now();  // before its only request
  ASSERT_EQ(inside.Arrive(), ArriveResult::kAdmitted);
  Shopper next(PortFor(1));
  ASSERT_EQ(next.Arrive(), ArriveResult::kQueued);
  auto deadline = last_activity + 40s;
  bool admitted = false;
  for (size_t round = 0; steady_clock::now() < deadline; ++round) {
    next.set_port(PortFor(round));
    if (next.Poll().admitted) {
      admitted = true;
      break;
    }
    std::this_thread::sleep_for(250ms);  // pacing only
  }
  auto after = duration_cast<milliseconds>(steady_clock::now() - last_activity);
  ASSERT_TRUE(admitted) << "the idle session never ended";
  EXPECT_GT(after, 10s) << "freed before session_duration − one bucket";
  EXPECT_TRUE(next.Browse("/"));
  std::cout << "[ cluster ] " << BackendName(GetParam()) << ": idle session (20 s) freed after "
            << after.count() << " ms\n";
}

// queueing_method random: 64 visitors (one shuffle block) queue behind a full
// room and get the places 1..64 in an order that is not their arrival order,
// the same on every instance; closing the tab and coming back keeps the
// place; once the room opens, everyone is admitted, lower places first.
TEST_P(QueueClusterTest, RandomOrderAdmitsEveryoneAndClosingTheTabKeepsThePlace) {
  LAUNCH_OR_RETURN(
      "queueing_method = \"random\"\ntotal_active_users = 1\nnew_users_per_minute = 6000\n"
      "session_duration = \"5m\"\n");
  Shopper inside(PortFor(0));
  ASSERT_EQ(inside.Arrive(), ArriveResult::kAdmitted);
  constexpr size_t kVisitors = 64;
  std::vector<std::unique_ptr<Shopper>> v;
  std::vector<uint64_t> place(kVisitors);
  for (size_t k = 0; k < kVisitors; ++k) {
    v.push_back(std::make_unique<Shopper>(PortFor(k)));
    ASSERT_EQ(v[k]->Arrive(), ArriveResult::kQueued) << "visitor " << k;
  }
  // The position shown counts the people ahead who joined before
  // (docs/waiting-room.md "Random order"): 1 + the earlier arrivals drawn
  // ahead. Inserting each arrival at that index rebuilds the draw's order.
  std::vector<uint64_t> position(kVisitors);
  std::vector<size_t> order;
  for (size_t k = 0; k < kVisitors; ++k) {
    v[k]->set_port(PortFor(k + 1));
    PollStatus p = v[k]->Poll();
    ASSERT_TRUE(p.in_queue) << p.body;
    ASSERT_GE(p.position, 1u) << p.body;
    ASSERT_LE(p.position, k + 1) << "only earlier arrivals are counted: " << p.body;
    position[k] = p.position;
    order.insert(order.begin() + static_cast<std::ptrdiff_t>(p.position - 1), k);
  }
  size_t in_arrival_order = 0;
  for (size_t i = 0; i < kVisitors; ++i) {
    place[order[i]] = i + 1;
    in_arrival_order += order[i] == i;
  }
  EXPECT_LT(in_arrival_order, kVisitors / 2) << "random is not FIFO";

  // Close the tab (RST), come back later through another instance, with the
  // cookie: same place.
  for (size_t k : {size_t{3}, size_t{40}}) {
    v[k]->CloseTab();
    Shopper back(PortFor(k + 2));
    back.set_wait(v[k]->wait());
    PollStatus p = back.Poll();
    EXPECT_EQ(p.position, position[k]) << "visitor " << k << " came back";
    HttpMessage page = back.Request("GET", "/", "Accept: text/html\r\n");
    EXPECT_TRUE(IsQueuePage(page)) << "still queued, not a new ticket";
    EXPECT_EQ(back.wait(), v[k]->wait()) << "no new ticket issued";
  }

  // Open the room: 300/min (a burst of 25, then 5 a second).
  HttpMessage patched = PatchRoom(R"({"total_active_users": 1000, "new_users_per_minute": 300})");
  ASSERT_EQ(patched.status, 200) << patched.raw;
  std::vector<steady_clock::time_point> admitted_at(kVisitors);
  size_t admitted = 0;
  auto deadline = steady_clock::now() + 40s;
  for (size_t round = 0; admitted < kVisitors && steady_clock::now() < deadline; ++round) {
    for (size_t k = 0; k < kVisitors; ++k) {
      if (admitted_at[k] != steady_clock::time_point{}) continue;
      v[k]->set_port(PortFor(k + round));
      if (v[k]->Poll().admitted) {
        admitted_at[k] = steady_clock::now();
        ++admitted;
      }
    }
    std::this_thread::sleep_for(100ms);  // pacing only
  }
  ASSERT_EQ(admitted, kVisitors) << "nobody starves";
  // Places 1..10 were invited in the first burst, 55..64 at least 6 s later.
  steady_clock::time_point last_low{}, first_high = steady_clock::time_point::max();
  for (size_t k = 0; k < kVisitors; ++k) {
    if (place[k] <= 10) last_low = std::max(last_low, admitted_at[k]);
    if (place[k] > 54) first_high = std::min(first_high, admitted_at[k]);
  }
  EXPECT_LT(last_low, first_high) << "lower places are admitted first";
}

// queueing_method random, 12 visitors: a partly filled shuffle block of 64.
// The rate counts people, not the block's empty numbers: all 12 are let in
// at about 30 a minute (the old ceiling charged every empty number, ~2 min),
// never more at once than the rate allows; the position each is shown never
// exceeds the visitors still waiting and never goes up on one instance
// (each instance answers from its own view of the line, refreshed about
// once a second: a poll on another instance may read one step behind).
TEST_P(QueueClusterTest, RandomPartlyFilledBlockAdmitsPeopleAtTheRate) {
  LAUNCH_OR_RETURN(
      "queueing_method = \"random\"\nmode = \"queue_all\"\ntotal_active_users = 1000\n"
      "new_users_per_minute = 30\nsession_duration = \"10m\"\n");
  constexpr size_t kVisitors = 12;
  constexpr double kPerSecond = 30.0 / 60.0;
  constexpr double kBurst = 2.5;  // kCreditBurstMillis (5 s) of the rate
  std::vector<std::unique_ptr<Shopper>> v;
  for (size_t k = 0; k < kVisitors; ++k) {
    v.push_back(std::make_unique<Shopper>(PortFor(k)));
    ASSERT_EQ(v[k]->Arrive(), ArriveResult::kQueued) << "visitor " << k;
  }
  auto start = steady_clock::now();
  std::map<std::pair<size_t, uint16_t>, uint64_t> last;  // (visitor, instance) → position
  std::vector<double> admitted_at;  // seconds after start, as seen by the polls
  std::vector<bool> in(kVisitors, false);
  size_t waiting = kVisitors;
  // 12 / 30 per minute = 24 s (less the burst): twice that and more is
  // generous; the old ceiling needed ~2 s per number up to the highest.
  auto deadline = start + 60s;
  for (size_t round = 0; waiting > 0 && steady_clock::now() < deadline; ++round) {
    for (size_t k = 0; k < kVisitors; ++k) {
      if (in[k]) continue;
      const uint16_t port = PortFor(k + round);
      v[k]->set_port(port);
      PollStatus p = v[k]->Poll();
      ASSERT_TRUE(p.ok) << p.body;
      if (p.admitted) {
        in[k] = true;
        admitted_at.push_back(std::chrono::duration<double>(steady_clock::now() - start).count());
        continue;
      }
      if (p.position == 0) continue;  // the room's order not read yet (a moment)
      EXPECT_LE(p.position, waiting) << "visitor " << k << " round " << round << ": " << p.body;
      auto [seen, first] = last.try_emplace({k, port}, p.position);
      if (!first) {
        EXPECT_LE(p.position, seen->second) << "visitor " << k << " went back: " << p.body;
        seen->second = p.position;
      }
    }
    waiting = static_cast<size_t>(std::count(in.begin(), in.end(), false));
    std::this_thread::sleep_for(200ms);  // pacing only
  }
  ASSERT_EQ(waiting, 0u) << "not everyone was let in within 60 s";
  double took = admitted_at.back();
  std::cout << "[ cluster ] " << BackendName(GetParam()) << ": 12 random visitors in " << took
            << " s at 30/min\n";
  // Never more at once than the rate allows: between any two admissions
  // seen, at most the burst + the rate over the time between them (+ one
  // poll round, as admissions are seen when polled).
  for (size_t i = 0; i < admitted_at.size(); ++i) {
    for (size_t j = i; j < admitted_at.size(); ++j) {
      double allowed = kBurst + 1 + kPerSecond * (admitted_at[j] - admitted_at[i] + 1.0);
      EXPECT_LE(static_cast<double>(j - i + 1), allowed) << "admissions " << i << ".." << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, QueueClusterTest,
                         ::testing::Values(Backend::kLocal, Backend::kRedis),
                         [](const auto& info) { return BackendName(info.param); });

// Half of the queue abandons right after arriving (never polls again):
// ghosts must not stall the queue. Without the ghost correction the real
// rate would be half the target (every other invitation wasted); the claim
// ratio, measured per cohort of invitations (docs/waiting-room.md, Ghosts),
// brings it to the target once the first cohorts are judged: measured 46 23
// 38 then 50 50 50 … admissions per 5 s (target 50), 300 of 300 over
// 30–60 s. Checked: within −7 %/+5 % of the target over 30–60 s. Runs once:
// three instances on Redis when Redis is available, else one local
// instance (the same arithmetic).
TEST_F(ClusterFixture, GhostsDoNotStallTheRate) {
  constexpr int kRate = 600;  // per minute
  Backend backend = RedisSkipReason().empty() ? Backend::kRedis : Backend::kLocal;
  ASSERT_TRUE(
      Launch(backend, "mode = \"queue_all\"\ntotal_active_users = 100000\nnew_users_per_minute = " +
                          std::to_string(kRate) + "\nsession_duration = \"30m\"\n"));
  const auto warmup = 30s;
  const auto window = 30s;
  CrowdOptions options;
  options.ports = ports_;
  options.threads = 6;
  options.poll_interval = 1000ms;
  options.ghost_every = 2;
  Crowd crowd(options);
  // 100 at once, then 25 a second: 10 real + 10 ghosts invited per second
  // at target, so the real queue never empties.
  auto total = warmup + window + 3s;
  size_t count = 100 + static_cast<size_t>(25 * duration_cast<std::chrono::seconds>(total).count());
  auto offset = [](size_t i) {
    return i < 100 ? milliseconds(i * 5) : milliseconds(500 + (i - 100) * 40);
  };
  auto until = steady_clock::now() + total;
  crowd.Start(count, offset, until);
  crowd.Join();
  size_t real = crowd.AdmittedBetween(crowd.start() + warmup, crowd.start() + warmup + window);
  double expected = kRate * duration_cast<std::chrono::seconds>(window).count() / 60.0;
  size_t still_waiting = 0;
  for (const auto& r : crowd.records()) still_waiting += r.queued && !r.ghost && !r.admitted;
  std::cout << "[ cluster ] " << BackendName(backend) << ": ghosts 50 %, real admissions " << real
            << " in " << window.count() << " s (target " << expected << "), " << still_waiting
            << " real shoppers still waiting at the end; per 5 s:";
  for (auto t = 0s; t < total; t += 5s) {
    std::cout << " " << crowd.AdmittedBetween(crowd.start() + t, crowd.start() + t + 5s);
  }
  std::cout << "\n";
  EXPECT_GT(still_waiting, 0u) << "the queue must not run dry, or the rate means nothing";
  // The ghost share is judged per cohort of invitations (room_logic.h), so
  // the correction is in place about 20 s in; the ends of the window move
  // by at most one poll interval (±10 admissions, ±3 %).
  EXPECT_GE(static_cast<double>(real), expected * 0.93) << "ghosts stall the queue";
  EXPECT_LE(static_cast<double>(real), expected * 1.05);
  EXPECT_EQ(crowd.errors.load(), 0u) << crowd.first_error();
}

// The admission rate over 60 s: within ±5 % of new_users_per_minute. Runs
// once: on three instances sharing Redis when the Redis room store is
// built, else on one local instance. Its wall time is bounded: 67 s.
TEST_F(ClusterFixture, AdmissionRateWithinFivePercentOver60s) {
  constexpr int kRate = 600;  // per minute: 600 admissions in the window
  Backend backend = RedisSkipReason().empty() ? Backend::kRedis : Backend::kLocal;
  ASSERT_TRUE(Launch(backend,
                     "mode = \"queue_all\"\ntotal_active_users = 100000\n"
                     "new_users_per_minute = " +
                         std::to_string(kRate) + "\nsession_duration = \"30m\"\n"));
  const auto warmup = 5s;  // past the first burst (5 s of credit)
  const auto window = 60s;
  CrowdOptions options;
  options.ports = ports_;
  options.threads = 6;
  options.poll_interval = 1000ms;
  Crowd crowd(options);
  // 80 at once, then 12 a second against 10 admitted: the queue never empties.
  auto total = warmup + window + 2s;
  size_t count = 80 + static_cast<size_t>(12 * duration_cast<std::chrono::seconds>(total).count());
  auto offset = [](size_t i) {
    return i < 80 ? milliseconds(i * 5) : milliseconds(400 + (i - 80) * 1000 / 12);
  };
  crowd.Start(count, offset, steady_clock::now() + total);
  crowd.Join();
  size_t n = crowd.AdmittedBetween(crowd.start() + warmup, crowd.start() + warmup + window);
  size_t still_waiting = 0;
  for (const auto& r : crowd.records()) still_waiting += r.queued && !r.admitted;
  std::cout << "[ cluster ] " << BackendName(backend) << " (" << instances_.size()
            << " instances): " << n << " admissions in 60 s, target " << kRate << " ("
            << (static_cast<double>(n) / kRate - 1) * 100 << " %), " << still_waiting
            << " still waiting\n";
  EXPECT_GT(still_waiting, 0u) << "the queue must not run dry, or the rate means nothing";
  EXPECT_GE(static_cast<double>(n), kRate * 0.95);
  EXPECT_LE(static_cast<double>(n), kRate * 1.05);
  EXPECT_EQ(crowd.errors.load(), 0u) << crowd.first_error();
}

// A Redis restart under load loses no admitted session and no queue place.
// Redis is restarted with its data: `SHUTDOWN SAVE` writes the RDB file in
// the test's temp dir, and the new redis-server (same port, same dir) loads
// it. A room of 30 filled by a crowd whose sessions never end, 120 more
// polling in line and more arriving while Redis goes down and comes back
// (on_failure = "closed": nobody is let in while the store is away, so any
// admission afterwards can only come from lost sessions). Afterwards: still
// exactly 30 inside (a lost session would have let someone in), the same
// places in line, a newcomer behind everyone (the ticket counter survived),
// and the queue still moves (one order placed = exactly one admission).
TEST_F(ClusterFixture, RedisRestartUnderLoadKeepsSessionsAndPlaces) {
  std::string reason = RedisSkipReason();
  if (!reason.empty()) GTEST_SKIP() << reason;
  constexpr int kCap = 30;
  constexpr size_t kCrowd = 150;
  on_failure_ = "closed";
  ASSERT_TRUE(Launch(Backend::kRedis, "total_active_users = " + std::to_string(kCap) +
                                          "\nnew_users_per_minute = 6000\n"
                                          "session_duration = \"30m\"\n"));
  Shopper inside(PortFor(0));
  ASSERT_EQ(inside.Arrive(), ArriveResult::kAdmitted);
  CrowdOptions options;
  options.ports = ports_;
  options.threads = 6;
  options.poll_interval = 500ms;
  Crowd crowd(options);
  auto until = steady_clock::now() + 60s;
  crowd.Start(
      kCrowd, [](size_t i) { return milliseconds(i * 20); }, until);
  auto deadline = steady_clock::now() + 20s;
  while ((crowd.admitted.load() < kCap - 1 || crowd.queued.load() < kCrowd - (kCap - 1)) &&
         steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(crowd.admitted.load(), static_cast<uint64_t>(kCap - 1)) << crowd.first_error();
  ASSERT_EQ(crowd.queued.load(), kCrowd - (kCap - 1));
  std::vector<std::unique_ptr<Shopper>> probes;
  std::vector<uint64_t> before;
  for (size_t k = 0; k < 3; ++k) {
    probes.push_back(std::make_unique<Shopper>(PortFor(k)));
    ASSERT_EQ(probes[k]->Arrive(), ArriveResult::kQueued);
    PollStatus p = probes[k]->Poll();
    ASSERT_TRUE(p.in_queue && p.position > 0) << p.body;
    before.push_back(p.position);
  }
  EXPECT_EQ(before[0], kCrowd - (kCap - 1) + 1) << "behind the crowd";

  // Restart Redis with its data, the crowd polling all along.
  std::string error;
  redis_->Command("SHUTDOWN SAVE");
  ASSERT_TRUE(redis_->Restart(&error)) << error;
  ASSERT_TRUE(redis_->Command("DBSIZE") != ":0\r\n") << "the RDB file was loaded";

  // Same places, once each instance answers with positions again.
  for (size_t k = 0; k < probes.size(); ++k) {
    auto back = steady_clock::now() + 15s;
    PollStatus p;
    while (steady_clock::now() < back) {
      probes[k]->set_port(PortFor(k + 1));
      p = probes[k]->Poll();
      if (p.in_queue && p.position > 0) break;
      std::this_thread::sleep_for(100ms);  // pacing only
    }
    EXPECT_EQ(p.position, before[k]) << "probe " << k << " after the restart: " << p.body;
  }
  // Observe the crowd a little longer: nobody gets in (the room is full).
  auto observe = steady_clock::now() + 3s;
  while (steady_clock::now() < observe) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(crowd.admitted.load(), static_cast<uint64_t>(kCap - 1))
      << "a session was lost: someone was let in";
  for (size_t i = 0; i < instances_.size(); ++i) {
    EXPECT_EQ(Metric(i, "room_active").value_or(-1), kCap) << "instance " << i;
  }
  Shopper newcomer(PortFor(2));
  ASSERT_EQ(newcomer.Arrive(), ArriveResult::kQueued);
  PollStatus late = newcomer.Poll();
  EXPECT_EQ(late.position, before.back() + 1) << "the ticket counter survived: " << late.body;

  // The queue still moves: one order placed, one admission.
  ASSERT_TRUE(inside.Checkout());
  deadline = steady_clock::now() + 15s;
  while (crowd.admitted.load() < static_cast<uint64_t>(kCap) && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(crowd.admitted.load(), static_cast<uint64_t>(kCap));
  crowd.Stop();
  crowd.Join();
  EXPECT_EQ(crowd.errors.load(), 0u) << crowd.first_error();
}

// Redis loses the room (restarted without persistence, or FLUSHALL) while
// two instances run it: `queue_all`, 3 places taken by visitors admitted
// through the queue (tickets 1..3, serving 3), 6 waiting at positions 1..6
// (tickets 4..9). Afterwards: every waiter has the same position on both
// instances, a newcomer gets ticket 10 and position 7 (no number given
// twice), `room_active` is still 3 on both instances (nobody else let in),
// the marks (the queue order's seed) are back in Redis, and an order placed
// by a shopper admitted before the loss lets exactly the first waiter in.
// Fails on the version before: positions 4..9, the newcomer first with a
// ticket a waiter holds, active 0.
class RoomLostFixture : public ClusterFixture {
 protected:
  void Run(bool flush) {
    std::string reason = RedisSkipReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    // A restart is seen as failing commands (closed: no local fallback, so
    // no carry-back of local tickets); FLUSHALL fails nothing (local, the
    // default: the fallback never runs).
    on_failure_ = flush ? "local" : "closed";
    redis_instances_ = 2;
    ASSERT_TRUE(Launch(Backend::kRedis,
                       "mode = \"queue_all\"\ntotal_active_users = 3\n"
                       "new_users_per_minute = 6000\nsession_duration = \"30m\"\n"));
    auto admit = [&](Shopper& s, size_t k) {
      auto deadline = steady_clock::now() + 15s;
      while (steady_clock::now() < deadline) {
        s.set_port(PortFor(k++));
        if (s.Poll().admitted) return true;
        std::this_thread::sleep_for(100ms);  // pacing only
      }
      return false;
    };
    std::vector<std::unique_ptr<Shopper>> inside;
    for (size_t k = 0; k < 3; ++k) {
      inside.push_back(std::make_unique<Shopper>(PortFor(k)));
      ASSERT_EQ(inside[k]->Arrive(), ArriveResult::kQueued);
      ASSERT_TRUE(admit(*inside[k], k)) << "shopper " << k;
    }
    constexpr size_t kWaiting = 6;
    std::vector<std::unique_ptr<Shopper>> waiting;
    std::set<uint64_t> tickets;
    for (size_t k = 0; k < kWaiting; ++k) {
      waiting.push_back(std::make_unique<Shopper>(PortFor(k)));
      ASSERT_EQ(waiting[k]->Arrive(), ArriveResult::kQueued);
      PollStatus p = waiting[k]->Poll();
      ASSERT_EQ(p.position, k + 1) << p.body;
      uint64_t ticket = WaitTicket(waiting[k]->wait());
      EXPECT_EQ(ticket, k + 4) << waiting[k]->wait();
      tickets.insert(ticket);
    }
    // Both instances tick (once a second without traffic) and see the counters.
    std::this_thread::sleep_for(2500ms);
    ASSERT_NE(redis_->Command("HLEN tidegate:{room:shop}:marks"), ":0\r\n")
        << "the queue order's seed is kept in Redis";

    if (flush) {
      ASSERT_EQ(redis_->Command("FLUSHALL"), "+OK\r\n");
    } else {
      std::string error;
      ASSERT_TRUE(redis_->Stop());
      ASSERT_TRUE(redis_->Restart(&error)) << error;
    }
    // Empty of the room's keys (an instance's state store may have written
    // its write probe since, tidegate:{admin}:write_probe).
    ASSERT_EQ(redis_->Command("KEYS tidegate:{room:*"), "*0\r\n") << "Redis came back empty";

    for (size_t k = 0; k < kWaiting; ++k) {
      for (size_t i = 0; i < 2; ++i) {
        PollStatus p;
        auto deadline = steady_clock::now() + 15s;
        while (steady_clock::now() < deadline) {
          waiting[k]->set_port(PortFor(k + i));
          p = waiting[k]->Poll();
          if (p.in_queue && p.position > 0) break;
          std::this_thread::sleep_for(100ms);  // pacing only (closed: no position while away)
        }
        EXPECT_EQ(p.position, k + 1)
            << "waiter " << k << " on instance " << (k + i) % 2 << ": " << p.body;
      }
    }
    Shopper newcomer(PortFor(1));
    ASSERT_EQ(newcomer.Arrive(), ArriveResult::kQueued) << "the room is still full";
    uint64_t late = WaitTicket(newcomer.wait());
    EXPECT_EQ(late, 10u) << "a number after every ticket seen";
    EXPECT_TRUE(tickets.insert(late).second) << "ticket " << late << " was given twice";
    for (size_t i = 0; i < 2; ++i) {
      newcomer.set_port(PortFor(i));
      PollStatus p = newcomer.Poll();
      EXPECT_EQ(p.position, kWaiting + 1) << "instance " << i << ": " << p.body;
    }
    EXPECT_EQ(redis_->Command("HGET tidegate:{room:shop}:s tickets"), "$2\r\n10\r\n");
    for (size_t i = 0; i < 2; ++i) {
      std::optional<long> active;
      auto deadline = steady_clock::now() + 5s;
      do {
        active = Metric(i, "room_active");
        if (active == 3) break;
        std::this_thread::sleep_for(100ms);
      } while (steady_clock::now() < deadline);
      EXPECT_EQ(active.value_or(-1), 3) << "instance " << i;
    }
    auto marks_deadline = steady_clock::now() + 5s;
    while (redis_->Command("HLEN tidegate:{room:shop}:marks") == ":0\r\n" &&
           steady_clock::now() < marks_deadline) {
      std::this_thread::sleep_for(100ms);
    }
    EXPECT_NE(redis_->Command("HLEN tidegate:{room:shop}:marks"), ":0\r\n")
        << "the instances proposed the queue order's values again";
    // Operators see it: at least one instance counted a restore of each kind.
    long counters = 0, marks = 0;
    for (size_t i = 0; i < 2; ++i) {
      counters +=
          MetricSeries(i, "room_store_restores_total{room=\"shop\",what=\"counters\"}").value_or(0);
      marks +=
          MetricSeries(i, "room_store_restores_total{room=\"shop\",what=\"marks\"}").value_or(0);
    }
    EXPECT_GE(counters, 1) << "a counters restore is in /metrics";
    EXPECT_GE(marks, 1) << "a marks restore is in /metrics";

    // Nobody was let in meanwhile; one order placed lets exactly waiter 0 in.
    for (size_t k = 0; k < kWaiting; ++k) {
      PollStatus p = waiting[k]->Poll();
      EXPECT_FALSE(p.admitted) << "waiter " << k;
    }
    ASSERT_TRUE(inside[0]->Checkout());
    EXPECT_TRUE(admit(*waiting[0], 0)) << "the order freed the place of a pass from before";
    std::this_thread::sleep_for(1500ms);
    for (size_t k = 1; k < kWaiting; ++k) {
      PollStatus p = waiting[k]->Poll();
      EXPECT_FALSE(p.admitted) << "waiter " << k;
      EXPECT_EQ(p.position, k) << "waiter " << k << ": " << p.body;
    }
  }
};

TEST_F(RoomLostFixture, RedisRestartedEmptyKeepsPlacesNumbersAndActiveCount) { Run(false); }

TEST_F(RoomLostFixture, RedisFlushAllKeepsPlacesNumbersAndActiveCount) { Run(true); }

}  // namespace
}  // namespace tidegate::itest
