// ScriptRunner against a real redis-server (tests/unit/redis/redis_server.h):
// EVALSHA when Redis knows the script, one EVAL when it answers NOSCRIPT (a
// fresh server, SCRIPT FLUSH, a restart), script errors passed through
// without a retry, and a clear failure when not connected.
#include "redis/script_runner.h"

#include <event2/event.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tests/unit/redis/redis_server.h"

namespace tidegate::redis {
namespace {

using namespace std::chrono_literals;

// Returns KEYS[1] incremented by ARGV[1] (an INCRBY in a script).
constexpr char kIncrBy[] = "return redis.call('INCRBY', KEYS[1], ARGV[1])";

class ScriptRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.available()) GTEST_SKIP() << "redis-server is not installed";
    signal(SIGPIPE, SIG_IGN);  // as tidegate does: hiredis writes with write(2)
    ASSERT_TRUE(server_.Start()) << "redis-server did not start";
    base_ = event_base_new();
    RedisConnection::Options o;
    o.address = server_.address();
    o.timeout = 2000ms;
    connection_ = std::make_unique<RedisConnection>(base_, o, nullptr);
    connection_->Start();
    ASSERT_TRUE(RunUntil([&] { return connection_->connected(); })) << "not connected";
  }
  void TearDown() override {
    connection_.reset();
    if (base_ != nullptr) event_base_free(base_);
  }

  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    }
    return done();
  }

  RedisResult Wait(const std::function<void(RedisConnection::ReplyCallback)>& send) {
    std::optional<RedisResult> out;
    send([&](RedisResult r) { out = std::move(r); });
    EXPECT_TRUE(RunUntil([&] { return out.has_value(); })) << "no reply";
    return out ? std::move(*out) : RedisResult{};
  }
  RedisResult Command(const std::vector<std::string>& args) {
    return Wait([&](auto done) { connection_->Command(args, std::move(done)); });
  }
  RedisResult Run(const ScriptRunner& script, const std::string& key, const std::string& arg) {
    return Wait([&](auto done) { script.Run(*connection_, {key}, {arg}, std::move(done)); });
  }
  // Calls of `command` since the last CONFIG RESETSTAT (INFO commandstats).
  int Calls(const std::string& command) {
    RedisResult r = Command({"INFO", "commandstats"});
    std::string marker = "cmdstat_" + command + ":calls=";
    size_t at = r.reply.str.find(marker);
    return at == std::string::npos ? 0 : std::stoi(r.reply.str.substr(at + marker.size()));
  }

  test_support::RedisServer server_;
  event_base* base_ = nullptr;
  std::unique_ptr<RedisConnection> connection_;
};

TEST(ScriptRunnerSha1, IsTheDigestRedisComputes) {
  // SHA-1 of "return 1" (as SCRIPT LOAD "return 1" answers).
  EXPECT_EQ(ScriptRunner("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  EXPECT_EQ(ScriptRunner("return 1").source(), "return 1");
}

TEST(ScriptRunnerNoScript, RecognisesOnlyTheNoScriptReply) {
  EXPECT_TRUE(IsNoScriptError("redis: NOSCRIPT No matching script. Please use EVAL."));
  EXPECT_TRUE(IsNoScriptError("NOSCRIPT No matching script"));
  EXPECT_FALSE(IsNoScriptError("redis: ERR Error running script (NOSCRIPT in a message)"));
  EXPECT_FALSE(IsNoScriptError("redis: timed out after 250ms"));
  EXPECT_FALSE(IsNoScriptError(""));
}

TEST_F(ScriptRunnerTest, Sha1MatchesScriptLoad) {
  ScriptRunner script(kIncrBy);
  RedisResult loaded = Command({"SCRIPT", "LOAD", kIncrBy});
  ASSERT_TRUE(loaded.ok) << loaded.error;
  EXPECT_EQ(loaded.reply.str, script.sha1());
}

TEST_F(ScriptRunnerTest, UnknownScriptIsSentOnceThenRunByDigest) {
  ScriptRunner script(kIncrBy);
  ASSERT_TRUE(Command({"CONFIG", "RESETSTAT"}).ok);
  RedisResult first = Run(script, "counter", "5");
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.reply.integer, 5);
  RedisResult second = Run(script, "counter", "2");
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(second.reply.integer, 7);
  EXPECT_EQ(Calls("evalsha"), 2);
  EXPECT_EQ(Calls("eval"), 1);  // the NOSCRIPT of the first call only
}

TEST_F(ScriptRunnerTest, ScriptFlushHealsTransparently) {
  ScriptRunner script(kIncrBy);
  ASSERT_TRUE(Run(script, "counter", "1").ok);
  ASSERT_TRUE(Command({"SCRIPT", "FLUSH"}).ok);
  ASSERT_TRUE(Command({"CONFIG", "RESETSTAT"}).ok);
  RedisResult after = Run(script, "counter", "1");
  ASSERT_TRUE(after.ok) << after.error;
  EXPECT_EQ(after.reply.integer, 2);
  EXPECT_EQ(Calls("eval"), 1);
  // Cached again: the next call needs no EVAL.
  ASSERT_TRUE(Run(script, "counter", "1").ok);
  EXPECT_EQ(Calls("eval"), 1);
  EXPECT_EQ(Calls("evalsha"), 2);
}

TEST_F(ScriptRunnerTest, ScriptErrorsAreFailuresWithoutARetry) {
  ScriptRunner script(kIncrBy);
  ASSERT_TRUE(Run(script, "warm", "1").ok);  // cached
  ASSERT_TRUE(Command({"HSET", "a-hash", "f", "v"}).ok);
  ASSERT_TRUE(Command({"CONFIG", "RESETSTAT"}).ok);
  RedisResult r = Run(script, "a-hash", "1");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("WRONGTYPE"), std::string::npos) << r.error;
  EXPECT_EQ(Calls("eval"), 0);
  EXPECT_EQ(Calls("evalsha"), 1);
}

TEST_F(ScriptRunnerTest, NotConnectedFailsAtOnce) {
  RedisConnection::Options o;
  o.address = server_.address();
  o.name = "redis test";
  RedisConnection idle(base_, o, nullptr);  // never started
  ScriptRunner script(kIncrBy);
  std::optional<RedisResult> out;
  script.Run(idle, {"k"}, {"1"}, [&](RedisResult r) { out = std::move(r); });
  ASSERT_TRUE(out.has_value());  // synchronously
  EXPECT_FALSE(out->ok);
  EXPECT_EQ(out->error, "redis test: not connected");
}

}  // namespace
}  // namespace tidegate::redis
