// RedisStore and RedisConnection against a real redis-server
// (tests/unit/redis/redis_server.h: a unix socket in a temp dir, no
// persistence): sharing between two stores, compare-and-set conflicts,
// retries, the audit stream, Redis down / frozen / restarted empty /
// answering errors / not Redis at all. Skipped (GTEST_SKIP, with the reason)
// only when /usr/bin/redis-server (or $REDIS_SERVER) is absent.
#include <event2/event.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "admin/redis_store.h"
#include "tests/unit/redis/redis_server.h"

namespace tidegate::admin {
namespace {

using namespace std::chrono_literals;

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis_.available()) GTEST_SKIP() << redis_.binary() << " is not installed";
    signal(SIGPIPE, SIG_IGN);  // as tidegate does: hiredis writes with write(2)
    ASSERT_TRUE(redis_.Start()) << "redis-server did not start";
    base_ = event_base_new();
    tick_ = event_new(
        base_, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
    timeval tv{0, 5000};
    evtimer_add(tick_, &tv);
  }
  void TearDown() override {
    stores_.clear();
    if (tick_) event_free(tick_);
    if (base_) event_base_free(base_);
  }

  RedisStore* NewStore(std::chrono::milliseconds timeout = 1000ms,
                       std::chrono::milliseconds resync = 5s,
                       std::optional<config::Address> address = std::nullopt) {
    RedisStoreOptions o;
    o.address = address ? *address : redis_.address();
    o.timeout = timeout;
    o.resync_interval = resync;
    o.warn = [this](std::string_view, std::string_view m) { warnings_.emplace_back(m); };
    stores_.push_back(RedisStore::Start(base_, o));
    return stores_.back().get();
  }

  // Runs the loop until `done()` or the deadline; returns done().
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 3s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      event_base_loop(base_, EVLOOP_ONCE);
    }
    return done();
  }

  ApplyResult ApplyAndWait(RedisStore* store, const StateChange& change,
                           std::optional<uint64_t> expected = std::nullopt) {
    std::optional<ApplyResult> out;
    store->Apply(change, "ops", expected, [&](ApplyResult r) { out = std::move(r); });
    EXPECT_TRUE(RunUntil([&] { return out.has_value(); }, 5s)) << "Apply never completed";
    if (out) return std::move(*out);
    ApplyResult never;
    never.status = ApplyStatus::kUnavailable;
    never.error = "never completed";
    return never;
  }

  bool Connected(RedisStore* store) {
    return RunUntil([&] { return store->Health().healthy; });
  }

  static SetBanner Banner(const std::string& message) {
    BannerOverride b;
    b.message = message;
    b.severity = "warning";
    return SetBanner{b};
  }

  redis::test_support::RedisServer redis_;
  event_base* base_ = nullptr;
  event* tick_ = nullptr;
  std::vector<std::unique_ptr<RedisStore>> stores_;
  std::vector<std::string> warnings_;
};

TEST_F(RedisStoreTest, AChangeOnOneStoreReachesTheOtherThroughPubSub) {
  RedisStore* a = NewStore();
  RedisStore* b = NewStore(1000ms, /*resync=*/1h);  // only pub/sub can tell b
  ASSERT_TRUE(Connected(a));
  ASSERT_TRUE(Connected(b));
  std::vector<uint64_t> seen_by_b;
  b->SetChangeCallback(
      [&](std::shared_ptr<const RuntimeState> s) { seen_by_b.push_back(s->version); });
  // Let b's SUBSCRIBE be confirmed before the change.
  RunUntil([] { return false; }, 100ms);
  ApplyResult r = ApplyAndWait(a, Banner("High demand"));
  ASSERT_EQ(r.status, ApplyStatus::kApplied) << r.error;
  EXPECT_EQ(r.after->version, 1u);
  EXPECT_EQ(a->Current()->version, 1u);
  ASSERT_TRUE(RunUntil([&] { return b->Current()->version == 1; }, 2s));
  EXPECT_EQ(b->Current()->banner->message, "High demand");
  EXPECT_EQ(seen_by_b, std::vector<uint64_t>{1});
  EXPECT_EQ(redis_.Run("GET %s", "tidegate:{admin}:version"), "1");
}

TEST_F(RedisStoreTest, StaleExpectedVersionIsAConflictAndChangesNothing) {
  RedisStore* a = NewStore();
  RedisStore* b = NewStore(1000ms, 1h);
  ASSERT_TRUE(Connected(a));
  ASSERT_TRUE(Connected(b));
  ASSERT_EQ(ApplyAndWait(a, Banner("one"), 0u).status, ApplyStatus::kApplied);
  ApplyResult stale = ApplyAndWait(b, Banner("two"), 0u);
  EXPECT_EQ(stale.status, ApplyStatus::kConflict);
  EXPECT_NE(stale.error.find("version 1"), std::string::npos) << stale.error;
  ApplyResult right = ApplyAndWait(b, Banner("two"), 1u);
  EXPECT_EQ(right.status, ApplyStatus::kApplied) << right.error;
  EXPECT_EQ(right.before->banner->message, "one");
  EXPECT_EQ(ApplyAndWait(a, Banner("two")).status, ApplyStatus::kUnchanged);
}

// The compare-and-set script goes by EVALSHA (redis/script_runner.h): a
// Redis that lost its script cache between two changes (SCRIPT FLUSH, a
// restart) is healed by one EVAL, unseen by the operator.
TEST_F(RedisStoreTest, ScriptFlushBetweenChangesHealsTransparently) {
  RedisStore* a = NewStore();
  ASSERT_TRUE(Connected(a));
  ASSERT_EQ(ApplyAndWait(a, Banner("one")).status, ApplyStatus::kApplied);
  ASSERT_EQ(redis_.Run("SCRIPT FLUSH"), "OK");
  ApplyResult r = ApplyAndWait(a, Banner("two"));
  ASSERT_EQ(r.status, ApplyStatus::kApplied) << r.error;
  EXPECT_EQ(r.after->version, 2u);
  EXPECT_EQ(redis_.Run("GET %s", "tidegate:{admin}:version"), "2");
  EXPECT_TRUE(a->Health().healthy) << a->Health().last_error;
  EXPECT_EQ(a->Health().errors_total, 0u);
}

TEST_F(RedisStoreTest, ConcurrentChangesWithoutExpectedVersionAreAllApplied) {
  RedisStore* a = NewStore();
  RedisStore* b = NewStore();
  ASSERT_TRUE(Connected(a));
  ASSERT_TRUE(Connected(b));
  int applied = 0;
  for (int i = 0; i < 10; ++i) {
    RedisStore* s = i % 2 ? a : b;
    MaintenanceOverride m;
    m.message = "m";
    s->Apply(SetMaintenance{"f" + std::to_string(i), m}, "ops", std::nullopt,
             [&](ApplyResult r) { applied += r.status == ApplyStatus::kApplied; });
  }
  ASSERT_TRUE(RunUntil([&] { return applied == 10; }, 5s)) << applied;
  ASSERT_TRUE(RunUntil([&] { return a->Current()->version == 10 && b->Current()->version == 10; }));
  EXPECT_EQ(a->Current()->maintenance.size(), 10u);
  EXPECT_EQ(redis_.Run("XLEN %s", "tidegate:{admin}:audit"), "10");
}

TEST_F(RedisStoreTest, StartReadsTheSharedStateSynchronously) {
  RedisStore* a = NewStore();
  ASSERT_TRUE(Connected(a));
  ASSERT_EQ(ApplyAndWait(a, Banner("kept")).status, ApplyStatus::kApplied);
  RedisStore* late = NewStore();  // no loop turn yet
  ASSERT_TRUE(late->Current()->banner.has_value());
  EXPECT_EQ(late->Current()->banner->message, "kept");
}

TEST_F(RedisStoreTest, RedisDownMeansUnavailableAndTheLastStateHolds) {
  RedisStore* a = NewStore();
  ASSERT_TRUE(Connected(a));
  ASSERT_EQ(ApplyAndWait(a, Banner("before the outage")).status, ApplyStatus::kApplied);
  redis_.Kill();
  ASSERT_TRUE(RunUntil([&] { return !a->Health().healthy; }));
  ApplyResult r = ApplyAndWait(a, Banner("during"));
  EXPECT_EQ(r.status, ApplyStatus::kUnavailable);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(a->Current()->banner->message, "before the outage");
  StoreHealth h = a->Health();
  EXPECT_EQ(h.backend, "redis");
  EXPECT_FALSE(h.healthy);
  EXPECT_FALSE(h.last_error.empty());
  EXPECT_GT(h.errors_total, 0u);
  EXPECT_FALSE(warnings_.empty());

  // Back, empty (no persistence): the store reconnects and writes back what it knew.
  ASSERT_TRUE(redis_.Start());
  ASSERT_TRUE(RunUntil([&] { return a->Health().healthy; }, 5s)) << a->Health().last_error;
  ASSERT_TRUE(
      RunUntil([&] { return redis_.Run("GET %s", "tidegate:{admin}:version") == "1"; }, 3s));
  ApplyResult after = ApplyAndWait(a, Banner("after"));
  EXPECT_EQ(after.status, ApplyStatus::kApplied) << after.error;
  EXPECT_EQ(after.after->version, 2u);
}

TEST_F(RedisStoreTest, DownAtStartStartsEmptyThenConnects) {
  redis_.Kill();
  RedisStore* a = NewStore();
  EXPECT_FALSE(a->Health().healthy);
  EXPECT_EQ(a->Current()->version, 0u);
  ASSERT_TRUE(redis_.Start());
  EXPECT_TRUE(RunUntil([&] { return a->Health().healthy; }, 5s)) << a->Health().last_error;
}

TEST_F(RedisStoreTest, FrozenRedisTimesOutThenRecovers) {
  RedisStore* a = NewStore(100ms);
  ASSERT_TRUE(Connected(a));
  redis_.Pause();
  auto start = std::chrono::steady_clock::now();
  ApplyResult r = ApplyAndWait(a, Banner("frozen"));
  auto took = std::chrono::steady_clock::now() - start;
  redis_.Resume();
  EXPECT_EQ(r.status, ApplyStatus::kUnavailable);
  EXPECT_NE(r.error.find("timed out"), std::string::npos) << r.error;
  EXPECT_LT(took, 2s);
  EXPECT_TRUE(RunUntil([&] { return a->Health().healthy; }, 5s)) << a->Health().last_error;
  EXPECT_EQ(ApplyAndWait(a, Banner("thawed")).status, ApplyStatus::kApplied);
}

TEST_F(RedisStoreTest, ErrorRepliesAndInvalidStateAreFailuresNotData) {
  RedisStore* a = NewStore(1000ms, 50ms);
  ASSERT_TRUE(Connected(a));
  ASSERT_EQ(ApplyAndWait(a, Banner("good")).status, ApplyStatus::kApplied);
  // Garbage where the state should be: kept out, store unhealthy, old state holds.
  redis_.Run("SET %s %s", "tidegate:{admin}:state", "{not json");
  ASSERT_TRUE(RunUntil([&] { return !a->Health().healthy; }));
  EXPECT_NE(a->Health().last_error.find("invalid"), std::string::npos) << a->Health().last_error;
  EXPECT_EQ(a->Current()->banner->message, "good");
  // A wrong type makes every command an error reply (WRONGTYPE).
  redis_.Run("DEL %s", "tidegate:{admin}:state");
  redis_.Run("LPUSH %s x", "tidegate:{admin}:state");
  ApplyResult r = ApplyAndWait(a, Banner("bad"));
  EXPECT_EQ(r.status, ApplyStatus::kUnavailable);
  EXPECT_NE(r.error.find("WRONGTYPE"), std::string::npos) << r.error;
  EXPECT_EQ(a->Current()->banner->message, "good");
}

TEST_F(RedisStoreTest, SomethingThatIsNotRedisIsAFailureWithoutACrash) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  listen(listener, 16);
  std::atomic<bool> stop{false};
  std::thread http([&] {
    while (!stop) {
      int c = accept(listener, nullptr, nullptr);
      if (c < 0) return;
      char buf[512];
      if (read(c, buf, sizeof(buf)) > 0) {
        const char kReply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        (void)!write(c, kReply, sizeof(kReply) - 1);
      }
      close(c);
    }
  });
  config::Address not_redis;
  not_redis.host = "127.0.0.1";
  not_redis.port = ntohs(addr.sin_port);
  not_redis.text = "127.0.0.1:" + std::to_string(not_redis.port);
  RedisStore* a = NewStore(1000ms, 100ms, not_redis);
  ApplyResult r = ApplyAndWait(a, Banner("x"));
  EXPECT_EQ(r.status, ApplyStatus::kUnavailable);
  RunUntil([] { return false; }, 300ms);
  EXPECT_FALSE(a->Health().healthy);
  EXPECT_FALSE(a->Health().last_error.empty());
  stores_.clear();
  stop = true;
  shutdown(listener, SHUT_RDWR);
  close(listener);
  http.join();
}

TEST_F(RedisStoreTest, ResyncHealsAMissedAnnouncement) {
  RedisStore* a = NewStore(1000ms, 100ms);
  ASSERT_TRUE(Connected(a));
  // Another writer that does not announce (as if the message were lost).
  RuntimeState s;
  s.version = 7;
  s.banner = BannerOverride();
  s.banner->message = "silent";
  s.banner->set_by = "x";
  s.banner->set_at = Clock::now();
  redis_.Run("SET %s %s", "tidegate:{admin}:state", ToJson(s).dump().c_str());
  redis_.Run("SET %s 7", "tidegate:{admin}:version");
  ASSERT_TRUE(RunUntil([&] { return a->Current()->version == 7; }, 2s));
  EXPECT_EQ(a->Current()->banner->message, "silent");
}

}  // namespace
}  // namespace tidegate::admin
