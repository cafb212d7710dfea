// A Redis outage with `on_failure = "local"` on two instances (audit 13
// finding 1), with real processes: a redis-server frozen by SIGSTOP, two
// tidegate instances sharing it, the demo shop. Each instance's local
// fallback numbers its newcomers on from the last counters it saw, so both
// give out numbers that Redis (before the outage) or the other instance
// gave too. Those tickets carry their issuer (queue/token.h), and a claim
// is recorded per (number, issuer): after SIGCONT every shopper — those
// queued before the outage and the newcomers of both instances — is
// admitted in turn and nobody is told `ticket_used`; a copied cookie is
// still refused on its second claim once its session ended (an order
// placed; before that a copy enters the same session, "A lost answer keeps
// the place"): Redis down on the same instance, Redis up on the other. Fails on the version before:
// one holder of each number given twice gets `ticket_used` and loses their place.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
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
using std::chrono::steady_clock;

bool TicketUsed(const PollStatus& p) { return p.body.find("\"ticket_used\"") != std::string::npos; }

class QueueOutageIssuerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::Available()) GTEST_SKIP() << RedisServer::Binary() << " is not installed";
    redis_ = StartRedisOrFail(dir_);
    shop_ = StartDemoShopOrFail(dir_);
    ASSERT_TRUE(redis_ && shop_);
    std::ofstream(dir_.File("k1")) << "outage-issuer-test-signing-key-0123456789\n";
    for (int i = 0; i < 2; ++i) {
      TidegateOptions options;
      options.name = "tidegate" + std::to_string(i);
      options.config = Config(i);
      auto tg = StartTidegateOrFail(dir_, options);
      ASSERT_TRUE(tg);
      instances_.push_back(std::move(tg));
    }
  }

  void TearDown() override {
    if (redis_) redis_->Resume();  // never leave it frozen
    for (auto& tg : instances_) {
      EXPECT_TRUE(tg->process().Running()) << "tidegate died:\n" << tg->Stderr();
      EXPECT_EQ(tg->Stop(15s), 0) << tg->Stderr();
    }
  }

  std::string Config(int index) const {
    return "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 1\n"
           "drain_timeout = \"5s\"\naccess_log = \"\"\n"
           "\n[upstream]\nservers = [\"127.0.0.1:" +
           std::to_string(shop_->port()) +
           "\"]\n"
           "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
           "audit_log = \"${DIR}/audit" +
           std::to_string(index) +
           ".jsonl\"\n"
           "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
           "\n[state]\nbackend = \"redis\"\nredis = \"" +
           redis_->address() +
           "\"\nredis_timeout = \"300ms\"\non_failure = \"local\"\n"
           "\n[rooms.shop]\nmatch = [\"^/\"]\nrefresh_interval = \"1s\"\n"
           "max_tickets_per_ip_per_minute = 0\nmode = \"queue_all\"\n"
           "total_active_users = 100\nnew_users_per_minute = 600\n"
           "session_duration = \"30m\"\n";
  }

  uint16_t Port(size_t i) const { return instances_[i]->port(); }

  // Polls `s` on its instance until admitted; false on `ticket_used`, on a
  // lost place or after `within`.
  bool PollUntilAdmitted(Shopper& s, std::string* why, std::chrono::milliseconds within = 20s) {
    auto deadline = steady_clock::now() + within;
    while (steady_clock::now() < deadline) {
      PollStatus p = s.Poll();
      if (p.admitted) return true;
      if (TicketUsed(p) || (p.ok && !p.in_queue)) {
        *why = p.body;
        return false;
      }
      std::this_thread::sleep_for(200ms);  // pacing only
    }
    *why = "not admitted in time";
    return false;
  }

  TempDir dir_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<DemoShop> shop_;
  std::vector<std::unique_ptr<TidegateProcess>> instances_;
};

TEST_F(QueueOutageIssuerTest, NumbersGivenTwiceDuringAnOutageCostNobodyTheirPlace) {
  struct Held {
    std::unique_ptr<Shopper> shopper;
    size_t instance;
    std::string label;
  };
  std::vector<Held> held;
  auto join = [&](size_t instance, const std::string& label) {
    auto s = std::make_unique<Shopper>(Port(instance));
    EXPECT_EQ(s->Arrive(), ArriveResult::kQueued) << label;
    held.push_back({std::move(s), instance, label});
  };
  // Before the outage: two shoppers on A, two on B, with Redis's tickets.
  for (int k = 0; k < 2; ++k) join(0, "A before " + std::to_string(k));
  for (int k = 0; k < 2; ++k) join(1, "B before " + std::to_string(k));
  std::this_thread::sleep_for(1500ms);  // both instances tick and see the counters

  ASSERT_TRUE(redis_->Pause());
  // During the outage: newcomers on both instances get local numbers.
  for (int k = 0; k < 3; ++k) join(0, "A during " + std::to_string(k));
  for (int k = 0; k < 3; ++k) join(1, "B during " + std::to_string(k));
  std::map<uint64_t, int> holders;
  for (const Held& h : held) ++holders[WaitTicket(h.shopper->wait())];
  int twice = 0;
  for (const auto& [ticket, n] : holders) twice += n > 1 ? 1 : 0;
  ASSERT_GT(twice, 0) << "the setup must give some number twice (two local fallbacks)";

  // Redis down, same instance: a local ticket claimed on A's fallback is
  // admitted once; after its order, a copy of its cookie is refused there.
  Shopper local_holder(Port(0));
  ASSERT_EQ(local_holder.Arrive(), ArriveResult::kQueued);
  std::string local_copy = local_holder.wait();
  std::string why;
  ASSERT_TRUE(PollUntilAdmitted(local_holder, &why, 10s)) << "on A's local fallback: " << why;
  ASSERT_TRUE(local_holder.Checkout());
  Shopper local_replay(Port(0));
  local_replay.set_wait(local_copy);
  PollStatus replayed = local_replay.Poll();
  EXPECT_TRUE(TicketUsed(replayed)) << "a copied cookie, Redis down: " << replayed.body;
  EXPECT_FALSE(replayed.admitted);

  ASSERT_TRUE(redis_->Resume());
  std::this_thread::sleep_for(1500ms);  // both instances are back on Redis

  // Everyone keeps their place and is admitted in turn; nobody is told
  // ticket_used. A copy of each cookie is taken before its claim.
  std::vector<std::string> copies;
  for (Held& h : held) {
    copies.push_back(h.shopper->wait());
    EXPECT_TRUE(PollUntilAdmitted(*h.shopper, &why))
        << h.label << " (ticket " << WaitTicket(copies.back()) << "): " << why;
  }
  for (Held& h : held) {
    if (!h.shopper->pass().empty()) EXPECT_TRUE(h.shopper->Checkout()) << h.label;
  }
  // Redis up: a copy claimed again, on the other instance, is refused.
  for (size_t i = 0; i < held.size(); ++i) {
    Shopper replay(Port(1 - held[i].instance));
    replay.set_wait(copies[i]);
    PollStatus p = replay.Poll();
    EXPECT_TRUE(TicketUsed(p)) << "copy of " << held[i].label << ": " << p.body;
    EXPECT_FALSE(p.admitted) << "copy of " << held[i].label;
  }
}

}  // namespace
}  // namespace tidegate::itest
