// notify/redis_outbox.h, Heal(): two instances (two RedisOutbox on one
// real redis-server, nothing persisted) each hold the pending deliveries
// they know of; Redis is killed and started again empty; Heal() writes each
// instance's pending deliveries back — once (HSETNX by id), whichever
// instance comes first — while a delivery completed before the loss is not
// written back, nor one another instance delivered (pruned).
#include "notify/redis_outbox.h"

#include <event2/event.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>

#include "tests/unit/redis/redis_server.h"

namespace tidegate::notify {
namespace {

using namespace std::chrono_literals;
using redis::test_support::RedisServer;

Delivery D(const std::string& event) {
  Delivery d;
  d.id = event + ".abcd1234";
  d.event_id = event;
  d.event_type = "incident.opened";
  d.url = "http://127.0.0.1:9/hook";
  d.body = "{\"id\":\"" + event + "\"}";
  d.created_ms = 1000;
  d.next_ms = 1000;
  return d;
}

class RedisOutboxHealTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis_.available()) GTEST_SKIP() << redis_.binary() << " is not installed";
    signal(SIGPIPE, SIG_IGN);  // hiredis writes to a killed server (as tidegate's Server does)
    ASSERT_TRUE(redis_.Start());
    base_ = event_base_new();
    state_.backend = config::StateBackend::kRedis;
    state_.redis = redis_.address();
    state_.redis_timeout = config::Duration(500);
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    if (base_ != nullptr) event_base_free(base_);
  }

  template <typename Fn>
  bool RunUntil(Fn done, std::chrono::milliseconds limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      timeval slice{0, 10'000};
      event_base_loopexit(base_, &slice);
      event_base_dispatch(base_);
    }
    return true;
  }

  void RunFor(std::chrono::milliseconds d) {
    auto end = std::chrono::steady_clock::now() + d;
    RunUntil([&] { return std::chrono::steady_clock::now() >= end; });
  }

  // Heal() until it succeeds (the connection may still be coming back):
  // how many deliveries it wrote back.
  size_t Heal(RedisOutbox& outbox) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      bool answered = false;
      bool ok = false;
      size_t restored = 0;
      outbox.Heal([&](bool good, const std::string&, size_t n) {
        answered = true;
        ok = good;
        restored = n;
      });
      RunUntil([&] { return answered; }, 2s);
      if (ok) return restored;
      RunFor(50ms);  // the connection comes back on the loop
    }
    ADD_FAILURE() << "Heal() never succeeded";
    return 0;
  }

  // Add() until it succeeds (the connection may still be coming up).
  void Add(RedisOutbox& outbox, const std::vector<Delivery>& d) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      bool answered = false;
      bool ok = false;
      outbox.Add(d, [&](bool good, const std::string&) {
        answered = true;
        ok = good;
      });
      RunUntil([&] { return answered; }, 2s);
      if (ok) return;
      RunFor(50ms);
    }
    ADD_FAILURE() << "Add() never succeeded";
  }

  std::vector<std::string> PendingIds(RedisOutbox& outbox) {
    std::vector<std::string> ids;
    bool done = false;
    outbox.List(100, [&](Outbox::Listing l) {
      EXPECT_TRUE(l.ok) << l.error;
      for (const Delivery& d : l.pending) ids.push_back(d.id);
      done = true;
    });
    EXPECT_TRUE(RunUntil([&] { return done; }));
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  RedisServer redis_;
  event_base* base_ = nullptr;
  config::StateConfig state_;
  std::unique_ptr<RedisOutbox> a_, b_;
};

TEST_F(RedisOutboxHealTest, EachInstanceWritesBackWhatItKnewOnceRedisRestartsEmpty) {
  a_ = std::make_unique<RedisOutbox>(base_, state_);
  b_ = std::make_unique<RedisOutbox>(base_, state_);
  EXPECT_EQ(Heal(*a_), 0u);
  EXPECT_EQ(Heal(*b_), 0u);
  Delivery done = D("evt_done");
  done.next_ms = 500;  // due first: the one b claims
  Add(*a_, {D("evt_a1"), D("evt_a2"), done});
  Add(*b_, {D("evt_b1")});

  // b claims and delivers evt_done, which a enqueued.
  bool claimed = false;
  std::vector<Delivery> due;
  b_->Claim(5000, 10, 30'000, [&](Outbox::Claimed c) {
    due = c.due;
    claimed = true;
  });
  ASSERT_TRUE(RunUntil([&] { return claimed; }));
  ASSERT_EQ(due.size(), 1u) << "one per subscriber at a time";
  ASSERT_EQ(due[0].id, done.id);
  bool completed = false;
  b_->Complete(due[0], [&](bool ok, const std::string&) { completed = ok; });
  ASSERT_TRUE(RunUntil([&] { return completed; }));
  EXPECT_EQ(PendingIds(*a_).size(), 3u);

  // Nothing lost yet: Heal() writes nothing back.
  EXPECT_EQ(Heal(*a_), 0u);
  EXPECT_EQ(Heal(*b_), 0u);

  redis_.Kill();
  ASSERT_TRUE(redis_.Start());
  ASSERT_EQ(redis_.Run("DBSIZE"), "0");

  // b first: it sets a new epoch and writes back evt_b1 (not evt_done: it
  // completed it). a sees an epoch it has not healed and writes back what
  // it holds: evt_a1, evt_a2 and, unless a prune (every 10 s, entries older
  // than 5 s) had shown it delivered, evt_done again (at least once).
  EXPECT_EQ(Heal(*b_), 1u);
  size_t from_a = Heal(*a_);
  EXPECT_GE(from_a, 2u);
  EXPECT_LE(from_a, 3u);
  std::vector<std::string> ids = PendingIds(*a_);
  EXPECT_EQ(ids.size(), 1u + from_a);
  for (const char* id : {"evt_a1.abcd1234", "evt_a2.abcd1234", "evt_b1.abcd1234"}) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id;
  }

  // Healed: again, nothing more is written back, by either.
  EXPECT_EQ(Heal(*a_), 0u);
  EXPECT_EQ(Heal(*b_), 0u);
  EXPECT_EQ(PendingIds(*b_), ids);
}

TEST_F(RedisOutboxHealTest, ACompletedOrGivenUpDeliveryIsNotWrittenBack) {
  a_ = std::make_unique<RedisOutbox>(base_, state_);
  Add(*a_, {D("evt_1")});
  EXPECT_EQ(a_->copy_size(), 1u);
  bool done = false;
  a_->Complete(D("evt_1"), [&](bool, const std::string&) { done = true; });
  ASSERT_TRUE(RunUntil([&] { return done; }));
  Add(*a_, {D("evt_2")});
  done = false;
  a_->Fail(D("evt_2"), [&](bool, const std::string&) { done = true; });
  ASSERT_TRUE(RunUntil([&] { return done; }));
  EXPECT_EQ(a_->copy_size(), 0u);

  redis_.Kill();
  ASSERT_TRUE(redis_.Start());
  EXPECT_EQ(Heal(*a_), 0u);
  EXPECT_TRUE(PendingIds(*a_).empty());
}

TEST_F(RedisOutboxHealTest, ARescheduledDeliveryIsWrittenBackWithItsAttempts) {
  a_ = std::make_unique<RedisOutbox>(base_, state_);
  Add(*a_, {D("evt_1")});
  EXPECT_EQ(Heal(*a_), 0u);
  redis_.Kill();
  ASSERT_TRUE(redis_.Start());
  // The attempt in flight during the loss fails: rescheduled (a no-op in the
  // empty Redis), and written back as it now is.
  Delivery d = D("evt_1");
  d.attempts = 2;
  d.last_error = "HTTP 500";
  d.next_ms = 9000;
  bool done = false;
  ASSERT_TRUE(RunUntil([&] {
    done = false;
    bool answered = false;
    a_->Reschedule(d, [&](bool ok, const std::string&) {
      answered = true;
      done = ok;
    });
    RunUntil([&] { return answered; }, 1s);
    return done;
  }));
  EXPECT_EQ(Heal(*a_), 1u);
  bool listed = false;
  a_->List(10, [&](Outbox::Listing l) {
    ASSERT_EQ(l.pending.size(), 1u);
    EXPECT_EQ(l.pending[0].attempts, 2u);
    EXPECT_EQ(l.pending[0].last_error, "HTTP 500");
    listed = true;
  });
  ASSERT_TRUE(RunUntil([&] { return listed; }));
}

}  // namespace
}  // namespace tidegate::notify
