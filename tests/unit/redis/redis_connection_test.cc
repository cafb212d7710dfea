// RedisConnection on its own against a real redis-server
// (tests/unit/redis/redis_server.h): replies copied out, error replies and
// a server that goes away are failures, reconnection after a restart. The
// timeouts (a frozen server) and protocol errors are covered through the
// admin state store (tests/unit/admin/redis_store_test.cc).
#include "redis/redis_connection.h"

#include <event2/event.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/unit/redis/redis_server.h"

namespace tidegate::redis {
namespace {

using namespace std::chrono_literals;

class RedisConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.available()) GTEST_SKIP() << "redis-server is not installed";
    signal(SIGPIPE, SIG_IGN);  // as tidegate does: hiredis writes with write(2)
    ASSERT_TRUE(server_.Start()) << "redis-server did not start";
    base_ = event_base_new();
  }
  void TearDown() override {
    connection_.reset();
    if (base_ != nullptr) event_base_free(base_);
  }

  RedisConnection* Connect() {
    RedisConnection::Options o;
    o.address = server_.address();
    o.timeout = 2000ms;
    o.name = "redis test";
    connection_ = std::make_unique<RedisConnection>(
        base_, o, [this](bool up, const std::string& error) { statuses_.push_back(up); });
    connection_->Start();
    EXPECT_TRUE(RunUntil([&] { return connection_->connected(); }));
    return connection_.get();
  }
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    }
    return done();
  }
  RedisResult Command(const std::vector<std::string>& args) {
    std::optional<RedisResult> out;
    connection_->Command(args, [&](RedisResult r) { out = std::move(r); });
    EXPECT_TRUE(RunUntil([&] { return out.has_value(); })) << "no reply";
    return out ? std::move(*out) : RedisResult{};
  }

  test_support::RedisServer server_;
  event_base* base_ = nullptr;
  std::unique_ptr<RedisConnection> connection_;
  std::vector<bool> statuses_;
};

TEST_F(RedisConnectionTest, RepliesAreCopiedOut) {
  Connect();
  EXPECT_EQ(statuses_, std::vector<bool>{true});
  EXPECT_EQ(connection_->connects_total(), 1u);
  RedisResult set = Command({"SET", "k", std::string("a\0b", 3)});
  ASSERT_TRUE(set.ok) << set.error;
  EXPECT_EQ(set.reply.type, RedisReply::Type::kStatus);
  EXPECT_EQ(set.reply.str, "OK");
  RedisResult get = Command({"GET", "k"});
  EXPECT_EQ(get.reply.type, RedisReply::Type::kString);
  EXPECT_EQ(get.reply.str, std::string("a\0b", 3));  // binary-safe
  EXPECT_EQ(Command({"GET", "missing"}).reply.type, RedisReply::Type::kNil);
  ASSERT_TRUE(Command({"RPUSH", "l", "x", "y"}).ok);
  RedisResult list = Command({"LRANGE", "l", "0", "-1"});
  ASSERT_EQ(list.reply.type, RedisReply::Type::kArray);
  ASSERT_EQ(list.reply.elements.size(), 2u);
  EXPECT_EQ(list.reply.elements[1].str, "y");
  EXPECT_EQ(Command({"INCR", "n"}).reply.integer, 1);
}

TEST_F(RedisConnectionTest, ErrorRepliesAreFailuresNamingTheConnection) {
  Connect();
  RedisResult r = Command({"NOSUCHCOMMAND"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind("redis test: ERR", 0), 0u) << r.error;
  EXPECT_TRUE(connection_->connected());  // an error reply is not a lost connection
}

TEST_F(RedisConnectionTest, NotStartedFailsAtOnce) {
  RedisConnection::Options o;
  o.address = server_.address();
  o.name = "idle";
  RedisConnection idle(base_, o, nullptr);
  std::optional<RedisResult> out;
  idle.Command({"PING"}, [&](RedisResult r) { out = std::move(r); });
  ASSERT_TRUE(out.has_value());
  EXPECT_FALSE(out->ok);
  EXPECT_EQ(out->error, "idle: not connected");
}

// WAIT blocks the connection on the server: a command queued behind it must
// not time out for waiting in line (its clock starts when WAIT's ends), and
// the connection must survive.
TEST_F(RedisConnectionTest, ACommandQueuedBehindWaitIsNotTimedOut) {
  RedisConnection::Options o;
  o.address = server_.address();
  o.timeout = 100ms;
  connection_ = std::make_unique<RedisConnection>(base_, o, [](bool, const std::string&) {});
  connection_->Start();
  ASSERT_TRUE(RunUntil([&] { return connection_->connected(); }));
  ASSERT_TRUE(Command({"SET", "k", "v"}).ok);
  std::optional<RedisResult> wait, ping;
  connection_->Command(
      {"WAIT", "1", "400"}, [&](RedisResult r) { wait = std::move(r); }, 600ms);
  connection_->Command({"PING"}, [&](RedisResult r) { ping = std::move(r); });
  ASSERT_TRUE(RunUntil([&] { return wait.has_value() && ping.has_value(); }));
  ASSERT_TRUE(wait->ok) << wait->error;
  EXPECT_EQ(wait->reply.integer, 0) << "no replica";
  ASSERT_TRUE(ping->ok) << ping->error;
  EXPECT_EQ(ping->reply.str, "PONG");
  EXPECT_EQ(connection_->connects_total(), 1u);
  // A frozen server is still caught by the first pending command's timer.
  server_.Pause();
  std::optional<RedisResult> frozen;
  connection_->Command({"PING"}, [&](RedisResult r) { frozen = std::move(r); });
  ASSERT_TRUE(RunUntil([&] { return frozen.has_value(); }, 2s));
  EXPECT_NE(frozen->error.find("timed out after 100ms"), std::string::npos) << frozen->error;
  server_.Resume();
}

}  // namespace
}  // namespace tidegate::redis
