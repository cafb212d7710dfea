// Redis Sentinel failover under load (issue 16, docs/state.md "Redis
// Sentinel"): a primary, two replicas and three sentinels (Debian's
// redis-sentinel, short down-after-milliseconds) started by the test on free
// loopback ports, then tidegate with [state].sentinels. While a client thread
// sends shop requests through a Redis-backed room and the test thread makes
// operator changes (one maintenance switch per feature, so every
// acknowledged change leaves its own mark), the primary is SIGKILLed.
// Expected: no shop request fails or gets a 5xx (rooms run on
// [state].on_failure = "local" for the seconds of the failover); operator
// changes succeed again within 15 s after the kill; every change answered
// 2xx — before, during or after the failover — is in GET /v1/state
// afterwards; the new primary holds them. Two replicas, because WAIT 1 needs
// one replica left once the old primary is gone.
//
// Skipped (GTEST_SKIP, with the reason) only when redis-server or
// redis-sentinel is missing (apt-get install redis-server redis-sentinel).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/ports.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/redis_server.h"
#include "tests/integration/harness/scripted_origin.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr char kOperator[] = "sentinel-operator-token-0123456789abcdef0";
constexpr char kMaster[] = "tg";
constexpr int kFeatures = 200;

bool WaitFor(const std::function<bool()>& check, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  do {
    if (check()) return true;
    std::this_thread::sleep_for(100ms);
  } while (Clock::now() < deadline);
  return false;
}

struct Node {
  uint16_t port = 0;
  std::unique_ptr<Process> process;
};

class RedisSentinelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::Available()) GTEST_SKIP() << RedisServer::Binary() << " is not installed";
    if (access(RedisSentinelBinary().c_str(), X_OK) != 0) {
      GTEST_SKIP() << RedisSentinelBinary() << " is not installed (apt-get install redis-sentinel)";
    }
    std::ofstream(dir_.File("k1")) << "sentinel-test-signing-key-0123456789abcd\n";
    origin_ = std::make_unique<ScriptedOrigin>(ServeOkForever());
  }

  // A redis-server (replica of `primary` unless 0) or a sentinel (`conf`).
  bool Launch(Node* node, const std::string& name, uint16_t primary, const std::string& conf) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      node->port = FreeLoopbackPort();
      ProcessOptions options;
      options.log_dir = dir_.path();
      options.name = name;
      if (conf.empty()) {
        options.argv = {RedisServer::Binary(),
                        "--port",
                        std::to_string(node->port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        dir_.path(),
                        "--dbfilename",
                        name + ".rdb",
                        "--protected-mode",
                        "no",
                        "--loglevel",
                        "warning"};
        if (primary != 0) {
          options.argv.insert(options.argv.end(),
                              {"--replicaof", "127.0.0.1", std::to_string(primary)});
        }
      } else {
        std::string path = dir_.File(name + ".conf");
        std::ofstream(path) << "port " << node->port << "\nbind 127.0.0.1\nprotected-mode no\n"
                            << "dir " << dir_.path() << "\n"
                            << conf;
        options.argv = {RedisSentinelBinary(), path};
      }
      std::string error;
      node->process = Process::Start(options, &error);
      if (!node->process) {
        ADD_FAILURE() << name << ": " << error;
        return false;
      }
      if (WaitFor([&] { return RespCommand(node->port, "PING") == "+PONG\r\n"; }, 10s)) return true;
      node->process.reset();  // the port was taken meanwhile: another one
    }
    ADD_FAILURE() << name << " never answered PING";
    return false;
  }

  std::string Config() const {
    std::string sentinels;
    for (const Node& s : sentinels_) {
      sentinels +=
          (sentinels.empty() ? "\"127.0.0.1:" : ", \"127.0.0.1:") + std::to_string(s.port) + "\"";
    }
    std::string features;
    for (int i = 0; i < kFeatures; ++i) {
      features += "\n[features.f" + std::to_string(i) + "]\nmatch = [{ path = \"^/f" +
                  std::to_string(i) + "/\" }]\n";
    }
    return "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 2\ndrain_timeout = \"5s\"\n"
           "\n[upstream]\nservers = [\"127.0.0.1:" +
           std::to_string(origin_->port()) +
           "\"]\nconnect_timeout = \"1s\"\nresponse_timeout = \"5s\"\n"
           "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
           "audit_log = \"${DIR}/audit.jsonl\"\n"
           "tokens = [{ name = \"ops\", token_sha256 = \"" +
           Sha256Hex(kOperator) +
           "\", role = \"operator\" }]\n"
           "\n[state]\nbackend = \"redis\"\nsentinels = [" +
           sentinels + "]\nmaster_name = \"" + kMaster +
           "\"\nredis_timeout = \"300ms\"\nresync_interval = \"500ms\"\n"
           "on_failure = \"local\"\nwait_timeout = \"500ms\"\n"
           "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
           "\n[rooms.shop]\nmatch = [\"^/\"]\nrefresh_interval = \"1s\"\n"
           "total_active_users = 100000\nnew_users_per_minute = 600000\n" +
           features;
  }

  HttpMessage Call(uint16_t port, const std::string& method, const std::string& target,
                   std::chrono::milliseconds budget = 5s) {
    std::string error;
    auto conn = RawConnection::Connect(port, &error);
    if (!conn) return FailedMessage("connect: " + error);
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (method != "GET") {
      std::string body = R"({"message": "sentinel test"})";
      request +=
          "Authorization: Bearer " + std::string(kOperator) +
          "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\n\r\n" + body;
    } else {
      request +=
          "Authorization: Bearer " + std::string(kOperator) + "\r\nConnection: close\r\n\r\n";
    }
    if (!conn->Send(request)) return FailedMessage("send failed");
    return ReadResponse(*conn, Within(budget));
  }

  Json State() {
    HttpMessage m = Call(tidegate_->admin_port(), "GET", "/v1/state");
    return m.ok && m.status == 200 ? Json::parse(m.body, nullptr, false) : Json();
  }

  // The port of the redis-server that says it is the master now (0: none).
  uint16_t CurrentPrimary() {
    for (const Node* n : {&primary_, &replicas_[0], &replicas_[1]}) {
      if (n->process && RespCommand(n->port, "ROLE").find("master") != std::string::npos)
        return n->port;
    }
    return 0;
  }

  // Primary, two replicas, three sentinels agreeing on a quorum, then
  // tidegate with [state].sentinels, its store healthy.
  void StartCluster() {
    ASSERT_TRUE(Launch(&primary_, "primary", 0, ""));
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(Launch(&replicas_[i], "replica" + std::to_string(i), primary_.port, ""));
    }
    ASSERT_TRUE(WaitFor(
        [&] {
          return RespCommand(primary_.port, "INFO replication").find("connected_slaves:2") !=
                 std::string::npos;
        },
        15s))
        << RespCommand(primary_.port, "INFO replication");
    // Connected is not enough: WAIT counts replicas once their first sync is done.
    for (const Node& r : replicas_) {
      ASSERT_TRUE(WaitFor(
          [&] {
            return RespCommand(r.port, "INFO replication").find("master_link_status:up") !=
                   std::string::npos;
          },
          15s))
          << RespCommand(r.port, "INFO replication");
    }
    std::string monitor = "sentinel monitor " + std::string(kMaster) + " 127.0.0.1 " +
                          std::to_string(primary_.port) +
                          " 2\n"
                          "sentinel down-after-milliseconds tg 1000\n"
                          "sentinel failover-timeout tg 3000\n"
                          "sentinel parallel-syncs tg 2\n";
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(Launch(&sentinels_[i], "sentinel" + std::to_string(i), 0, monitor));
    }
    // Sentinels find each other through the primary's hello channel (every 2 s).
    ASSERT_TRUE(WaitFor(
        [&] {
          for (const Node& s : sentinels_) {
            if (RespCommand(s.port, "SENTINEL ckquorum tg").rfind("+OK 3 usable", 0) != 0)
              return false;
          }
          return true;
        },
        30s))
        << RespCommand(sentinels_[0].port, "SENTINEL ckquorum tg");

    TidegateOptions options;
    options.config = Config();
    tidegate_ = StartTidegateOrFail(dir_, options);
    ASSERT_TRUE(tidegate_);
    ASSERT_TRUE(WaitFor([&] { return State()["store"]["healthy"] == true; }, 10s))
        << State().dump();
  }

  TempDir dir_;
  std::unique_ptr<ScriptedOrigin> origin_;
  Node primary_;
  Node replicas_[2];
  std::vector<Node> sentinels_ = std::vector<Node>(3);
  std::unique_ptr<TidegateProcess> tidegate_;
};

TEST_F(RedisSentinelTest, PrimaryKilledUnderLoadNothingAcknowledgedIsLost) {
  StartCluster();
  if (HasFatalFailure()) return;

  // Shop load: new visitors through the room, on their own thread.
  std::atomic<bool> stop{false};
  std::atomic<int> shop_ok{0}, shop_5xx{0}, shop_failed{0};
  std::string shop_error;
  std::thread load([&] {
    uint16_t port = tidegate_->port();
    int n = 0;
    while (!stop.load()) {
      std::string error;
      auto conn = RawConnection::Connect(port, &error);
      HttpMessage m = !conn ? FailedMessage("connect: " + error) : HttpMessage();
      if (conn) {
        conn->Send("GET /products/" + std::to_string(++n) +
                   " HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n");
        m = ReadResponse(*conn, Within(5s));
      }
      if (!m.ok) {
        if (shop_failed++ == 0) shop_error = m.error;
      } else if (m.status >= 500) {
        if (shop_5xx++ == 0) shop_error = std::to_string(m.status) + " " + m.body;
      } else {
        ++shop_ok;
      }
      std::this_thread::sleep_for(10ms);
    }
  });

  // Operator changes: one feature each, so each acknowledged one is checkable.
  std::vector<int> acknowledged;
  int refused = 0;
  int next = 0;
  std::optional<Clock::time_point> killed, first_success_after_kill;
  int after_kill_successes = 0;
  auto stop_at = Clock::now() + 60s;
  while (next < kFeatures && Clock::now() < stop_at) {
    if (!killed && acknowledged.size() >= 10) {
      ASSERT_TRUE(primary_.process->Signal(SIGKILL));
      primary_.process->WaitExit(5s);
      primary_.process.reset();
      killed = Clock::now();
      stop_at = *killed + 25s;
    }
    int feature = next++;
    HttpMessage m = Call(tidegate_->admin_port(), "PUT",
                         "/v1/features/f" + std::to_string(feature) + "/maintenance");
    if (m.ok && m.status >= 200 && m.status < 300) {
      acknowledged.push_back(feature);
      if (killed) {
        if (!first_success_after_kill) first_success_after_kill = Clock::now();
        if (++after_kill_successes >= 5) break;
      }
    } else {
      ++refused;
      EXPECT_TRUE(m.ok) << "admin API did not answer: " << m.error;
      EXPECT_EQ(m.status, 503) << m.body;  // store_unavailable, never anything else
    }
    std::this_thread::sleep_for(100ms);
  }
  // Shop load continues for a moment after the store came back.
  std::this_thread::sleep_for(1s);
  stop.store(true);
  load.join();

  ASSERT_TRUE(killed) << "never reached 10 acknowledged changes before the kill";
  ASSERT_TRUE(first_success_after_kill)
      << "no operator change succeeded after the kill; refused " << refused << "\n"
      << tidegate_->Stderr();
  EXPECT_LT(*first_success_after_kill - *killed, 15s);
  EXPECT_GE(after_kill_successes, 5);

  EXPECT_EQ(shop_5xx.load(), 0) << shop_error;
  EXPECT_EQ(shop_failed.load(), 0) << shop_error;
  EXPECT_GT(shop_ok.load(), 50);

  // Sentinel promoted a replica; tidegate follows it.
  uint16_t promoted = CurrentPrimary();
  ASSERT_NE(promoted, 0) << "no replica was promoted";
  ASSERT_NE(promoted, primary_.port);
  Json state;
  ASSERT_TRUE(WaitFor(
      [&] {
        state = State();
        return state["store"]["healthy"] == true;
      },
      10s))
      << state.dump();
  for (int feature : acknowledged) {
    std::string name = "f" + std::to_string(feature);
    EXPECT_EQ(state["features"][name]["under_maintenance"], true)
        << "acknowledged change on " << name << " lost after the failover";
  }
  std::string stored = RespCommand(promoted, "GET tidegate:{admin}:state");
  for (int feature : acknowledged) {
    EXPECT_NE(stored.find("\"f" + std::to_string(feature) + "\""), std::string::npos)
        << "f" << feature << " missing on the new primary";
  }
  RecordProperty("acknowledged", static_cast<int>(acknowledged.size()));
  RecordProperty("refused_during_failover", refused);
  RecordProperty(
      "seconds_to_first_success",
      std::to_string(std::chrono::duration<double>(*first_success_after_kill - *killed).count()));
  std::cout << "sentinel failover: " << acknowledged.size() << " changes acknowledged, " << refused
            << " refused (503); first success "
            << std::chrono::duration<double>(*first_success_after_kill - *killed).count()
            << " s after the kill; shop " << shop_ok.load() << " ok, " << shop_5xx.load()
            << " 5xx, " << shop_failed.load() << " failed\n";
  EXPECT_TRUE(tidegate_->process().Running()) << tidegate_->Stderr();
  EXPECT_EQ(tidegate_->Stop(10s), 0) << tidegate_->Stderr();
}

// A planned failover (SENTINEL FAILOVER): the old primary stays up and
// becomes a replica. tidegate hears +switch-master and moves its store
// connections at once; changes are accepted again within 15 s and land on
// the new primary.
TEST_F(RedisSentinelTest, PlannedFailoverIsFollowedWhileTheOldPrimaryStaysUp) {
  StartCluster();
  if (HasFatalFailure()) return;
  HttpMessage before = Call(tidegate_->admin_port(), "PUT", "/v1/features/f0/maintenance");
  ASSERT_EQ(before.status, 200) << before.body;

  ASSERT_EQ(RespCommand(sentinels_[0].port, "SENTINEL failover tg"), "+OK\r\n");
  uint16_t promoted = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        promoted = CurrentPrimary();
        return promoted != 0 && promoted != primary_.port;
      },
      20s));
  auto switched = Clock::now();
  bool accepted = false;
  while (!accepted && Clock::now() - switched < 15s) {
    HttpMessage m = Call(tidegate_->admin_port(), "PUT", "/v1/features/f1/maintenance");
    accepted = m.ok && m.status == 200;
    if (!accepted) std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(accepted) << tidegate_->Stderr();
  std::string stored = RespCommand(promoted, "GET tidegate:{admin}:state");
  EXPECT_NE(stored.find("\"f0\""), std::string::npos) << stored;
  EXPECT_NE(stored.find("\"f1\""), std::string::npos) << stored;
  EXPECT_TRUE(WaitFor(
      [&] {
        return tidegate_->Stderr().find("Sentinel announced a new primary for \"tg\"") !=
               std::string::npos;
      },
      5s))
      << tidegate_->Stderr();
  Json state = State();
  EXPECT_EQ(state["features"]["f0"]["under_maintenance"], true) << state.dump();
  EXPECT_EQ(state["features"]["f1"]["under_maintenance"], true) << state.dump();
  EXPECT_EQ(tidegate_->Stop(10s), 0) << tidegate_->Stderr();
}

}  // namespace
}  // namespace tidegate::itest
