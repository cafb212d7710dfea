// RedisStore never forgets the state in force (docs/state.md, "The local
// copy" and "Higher version wins"), against a real redis-server: a store
// started while Redis is down begins from its local copy, writes it back
// when Redis returns empty or older, adopts Redis's when Redis's is newer,
// ignores a copy of another store; two stores with different copies agree
// on the higher version; a Redis that refuses writes (OOM) makes the store
// unhealthy until a write succeeds. Skipped only when redis-server is absent.
#include <event2/event.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>

#include "admin/redis_store.h"
#include "admin/state_copy.h"
#include "tests/unit/redis/redis_server.h"

namespace tidegate::admin {
namespace {

using namespace std::chrono_literals;

class RedisStoreCarryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis_.available()) GTEST_SKIP() << redis_.binary() << " is not installed";
    signal(SIGPIPE, SIG_IGN);
    ASSERT_TRUE(redis_.Start()) << "redis-server did not start";
    char tmpl[] = "/tmp/redis_store_carry_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
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
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  RedisStore* NewStore(const std::string& copy_name = "copy.json",
                       std::chrono::milliseconds resync = 100ms) {
    RedisStoreOptions o;
    o.address = redis_.address();
    o.timeout = 500ms;
    o.resync_interval = resync;
    o.copy_path = copy_name.empty() ? "" : dir_ + "/" + copy_name;
    o.warn = [this](std::string_view, std::string_view m) { warnings_.emplace_back(m); };
    stores_.push_back(RedisStore::Start(base_, o));
    return stores_.back().get();
  }

  std::string Identity() const { return "redis " + redis_.address().text + " tidegate:{admin}"; }

  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 3s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      event_base_loop(base_, EVLOOP_ONCE);
    }
    return done();
  }

  ApplyResult ApplyAndWait(RedisStore* store, const state::StateChange& change) {
    std::optional<ApplyResult> out;
    store->Apply(change, "ops", std::nullopt, [&](ApplyResult r) { out = std::move(r); });
    EXPECT_TRUE(RunUntil([&] { return out.has_value(); }, 5s)) << "Apply never completed";
    if (out) return std::move(*out);
    ApplyResult never;
    never.status = ApplyStatus::kUnavailable;
    return never;
  }

  static state::SetBanner Banner(const std::string& message) {
    state::BannerOverride b;
    b.message = message;
    b.severity = "warning";
    return state::SetBanner{b};
  }
  static state::SetMaintenance Maintenance(const std::string& feature) {
    state::SetMaintenance m;
    m.feature = feature;
    m.value.message = "resting";
    return m;
  }

  std::string RedisVersion() { return redis_.Run("GET %s", "tidegate:{admin}:version"); }
  std::string RedisState() { return redis_.Run("GET %s", "tidegate:{admin}:state"); }

  bool Warned(const std::string& text) const {
    for (const std::string& w : warnings_) {
      if (w.find(text) != std::string::npos) return true;
    }
    return false;
  }

  redis::test_support::RedisServer redis_;
  std::string dir_;
  event_base* base_ = nullptr;
  event* tick_ = nullptr;
  std::vector<std::unique_ptr<RedisStore>> stores_;
  std::vector<std::string> warnings_;
};

TEST_F(RedisStoreCarryTest, AStartWhileRedisIsDownBeginsFromTheCopyAndWritesItBack) {
  RedisStore* first = NewStore();
  ASSERT_TRUE(RunUntil([&] { return first->Health().healthy; }));
  ASSERT_EQ(ApplyAndWait(first, Maintenance("search")).status, ApplyStatus::kApplied);
  ASSERT_EQ(ApplyAndWait(first, Banner("kept")).status, ApplyStatus::kApplied);
  stores_.clear();  // the process ends (restart, upgrade)…
  redis_.Kill();    // …while Redis is down

  RedisStore* next = NewStore();
  EXPECT_FALSE(next->Health().healthy);
  EXPECT_EQ(next->Current()->version, 2u) << "the copy's version, not 0";
  ASSERT_TRUE(next->Current()->banner);
  EXPECT_EQ(next->Current()->banner->message, "kept");
  EXPECT_EQ(next->Current()->maintenance.count("search"), 1u);
  EXPECT_TRUE(Warned("local copy " + dir_ + "/copy.json: version 2, saved at")) << warnings_[0];
  EXPECT_TRUE(Warned("(version 2) stays in force"));

  // Redis back empty (no persistence): the copy's state is written back,
  // versions continue from it.
  ASSERT_TRUE(redis_.Start());
  ASSERT_TRUE(RunUntil([&] { return RedisVersion() == "2"; }, 5s)) << RedisVersion();
  EXPECT_NE(RedisState().find("kept"), std::string::npos);
  ASSERT_TRUE(RunUntil([&] { return next->Health().healthy; }));
  ApplyResult after = ApplyAndWait(next, Banner("after"));
  EXPECT_EQ(after.status, ApplyStatus::kApplied) << after.error;
  EXPECT_EQ(after.after->version, 3u);
  EXPECT_EQ(next->Current()->maintenance.count("search"), 1u);
}

TEST_F(RedisStoreCarryTest, RedisOlderThanTheInstanceGetsTheNewerStateBack) {
  RedisStore* a = NewStore();
  ASSERT_TRUE(RunUntil([&] { return a->Health().healthy; }));
  ASSERT_EQ(ApplyAndWait(a, Banner("one")).status, ApplyStatus::kApplied);
  std::string v1 = RedisState();
  ASSERT_EQ(ApplyAndWait(a, Banner("two")).status, ApplyStatus::kApplied);
  ASSERT_EQ(ApplyAndWait(a, Banner("three")).status, ApplyStatus::kApplied);
  // A failover to a replica that missed the last two writes: Redis is back
  // at version 1.
  ASSERT_EQ(redis_.Run("SET %s %b", "tidegate:{admin}:state", v1.data(), v1.size()), "OK");
  ASSERT_EQ(redis_.Run("SET %s %s", "tidegate:{admin}:version", "1"), "OK");
  ASSERT_TRUE(RunUntil([&] { return RedisVersion() == "3"; }, 3s)) << RedisVersion();
  EXPECT_NE(RedisState().find("three"), std::string::npos);
  EXPECT_EQ(a->Current()->version, 3u);
  EXPECT_EQ(a->Current()->banner->message, "three");
  EXPECT_TRUE(Warned("Redis holds version 1, older"));

  // A change computed while Redis is still older replaces the older state
  // (compare-and-set: Redis's version is not newer than the base).
  ASSERT_EQ(redis_.Run("SET %s %b", "tidegate:{admin}:state", v1.data(), v1.size()), "OK");
  ASSERT_EQ(redis_.Run("SET %s %s", "tidegate:{admin}:version", "1"), "OK");
  ApplyResult four = ApplyAndWait(a, Banner("four"));
  ASSERT_EQ(four.status, ApplyStatus::kApplied) << four.error;
  EXPECT_EQ(four.after->version, 4u);
  EXPECT_EQ(four.before->banner->message, "three");
  EXPECT_EQ(RedisVersion(), "4");
}

TEST_F(RedisStoreCarryTest, ANewerStateInRedisWinsOverTheCopy) {
  RedisStore* a = NewStore();
  ASSERT_TRUE(RunUntil([&] { return a->Health().healthy; }));
  ASSERT_EQ(ApplyAndWait(a, Banner("old")).status, ApplyStatus::kApplied);
  stores_.clear();
  // Changes made on another instance while this one was down.
  RedisStore* other = NewStore("other.json");
  ASSERT_TRUE(RunUntil([&] { return other->Health().healthy; }));
  ASSERT_EQ(ApplyAndWait(other, Banner("newer")).status, ApplyStatus::kApplied);
  ASSERT_EQ(ApplyAndWait(other, Maintenance("search")).status, ApplyStatus::kApplied);

  RedisStore* back = NewStore();
  EXPECT_EQ(back->Current()->version, 3u);
  EXPECT_EQ(back->Current()->banner->message, "newer");
  RunUntil([] { return false; }, 300ms);
  EXPECT_EQ(RedisVersion(), "3");
  // And the copy follows what it learned.
  std::string warning;
  std::optional<StateCopy> copy = StateCopyFile(dir_ + "/copy.json", Identity()).Load(&warning);
  ASSERT_TRUE(copy) << warning;
  EXPECT_EQ(copy->state->version, 3u);
}

TEST_F(RedisStoreCarryTest, ACopyOfAnotherStoreIsNotUsed) {
  state::RuntimeState s;
  s.version = 9;
  s.banner = Banner("from another Redis").value;
  std::ofstream(dir_ + "/copy.json")
      << StateCopyText(s, "redis 10.9.9.9:6379 tidegate:{admin}", common::SystemTime().WallNow());
  redis_.Kill();
  RedisStore* a = NewStore();
  EXPECT_EQ(a->Current()->version, 0u);
  EXPECT_FALSE(a->Current()->banner);
  EXPECT_TRUE(Warned("is of another store")) << (warnings_.empty() ? "" : warnings_[0]);
}

TEST_F(RedisStoreCarryTest, TwoInstancesWithDifferentCopiesAgreeOnTheHigherVersion) {
  common::TimePoint now = common::SystemTime().WallNow();
  state::RuntimeState five, seven;
  five.version = 5;
  five.banner = Banner("five").value;
  seven.version = 7;
  seven.banner = Banner("seven").value;
  std::ofstream(dir_ + "/five.json") << StateCopyText(five, Identity(), now);
  std::ofstream(dir_ + "/seven.json") << StateCopyText(seven, Identity(), now);
  // Redis restarted empty; both instances start and write back.
  RedisStore* a = NewStore("five.json");
  RedisStore* b = NewStore("seven.json");
  ASSERT_TRUE(
      RunUntil([&] { return a->Current()->version == 7 && b->Current()->version == 7; }, 5s))
      << a->Current()->version << " " << b->Current()->version;
  EXPECT_EQ(a->Current()->banner->message, "seven");
  EXPECT_EQ(RedisVersion(), "7");
  RunUntil([] { return false; }, 300ms);  // and it stays so
  EXPECT_EQ(RedisVersion(), "7");
  EXPECT_NE(RedisState().find("seven"), std::string::npos);
}

TEST_F(RedisStoreCarryTest, ARedisRefusingWritesIsUnhealthyUntilAWriteSucceeds) {
  RedisStore* a = NewStore();
  ASSERT_TRUE(RunUntil([&] { return a->Health().healthy; }));
  ASSERT_EQ(redis_.Run("CONFIG SET maxmemory-policy noeviction"), "OK");
  ASSERT_EQ(redis_.Run("CONFIG SET maxmemory 1"), "OK");
  ApplyResult refused = ApplyAndWait(a, Banner("refused"));
  EXPECT_EQ(refused.status, ApplyStatus::kUnavailable);
  EXPECT_NE(refused.error.find("OOM"), std::string::npos) << refused.error;
  // Reads keep succeeding: still unhealthy, several resyncs later.
  RunUntil([] { return false; }, 500ms);
  StoreHealth h = a->Health();
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.last_error.rfind("writes refused: ", 0), 0u) << h.last_error;
  EXPECT_NE(h.last_error.find("OOM"), std::string::npos) << h.last_error;

  ASSERT_EQ(redis_.Run("CONFIG SET maxmemory 0"), "OK");
  EXPECT_TRUE(RunUntil([&] { return a->Health().healthy; }, 2s)) << a->Health().last_error;
  EXPECT_EQ(ApplyAndWait(a, Banner("accepted")).status, ApplyStatus::kApplied);
}

}  // namespace
}  // namespace tidegate::admin
