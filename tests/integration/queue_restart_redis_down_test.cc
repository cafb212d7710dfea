// A restart while Redis is down (audit 13 finding 2), with real processes:
// a redis-server, one tidegate on it with `on_failure = "local"`, the demo
// shop. Four shoppers queue (Redis numbers them 1–4); Redis is frozen
// (SIGSTOP) and tidegate restarted (SIGTERM, then a new process on the
// same state folder) or upgraded (SIGUSR2). The new process has never read
// the room from Redis: its local fallback numbers newcomers on from the
// counters the process before it saved (state/shared_rooms.json, plus a
// margin of skipped numbers), so a newcomer queues behind the four instead
// of beside the first; the queue order saved with the counters gives the
// four their positions while Redis is still down. Once Redis answers
// again the four are the first four in line, the newcomer behind them.
// Fails on the version before: the restarted process numbered its
// newcomers from 1, a tie with the front of the line, and showed nobody a
// position until Redis answered.
#include <gtest/gtest.h>
#include <sys/prctl.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/redis_server.h"
#include "tests/integration/harness/shopper.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using namespace std::chrono_literals;

class QueueRestartRedisDownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::Available()) GTEST_SKIP() << RedisServer::Binary() << " is not installed";
    redis_ = StartRedisOrFail(dir_);
    shop_ = StartDemoShopOrFail(dir_);
    ASSERT_TRUE(redis_ && shop_);
    std::ofstream(dir_.File("k1")) << "restart-redis-down-test-signing-key-0123\n";
    tidegate_ = StartTidegateOrFail(dir_, Options());
    ASSERT_TRUE(tidegate_);
  }

  void TearDown() override {
    if (redis_) redis_->Resume();  // never leave it frozen
    if (successor_ > 0) {
      EXPECT_TRUE(StopSuccessor(successor_)) << "the new process did not exit on SIGTERM";
    } else if (tidegate_) {
      EXPECT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
      EXPECT_EQ(tidegate_->Stop(15s), 0) << tidegate_->Stderr();
    }
  }

  TidegateOptions Options() const {
    TidegateOptions options;
    // One invitation a minute: the four stay in line for the whole test.
    options.config =
        "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 1\n"
        "drain_timeout = \"2s\"\naccess_log = \"\"\n"
        "\n[upstream]\nservers = [\"127.0.0.1:" +
        std::to_string(shop_->port()) +
        "\"]\n"
        "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
        "audit_log = \"${DIR}/audit.jsonl\"\n"
        "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
        "\n[state]\nbackend = \"redis\"\nredis = \"" +
        redis_->address() +
        "\"\nredis_timeout = \"300ms\"\non_failure = \"local\"\npath = \"${DIR}/state\"\n"
        "\n[rooms.shop]\nmatch = [\"^/\"]\nrefresh_interval = \"1s\"\n"
        "max_tickets_per_ip_per_minute = 0\nmode = \"queue_all\"\n"
        "total_active_users = 100\nnew_users_per_minute = 1\n"
        "session_duration = \"30m\"\n";
    return options;
  }

  // Queues four shoppers on Redis's numbers and waits for the counters to
  // be saved (every second).
  void QueueFour() {
    for (int k = 0; k < 4; ++k) {
      auto s = std::make_unique<Shopper>(tidegate_->port());
      ASSERT_EQ(s->Arrive(), ArriveResult::kQueued) << "shopper " << k;
      PollStatus p = s->Poll();
      ASSERT_TRUE(p.in_queue) << p.body;
      held_.push_back(std::move(s));
    }
    std::this_thread::sleep_for(2500ms);  // the idle tick reads Redis and the file is written
    std::ifstream saved(dir_.File("state/shared_rooms.json"));
    std::string text((std::istreambuf_iterator<char>(saved)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("\"tickets\":4"), std::string::npos) << text;
  }

  // The four's state on their instance now: how many are still queued
  // (each at a place among the first four); those let in are the first in
  // line (a prefix of the four: the local fallback invites in turn).
  uint64_t StillQueued(const std::string& when) {
    uint64_t queued = 0;
    for (size_t i = 0; i < held_.size(); ++i) {
      PollStatus p = held_[i]->Poll();
      EXPECT_TRUE(p.in_queue || p.admitted) << "shopper " << i << " " << when << ": " << p.body;
      if (!p.in_queue) {
        EXPECT_EQ(queued, 0u) << "shopper " << i << " let in before one ahead of it " << when;
        continue;
      }
      ++queued;
      EXPECT_GE(p.position, 1u) << "shopper " << i << " " << when << ": " << p.body;
      EXPECT_LE(p.position, 4u) << "shopper " << i << " " << when << ": " << p.body;
    }
    return queued;
  }

  // After the restart, Redis still down: a newcomer's number follows the
  // four's (plus the margin); the four keep their places (the saved queue
  // order) and the newcomer is behind them, then as well once Redis
  // answers again.
  void ExpectNewcomersQueueBehind() {
    uint16_t port = tidegate_->port();
    for (auto& s : held_) s->set_port(port);
    Shopper newcomer(port);
    ASSERT_EQ(newcomer.Arrive(), ArriveResult::kQueued) << tidegate_->Stderr();
    EXPECT_GT(WaitTicket(newcomer.wait()), 4u)
        << "a newcomer after a restart while Redis is down must be numbered after the four "
           "already in line, not from 1\n"
        << tidegate_->Stderr();
    uint64_t ahead = StillQueued("while Redis is down");
    PollStatus behind = newcomer.Poll();
    EXPECT_TRUE(behind.in_queue) << behind.body;
    EXPECT_GT(behind.position, ahead) << "the newcomer while Redis is down: " << behind.body;

    ASSERT_TRUE(redis_->Resume());
    std::this_thread::sleep_for(2500ms);  // back on Redis
    ahead = StillQueued("with Redis back");
    PollStatus fresh = newcomer.Poll();
    EXPECT_TRUE(fresh.in_queue) << fresh.body;
    EXPECT_GT(fresh.position, ahead) << "the newcomer must be behind the four: " << fresh.body;
  }

  TempDir dir_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<TidegateProcess> tidegate_;
  std::vector<std::unique_ptr<Shopper>> held_;
  pid_t successor_ = -1;  // the new process of a binary upgrade
};

TEST_F(QueueRestartRedisDownTest, ARestartedProcessNumbersNewcomersBehindTheLine) {
  QueueFour();
  ASSERT_TRUE(redis_->Pause());
  EXPECT_EQ(tidegate_->Stop(15s), 0) << tidegate_->Stderr();
  tidegate_ = StartTidegateOrFail(dir_, Options());
  ASSERT_TRUE(tidegate_);
  ExpectNewcomersQueueBehind();
}

TEST_F(QueueRestartRedisDownTest, AnUpgradedProcessNumbersNewcomersBehindTheLine) {
  prctl(PR_SET_CHILD_SUBREAPER, 1);  // the new process outlives its parent: be its reaper
  QueueFour();
  ASSERT_TRUE(redis_->Pause());
  std::string error;
  successor_ = UpgradeInPlace(*tidegate_, 20s, &error);
  ASSERT_GT(successor_, 0) << error;
  ExpectNewcomersQueueBehind();  // the same ports, served by the new process
}

TEST_F(QueueRestartRedisDownTest, AnUnreadableCountersFileIsSetAsideAndTheStartGoesOn) {
  QueueFour();
  ASSERT_TRUE(redis_->Stop());
  EXPECT_EQ(tidegate_->Stop(15s), 0) << tidegate_->Stderr();
  std::ofstream(dir_.File("state/shared_rooms.json"), std::ios::trunc) << "{ not json";
  tidegate_ = StartTidegateOrFail(dir_, Options());
  ASSERT_TRUE(tidegate_);
  EXPECT_NE(tidegate_->Stderr().find("shared_rooms.json cannot be used"), std::string::npos)
      << tidegate_->Stderr();
  Shopper newcomer(tidegate_->port());
  EXPECT_EQ(newcomer.Arrive(), ArriveResult::kQueued) << tidegate_->Stderr();
}

}  // namespace
}  // namespace tidegate::itest
