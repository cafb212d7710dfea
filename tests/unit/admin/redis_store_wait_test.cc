// RedisStore with wait_replicas (docs/state.md "Operator changes wait for a
// replica") against a real redis-server that has no replica: WAIT answers 0,
// so a change is refused as not durable (kUnavailable, saying so) although
// it is in force on the primary, a repeat is refused the same way, and
// wait_replicas = 0 applies without waiting. The confirmed path (a real
// replica) is tested in tests/integration/redis_sentinel_test.cc.
#include <event2/event.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "admin/redis_store.h"
#include "tests/unit/redis/redis_server.h"

namespace tidegate::admin {
namespace {

using namespace std::chrono_literals;

class RedisStoreWaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis_.available()) GTEST_SKIP() << redis_.binary() << " is not installed";
    signal(SIGPIPE, SIG_IGN);
    ASSERT_TRUE(redis_.Start()) << "redis-server did not start";
    base_ = event_base_new();
    tick_ = event_new(
        base_, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
    timeval tv{0, 5000};
    evtimer_add(tick_, &tv);
  }
  void TearDown() override {
    store_.reset();
    if (tick_) event_free(tick_);
    if (base_) event_base_free(base_);
  }

  RedisStore* Start(int wait_replicas) {
    RedisStoreOptions o;
    o.address = redis_.address();
    o.timeout = 1000ms;
    o.resync_interval = 5s;
    o.wait_replicas = wait_replicas;
    o.wait_timeout = 50ms;
    o.warn = [this](std::string_view, std::string_view m) { warnings_.emplace_back(m); };
    store_ = RedisStore::Start(base_, o);
    return store_.get();
  }

  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      event_base_loop(base_, EVLOOP_ONCE);
    }
    return done();
  }

  ApplyResult Banner(const std::string& message) {
    state::BannerOverride b;
    b.message = message;
    b.severity = "warning";
    std::optional<ApplyResult> out;
    store_->Apply(state::SetBanner{b}, "ops", std::nullopt,
                  [&](ApplyResult r) { out = std::move(r); });
    EXPECT_TRUE(RunUntil([&] { return out.has_value(); })) << "Apply never completed";
    if (out) return std::move(*out);
    return ApplyResult{ApplyStatus::kUnavailable, "never completed", nullptr, nullptr};
  }

  redis::test_support::RedisServer redis_;
  event_base* base_ = nullptr;
  event* tick_ = nullptr;
  std::unique_ptr<RedisStore> store_;
  std::vector<std::string> warnings_;
};

TEST_F(RedisStoreWaitTest, NoReplicaToConfirmIsRefusedAsNotDurable) {
  RedisStore* store = Start(/*wait_replicas=*/1);
  ASSERT_TRUE(RunUntil([&] { return store->Health().healthy; }));
  uint64_t errors_before = store->Health().errors_total;
  ApplyResult r = Banner("High demand");
  EXPECT_EQ(r.status, ApplyStatus::kUnavailable);
  EXPECT_NE(r.error.find("not durable"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("WAIT 1 50 answered 0"), std::string::npos) << r.error;
  // Written all the same: in force here and in Redis, and counted.
  ASSERT_TRUE(store->Current()->banner.has_value());
  EXPECT_EQ(store->Current()->banner->message, "High demand");
  EXPECT_EQ(redis_.Run("GET %s", "tidegate:{admin}:version"), "1");
  EXPECT_GT(store->Health().errors_total, errors_before);
  EXPECT_FALSE(warnings_.empty());
  // A repeat changes nothing but is not acknowledged either.
  ApplyResult again = Banner("High demand");
  EXPECT_EQ(again.status, ApplyStatus::kUnavailable);
  EXPECT_NE(again.error.find("already on the Redis primary"), std::string::npos) << again.error;
}

TEST_F(RedisStoreWaitTest, WaitReplicasZeroDoesNotWait) {
  RedisStore* store = Start(/*wait_replicas=*/0);
  ASSERT_TRUE(RunUntil([&] { return store->Health().healthy; }));
  ApplyResult r = Banner("High demand");
  EXPECT_EQ(r.status, ApplyStatus::kApplied) << r.error;
  EXPECT_EQ(Banner("High demand").status, ApplyStatus::kUnchanged);
}

}  // namespace
}  // namespace tidegate::admin
