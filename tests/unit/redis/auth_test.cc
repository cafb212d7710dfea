// Redis servers protected by a password (redis/auth.h, and RedisConnection
// with Options::credentials) against a real redis-server started with
// --requirepass or an ACL user: AUTH first on every connection, a refused
// AUTH is a failed connection (down, with the reason, retried), NOAUTH on a
// connection made without a password drops it, the password never appears
// in an error text.
#include "redis/auth.h"

#include <event2/event.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "redis/redis_connection.h"
#include "tests/unit/redis/redis_server.h"

namespace tidegate::redis {
namespace {

using namespace std::chrono_literals;

constexpr char kPassword[] = "s3cret-Pw-7f1c";

TEST(RedisAuthTest, CommandHasTheUserOnlyWhenNamed) {
  EXPECT_EQ(AuthCommand({"", "pw"}), (std::vector<std::string>{"AUTH", "pw"}));
  EXPECT_EQ(AuthCommand({"tidegate", "pw"}), (std::vector<std::string>{"AUTH", "tidegate", "pw"}));
  EXPECT_FALSE(RedisCredentials{}.enabled());
  EXPECT_FALSE((RedisCredentials{"user", ""}.enabled()));
}

TEST(RedisAuthTest, RedactReplacesEveryOccurrenceOfThePassword) {
  RedisCredentials c{"u", "pw"};
  EXPECT_EQ(Redact("ERR unknown command 'AUTH', with args beginning with: 'u' 'pw' pwpw", c),
            "ERR unknown command 'AUTH', with args beginning with: 'u' '[redacted]' "
            "[redacted][redacted]");
  EXPECT_EQ(Redact("WRONGPASS invalid username-password pair", c),
            "WRONGPASS invalid username-password pair");
  EXPECT_EQ(Redact("no password configured", RedisCredentials{}), "no password configured");
}

class RedisConnectionAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.available()) GTEST_SKIP() << "redis-server is not installed";
    signal(SIGPIPE, SIG_IGN);
    base_ = event_base_new();
  }
  void TearDown() override {
    connection_.reset();
    if (base_ != nullptr) event_base_free(base_);
  }

  void StartServer(const std::vector<std::string>& args) {
    ASSERT_TRUE(server_.Start(args)) << "redis-server did not start";
  }

  void Open(RedisCredentials credentials) {
    RedisConnection::Options o;
    o.address = server_.address();
    o.timeout = 2000ms;
    o.backoff_initial = 20ms;
    o.backoff_max = 50ms;
    o.name = "redis test";
    o.credentials = std::move(credentials);
    connection_ =
        std::make_unique<RedisConnection>(base_, o, [this](bool up, const std::string& error) {
          statuses_.push_back(up);
          if (!up) errors_.push_back(error);
        });
    connection_->Start();
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
    return out.value_or(RedisResult{});
  }
  size_t Downs() const { return errors_.size(); }
  std::string AllErrors() const {
    std::string all;
    for (const std::string& e : errors_) all += e + "\n";
    return all;
  }

  test_support::RedisServer server_;
  event_base* base_ = nullptr;
  std::unique_ptr<RedisConnection> connection_;
  std::vector<bool> statuses_;
  std::vector<std::string> errors_;
};

TEST_F(RedisConnectionAuthTest, RequirepassAuthenticatesBeforeUp) {
  StartServer({"--requirepass", kPassword});
  server_.set_auth("", kPassword);
  Open({"", kPassword});
  ASSERT_TRUE(RunUntil([&] { return connection_->connected(); })) << AllErrors();
  RedisResult set = Command({"SET", "k", "v"});
  ASSERT_TRUE(set.ok) << set.error;
  EXPECT_EQ(server_.Run("GET k"), "v");
  EXPECT_EQ(Downs(), 0u) << AllErrors();
  // The server restarts: the next connection authenticates again.
  server_.Kill();
  ASSERT_TRUE(server_.Start({"--requirepass", kPassword}));
  ASSERT_TRUE(RunUntil([&] { return Command({"SET", "k", "w"}).ok; }, 10s)) << AllErrors();
  EXPECT_EQ(server_.Run("GET k"), "w");
}

TEST_F(RedisConnectionAuthTest, AclUserSendsUsernameAndPassword) {
  StartServer({"--user", "tidegate", "on", std::string(">") + kPassword, "~*", "&*", "+@all",
               "--user", "default", "off"});
  server_.set_auth("tidegate", kPassword);
  ASSERT_EQ(server_.Run("PING"), "PONG");
  Open({"tidegate", kPassword});
  ASSERT_TRUE(RunUntil([&] { return connection_->connected(); })) << AllErrors();
  RedisResult who = Command({"ACL", "WHOAMI"});
  ASSERT_TRUE(who.ok) << who.error;
  EXPECT_EQ(who.reply.str, "tidegate");
}

TEST_F(RedisConnectionAuthTest, WrongPasswordIsAFailedConnectionRetriedWithoutThePassword) {
  StartServer({"--requirepass", kPassword});
  const std::string wrong = "wrong-Pw-93a2";
  Open({"", wrong});
  ASSERT_TRUE(RunUntil([&] { return Downs() >= 3; })) << "no retries";
  EXPECT_FALSE(connection_->connected());
  for (bool up : statuses_) EXPECT_FALSE(up) << "reported up with a refused AUTH";
  EXPECT_EQ(connection_->connects_total(), 0u);
  EXPECT_NE(errors_[0].find("redis test: AUTH refused: WRONGPASS"), std::string::npos)
      << AllErrors();
  EXPECT_EQ(AllErrors().find(wrong), std::string::npos) << AllErrors();
  RedisResult refused = Command({"GET", "k"});
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.error.find(wrong), std::string::npos) << refused.error;
  // The server's password is put back to ours: the next attempt gets in.
  server_.set_auth("", kPassword);
  ASSERT_EQ(server_.Run("CONFIG SET requirepass %s", wrong.c_str()), "OK");
  ASSERT_TRUE(RunUntil([&] { return connection_->connected(); })) << AllErrors();
  EXPECT_TRUE(Command({"PING"}).ok);
}

TEST_F(RedisConnectionAuthTest, PasswordForAServerWithoutOneIsRefused) {
  StartServer({});
  Open({"", kPassword});
  ASSERT_TRUE(RunUntil([&] { return Downs() >= 1; }));
  EXPECT_FALSE(connection_->connected());
  EXPECT_NE(errors_[0].find("AUTH refused: ERR"), std::string::npos) << AllErrors();
  EXPECT_EQ(AllErrors().find(kPassword), std::string::npos) << AllErrors();
}

// No password configured, the server wants one: the connection is made, the
// first command answers NOAUTH and the connection is dropped (reported down
// with a hint, retried), not kept up answering NOAUTH forever.
TEST_F(RedisConnectionAuthTest, NoauthWithoutPasswordDropsTheConnectionWithAHint) {
  StartServer({"--requirepass", kPassword});
  Open({});
  ASSERT_TRUE(RunUntil([&] { return connection_->connected(); }));
  RedisResult r = Command({"GET", "k"});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("NOAUTH"), std::string::npos) << r.error;
  ASSERT_TRUE(RunUntil([&] { return Downs() >= 1; }));
  EXPECT_NE(errors_[0].find("NOAUTH"), std::string::npos) << AllErrors();
  EXPECT_NE(errors_[0].find("redis_password_file"), std::string::npos) << AllErrors();
}

// A blocking context (the admin store's start-up read) authenticates the
// same way.
TEST_F(RedisConnectionAuthTest, BlockingAuthentication) {
  StartServer({"--requirepass", kPassword});
  config::Address a = server_.address();
  timeval tv{1, 0};
  redisContext* c = redisConnectUnixWithTimeout(a.unix_path.c_str(), tv);
  ASSERT_TRUE(c != nullptr && c->err == 0);
  std::string error;
  EXPECT_FALSE(AuthenticateBlocking(c, {"", "nope-nope"}, &error));
  EXPECT_NE(error.find("AUTH refused: WRONGPASS"), std::string::npos) << error;
  EXPECT_EQ(error.find("nope-nope"), std::string::npos) << error;
  EXPECT_TRUE(AuthenticateBlocking(c, {"", kPassword}, &error)) << error;
  EXPECT_TRUE(AuthenticateBlocking(c, {}, &error)) << "no credentials: nothing sent";
  redisFree(c);
}

}  // namespace
}  // namespace tidegate::redis
