// Redis servers protected by a password ([state] redis_password_file,
// redis_username; docs/state.md "Redis servers with a password"), with the
// real binary and a real redis-server started by the test:
// * `--requirepass`, and an ACL user with the default user off: two
//   instances share a maintenance switch and a waiting room through it;
// * a wrong password: /.tidegate/health degraded with the reason, /v1/state
//   unhealthy, admin changes 503, the room's [state].on_failure ("closed")
//   applies, no crash, the password in no log line; a restart with the right
//   file recovers;
// * the server's password changed while tidegate runs: degraded on
//   reconnect, healthy again once the server's password is put back;
// * a SIGHUP that changes the password says a restart is needed;
// * Sentinel: a primary with requirepass behind a sentinel (`sentinel
//   auth-pass`), tidegate authenticates on the primary the sentinel names.
// Skipped (GTEST_SKIP, with the reason) only when redis-server (or, for the
// Sentinel case, redis-sentinel) is missing.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
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

constexpr char kOperator[] = "redis-auth-operator-token-0123456789abcdef";
constexpr char kPassword[] = "Tg-requirepass-5e1f0c7a";
constexpr char kWrong[] = "Tg-wrong-password-91d2b4";

bool WaitFor(const std::function<bool()>& check, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  do {
    if (check()) return true;
    std::this_thread::sleep_for(50ms);
  } while (Clock::now() < deadline);
  return false;
}

struct InstanceOptions {
  std::string redis;  // "IP:port"; empty with sentinels
  std::string sentinels;
  std::string password_file;           // "" = no redis_password_file
  std::string sentinel_password_file;  // "" = no sentinel_password_file
  std::string username;
  std::string on_failure = "closed";
};

class RedisAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::Available()) {
      GTEST_SKIP() << RedisServer::Binary() << " is not installed: Redis AUTH tests skipped";
    }
    std::ofstream(dir_.File("k1")) << "redis-auth-test-signing-key-0123456789ab\n";
    right_file_ = dir_.Write("redis.pass", std::string(kPassword) + "\n");
    wrong_file_ = dir_.Write("wrong.pass", std::string(kWrong) + "\n");
    origin_ = std::make_unique<ScriptedOrigin>(ServeOkForever());
  }

  void TearDown() override {
    for (auto* t : {&a_, &b_}) {
      if (!*t) continue;
      EXPECT_TRUE((*t)->process().Running()) << "tidegate died:\n" << (*t)->Stderr();
      EXPECT_EQ((*t)->Stop(10s), 0) << (*t)->Stderr();
      ExpectNoPasswordIn((*t)->Stderr() + (*t)->Stdout());
    }
  }

  static void ExpectNoPasswordIn(const std::string& text) {
    EXPECT_EQ(text.find(kPassword), std::string::npos) << "the password was logged:\n" << text;
    EXPECT_EQ(text.find(kWrong), std::string::npos) << "the password was logged:\n" << text;
  }

  std::string Config(const InstanceOptions& o, const std::string& name) const {
    std::string state = "\n[state]\nbackend = \"redis\"\n";
    state += o.sentinels.empty()
                 ? "redis = \"" + o.redis + "\"\n"
                 : "sentinels = [" + o.sentinels + "]\nmaster_name = \"tg\"\nwait_replicas = 0\n";
    if (!o.password_file.empty()) state += "redis_password_file = \"" + o.password_file + "\"\n";
    if (!o.username.empty()) state += "redis_username = \"" + o.username + "\"\n";
    if (!o.sentinel_password_file.empty()) {
      state += "sentinel_password_file = \"" + o.sentinel_password_file + "\"\n";
    }
    state += "on_failure = \"" + o.on_failure +
             "\"\nredis_timeout = \"500ms\"\nresync_interval = \"500ms\"\n";
    return "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 2\ndrain_timeout = \"5s\"\n"
           "\n[upstream]\nservers = [\"127.0.0.1:" +
           std::to_string(origin_->port()) +
           "\"]\nconnect_timeout = \"1s\"\nresponse_timeout = \"5s\"\n"
           "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
           "audit_log = \"${DIR}/audit-" +
           name +
           ".jsonl\"\n"
           "tokens = [{ name = \"ops\", token_sha256 = \"" +
           Sha256Hex(kOperator) + "\", role = \"operator\" }]\n" + state +
           "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
           "\n[features.checkout]\nmatch = [{ path = \"^/checkout\" }]\n"
           "\n[rooms.shop]\nmatch = [\"^/shop\"]\nrefresh_interval = \"1s\"\n"
           "total_active_users = 1\nnew_users_per_minute = 6000\n";
  }

  std::unique_ptr<TidegateProcess> StartInstance(const InstanceOptions& o,
                                                 const std::string& name) {
    TidegateOptions options;
    options.name = name;
    options.config = Config(o, name);
    return StartTidegateOrFail(dir_, options);
  }

  HttpMessage Call(uint16_t port, const std::string& method, const std::string& target,
                   const std::string& cookie = "") {
    std::string error;
    auto conn = RawConnection::Connect(port, &error);
    if (!conn) return FailedMessage("connect: " + error);
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    request += "Authorization: Bearer " + std::string(kOperator) + "\r\n";
    if (!cookie.empty()) request += "Cookie: " + cookie + "\r\n";
    if (method == "PUT") {
      std::string body = R"({"message": "redis auth test"})";
      request +=
          "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\n\r\n" + body;
    } else {
      request += "Connection: close\r\n\r\n";
    }
    if (!conn->Send(request)) return FailedMessage("send failed");
    return ReadResponse(*conn, Within(5s));
  }

  Json JsonOf(const HttpMessage& m) { return m.ok ? Json::parse(m.body, nullptr, false) : Json(); }
  Json State(TidegateProcess& t) { return JsonOf(Call(t.admin_port(), "GET", "/v1/state")); }
  Json Health(TidegateProcess& t) { return JsonOf(Call(t.port(), "GET", "/.tidegate/health")); }
  bool Healthy(TidegateProcess& t) {
    Json s = State(t);
    return s.is_object() && s["store"]["healthy"] == true;
  }
  // The detail of `part` in /.tidegate/health's "degraded" list ("" = absent).
  std::string DegradedDetail(TidegateProcess& t, const std::string& part) {
    Json h = Health(t);
    if (!h.is_object() || !h.contains("degraded") || !h["degraded"].is_array()) return "";
    for (const Json& p : h["degraded"]) {
      if (p.is_object() && p.value("part", "") == part) return p.value("detail", "?");
    }
    return "";
  }

  static std::string PassCookie(const HttpMessage& m) {
    for (const auto& [name, value] : m.headers) {
      if (name != "Set-Cookie" && name != "set-cookie") continue;
      if (value.rfind("tg_pass_shop=", 0) == 0) return value.substr(0, value.find(';'));
    }
    return "";
  }
  static bool IsQueuePage(const HttpMessage& m) {
    return m.body.find("id=\"tg-queue\"") != std::string::npos;
  }

  // A and B share a maintenance switch and a room through `redis_`.
  void ExpectSharedThroughRedis() {
    ASSERT_TRUE(WaitFor([&] { return Healthy(*a_) && Healthy(*b_); }, 10s))
        << State(*a_).dump() << State(*b_).dump();
    HttpMessage put = Call(a_->admin_port(), "PUT", "/v1/features/checkout/maintenance");
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_TRUE(WaitFor(
        [&] { return State(*b_)["features"]["checkout"]["under_maintenance"] == true; }, 2s))
        << State(*b_).dump();
    EXPECT_EQ(Call(b_->port(), "GET", "/checkout").status, 503);
    EXPECT_EQ(Call(b_->port(), "GET", "/products/1").status, 200);
    EXPECT_NE(redis_->Command("GET tidegate:{admin}:state").find("checkout"), std::string::npos)
        << "the switch is not in Redis";
    // The room admits one shopper at a time, across both instances: the
    // first, through A, is in; a newcomer on B waits behind.
    HttpMessage first = Call(a_->port(), "GET", "/shop/1");
    EXPECT_EQ(first.status, 200);
    EXPECT_FALSE(IsQueuePage(first)) << first.body.substr(0, 300);
    EXPECT_FALSE(PassCookie(first).empty()) << first.raw.substr(0, 400);
    HttpMessage newcomer = Call(b_->port(), "GET", "/shop/2");
    EXPECT_EQ(newcomer.status, 200);
    EXPECT_TRUE(IsQueuePage(newcomer)) << "the room is not shared: " << newcomer.raw.substr(0, 400);
    EXPECT_EQ(redis_->Command("EXISTS tidegate:{room:shop}:s"), ":1\r\n");
    // /.tidegate/health is refreshed every second.
    EXPECT_TRUE(WaitFor([&] { return DegradedDetail(*a_, "state_store").empty(); }, 3s))
        << Health(*a_).dump();
    EXPECT_EQ(DegradedDetail(*b_, "room:shop"), "");
  }

  // Closes every connection of redis_ (tidegate's included): they are
  // noticed and replaced — writes need them — and a_ is healthy again.
  void KillConnectionsAndExpectWritesAgain() {
    EXPECT_EQ(redis_->Command("CLIENT KILL TYPE normal").substr(0, 1), ":");
    EXPECT_EQ(redis_->Command("CLIENT KILL TYPE pubsub").substr(0, 1), ":");
    // The closed connections are noticed and replaced: writes need them.
    EXPECT_TRUE(WaitFor(
        [&] {
          return Call(a_->admin_port(), "PUT", "/v1/features/checkout/maintenance").status == 200;
        },
        10s))
        << Health(*a_).dump() << a_->Stderr();
    EXPECT_TRUE(WaitFor([&] { return Healthy(*a_); }, 10s)) << State(*a_).dump();
  }

  // A redis-sentinel on a free port monitoring redis_ as "tg", with
  // `extra` in its configuration; `password` (not "") answers PING after
  // AUTH. nullptr when it never answered.
  std::unique_ptr<Process> StartSentinel(const std::string& extra, const std::string& password,
                                         uint16_t* port) {
    std::string auth = password.empty() ? "" : "AUTH " + password + "\r\n";
    for (int attempt = 0; attempt < 3; ++attempt) {
      *port = FreeLoopbackPort();
      std::string conf = dir_.Write(
          "sentinel.conf", "port " + std::to_string(*port) +
                               "\nbind 127.0.0.1\nprotected-mode no\n" + "dir " + dir_.path() +
                               "\nsentinel monitor tg 127.0.0.1 " + std::to_string(redis_->port()) +
                               " 1\n" + extra + "sentinel down-after-milliseconds tg 5000\n");
      ProcessOptions options;
      options.log_dir = dir_.path();
      options.name = "sentinel" + std::to_string(attempt);
      options.argv = {RedisSentinelBinary(), conf};
      std::string error;
      std::unique_ptr<Process> sentinel = Process::Start(options, &error);
      if (!sentinel) {
        ADD_FAILURE() << error;
        return nullptr;
      }
      if (WaitFor(
              [&] {
                return RespCommand(*port, auth + "PING").find("+PONG\r\n") != std::string::npos;
              },
              10s)) {
        return sentinel;
      }
      // The port was taken meanwhile: another one.
    }
    return nullptr;
  }

  TempDir dir_;
  std::string right_file_, wrong_file_;
  std::unique_ptr<ScriptedOrigin> origin_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<TidegateProcess> a_, b_;
};

TEST_F(RedisAuthTest, RequirepassTwoInstancesShareASwitchAndARoom) {
  redis_ = StartRedisOrFail(dir_, {"--requirepass", kPassword}, std::string("AUTH ") + kPassword);
  ASSERT_TRUE(redis_);
  InstanceOptions o{.redis = redis_->address(), .password_file = right_file_};
  a_ = StartInstance(o, "a");
  b_ = StartInstance(o, "b");
  ASSERT_TRUE(a_ && b_);
  ExpectSharedThroughRedis();
  if (HasFatalFailure()) return;
  // Every connection authenticated: no command was refused for want of it.
  std::string errors = redis_->Command("INFO errorstats");
  EXPECT_EQ(errors.find("errorstat_NOAUTH"), std::string::npos) << errors;
  EXPECT_EQ(errors.find("errorstat_WRONGPASS"), std::string::npos) << errors;

  // A SIGHUP changing the password keeps the store in use and says that a
  // restart is needed (as for any [state] key).
  ASSERT_TRUE(
      a_->RewriteConfig(Config({.redis = redis_->address(), .password_file = wrong_file_}, "a")));
  ASSERT_TRUE(a_->Reload());
  EXPECT_TRUE(WaitFor(
      [&] { return a_->Stderr().find("restart tidegate to apply it") != std::string::npos; }, 5s))
      << a_->Stderr();
  EXPECT_TRUE(Healthy(*a_)) << State(*a_).dump();
  // Put back as the store runs with: a reload compared with the store in
  // use, not with the previous reload, says nothing more (audit 9 N4).
  auto warnings = [&] {
    std::string err = a_->Stderr();
    size_t n = 0;
    for (size_t at = err.find("restart tidegate to apply it"); at != std::string::npos;
         at = err.find("restart tidegate to apply it", at + 1)) {
      ++n;
    }
    return n;
  };
  size_t before = warnings();
  ASSERT_TRUE(
      a_->RewriteConfig(Config({.redis = redis_->address(), .password_file = right_file_}, "a")));
  ASSERT_TRUE(a_->Reload());
  std::this_thread::sleep_for(2s);  // the reload runs within milliseconds
  EXPECT_EQ(warnings(), before) << a_->Stderr();
  EXPECT_TRUE(Healthy(*a_)) << State(*a_).dump();
}

TEST_F(RedisAuthTest, AclUserTwoInstancesShareASwitchAndARoom) {
  redis_ = StartRedisOrFail(dir_,
                            {"--user", "tidegate", "on", std::string(">") + kPassword, "~*", "&*",
                             "+@all", "--user", "default", "off"},
                            std::string("AUTH tidegate ") + kPassword);
  ASSERT_TRUE(redis_);
  InstanceOptions o{
      .redis = redis_->address(), .password_file = right_file_, .username = "tidegate"};
  a_ = StartInstance(o, "a");
  b_ = StartInstance(o, "b");
  ASSERT_TRUE(a_ && b_);
  ExpectSharedThroughRedis();
  std::string clients = redis_->Command("CLIENT LIST");
  EXPECT_EQ(clients.find("user=default"), std::string::npos) << clients;
}

// A wrong password: the store is unhealthy with the server's reason, the
// room runs on on_failure = "closed" (503 + Retry-After for newcomers),
// admin changes answer 503, nothing crashes and no log line holds a
// password. Restarted with the right file, the instance is healthy.
TEST_F(RedisAuthTest, WrongPasswordIsDegradedWithTheReasonAndTheFailureModeApplies) {
  redis_ = StartRedisOrFail(dir_, {"--requirepass", kPassword}, std::string("AUTH ") + kPassword);
  ASSERT_TRUE(redis_);
  a_ = StartInstance({.redis = redis_->address(), .password_file = wrong_file_}, "a");
  ASSERT_TRUE(a_);
  std::string detail;
  EXPECT_TRUE(WaitFor(
      [&] {
        detail = DegradedDetail(*a_, "state_store");
        return detail.find("WRONGPASS") != std::string::npos;
      },
      5s))
      << Health(*a_).dump();
  EXPECT_NE(detail.find("AUTH refused"), std::string::npos) << detail;
  Json state = State(*a_);
  EXPECT_EQ(state["store"]["healthy"], false) << state.dump();
  EXPECT_NE(state["store"].value("last_error", "").find("WRONGPASS"), std::string::npos)
      << state.dump();
  ExpectNoPasswordIn(state.dump() + Health(*a_).dump());
  HttpMessage put = Call(a_->admin_port(), "PUT", "/v1/features/checkout/maintenance");
  EXPECT_EQ(put.status, 503) << put.body;
  HttpMessage newcomer = Call(a_->port(), "GET", "/shop/1");
  EXPECT_EQ(newcomer.status, 503) << newcomer.raw.substr(0, 300);
  EXPECT_TRUE(newcomer.HasHeader("Retry-After"));
  EXPECT_TRUE(WaitFor([&] { return !DegradedDetail(*a_, "room:shop").empty(); }, 5s))
      << Health(*a_).dump();
  EXPECT_EQ(Call(a_->port(), "GET", "/products/1").status, 200) << "the shop is still served";
  // Retried with backoff, never let in; logged, but not once per attempt.
  std::this_thread::sleep_for(3s);
  EXPECT_FALSE(Healthy(*a_));
  std::string log = a_->Stderr();
  EXPECT_NE(log.find("WRONGPASS"), std::string::npos) << log;
  size_t lines = 0;
  for (size_t at = log.find("WRONGPASS"); at != std::string::npos;
       at = log.find("WRONGPASS", at + 1)) {
    ++lines;
  }
  EXPECT_LT(lines, 10u) << "not rate-limited:\n" << log;
  ExpectNoPasswordIn(log);

  // Restarted with the right file: healthy, changes and the room work.
  ASSERT_EQ(a_->Stop(10s), 0) << a_->Stderr();
  ExpectNoPasswordIn(a_->Stderr());
  a_ = StartInstance({.redis = redis_->address(), .password_file = right_file_}, "a2");
  ASSERT_TRUE(a_);
  EXPECT_TRUE(WaitFor([&] { return Healthy(*a_); }, 5s)) << State(*a_).dump();
  EXPECT_EQ(Call(a_->admin_port(), "PUT", "/v1/features/checkout/maintenance").status, 200);
  HttpMessage in = Call(a_->port(), "GET", "/shop/1");
  EXPECT_EQ(in.status, 200);
  EXPECT_FALSE(PassCookie(in).empty());
}

// The server's password changes while tidegate runs: its connections stay
// authenticated until they are closed; the reconnections are refused
// (degraded, with the reason); once the server's password is put back,
// the store is healthy again without a restart.
TEST_F(RedisAuthTest, PasswordChangedOnTheServerDegradesUntilItIsPutBack) {
  redis_ = StartRedisOrFail(dir_, {"--requirepass", kPassword}, std::string("AUTH ") + kPassword);
  ASSERT_TRUE(redis_);
  a_ = StartInstance({.redis = redis_->address(), .password_file = right_file_}, "a");
  ASSERT_TRUE(a_);
  ASSERT_TRUE(WaitFor([&] { return Healthy(*a_); }, 5s)) << State(*a_).dump();
  ASSERT_EQ(Call(a_->port(), "GET", "/shop/1").status, 200);

  ASSERT_EQ(redis_->Command(std::string("CONFIG SET requirepass ") + kWrong), "+OK\r\n");
  redis_->set_auth(std::string("AUTH ") + kWrong);
  EXPECT_EQ(redis_->Command("CLIENT KILL TYPE normal").substr(0, 1), ":");
  EXPECT_EQ(redis_->Command("CLIENT KILL TYPE pubsub").substr(0, 1), ":");
  std::string detail;
  EXPECT_TRUE(WaitFor(
      [&] {
        detail = DegradedDetail(*a_, "state_store");
        return detail.find("WRONGPASS") != std::string::npos;
      },
      10s))
      << Health(*a_).dump() << a_->Stderr();
  EXPECT_EQ(Call(a_->admin_port(), "PUT", "/v1/features/checkout/maintenance").status, 503);

  ASSERT_EQ(redis_->Command(std::string("CONFIG SET requirepass ") + kPassword), "+OK\r\n");
  redis_->set_auth(std::string("AUTH ") + kPassword);
  EXPECT_TRUE(WaitFor([&] { return Healthy(*a_); }, 10s)) << State(*a_).dump();
  EXPECT_TRUE(WaitFor([&] { return DegradedDetail(*a_, "state_store").empty(); }, 5s));
  EXPECT_EQ(Call(a_->admin_port(), "PUT", "/v1/features/checkout/maintenance").status, 200);
}

// A password rotated through its file needs no restart: the new password
// is written to redis_password_file (replaced by a rename, as configuration
// tools do) while the server still takes the old one; the server then
// switches and closes the connections; each reconnection reads the file
// again and authenticates with the new password (before, every
// reconnection was refused until the process was restarted).
TEST_F(RedisAuthTest, PasswordRotatedInItsFileNeedsNoRestart) {
  redis_ = StartRedisOrFail(dir_, {"--requirepass", kPassword}, std::string("AUTH ") + kPassword);
  ASSERT_TRUE(redis_);
  std::string file = dir_.Write("rotating.pass", std::string(kPassword) + "\n");
  a_ = StartInstance({.redis = redis_->address(), .password_file = file}, "a");
  ASSERT_TRUE(a_);
  ASSERT_TRUE(WaitFor([&] { return Healthy(*a_); }, 5s)) << State(*a_).dump();
  ASSERT_EQ(Call(a_->port(), "GET", "/shop/1").status, 200);

  std::string next = dir_.Write("rotating.pass.new", std::string(kWrong) + "\n");
  ASSERT_EQ(std::rename(next.c_str(), file.c_str()), 0);
  ASSERT_EQ(redis_->Command(std::string("CONFIG SET requirepass ") + kWrong), "+OK\r\n");
  redis_->set_auth(std::string("AUTH ") + kWrong);
  KillConnectionsAndExpectWritesAgain();
  EXPECT_TRUE(WaitFor([&] { return DegradedDetail(*a_, "state_store").empty(); }, 5s))
      << Health(*a_).dump();
  EXPECT_EQ(Call(a_->port(), "GET", "/shop/1").status, 200);
  EXPECT_EQ(a_->Stderr().find(kWrong), std::string::npos) << "the password is never logged";
}

// A primary with requirepass behind one sentinel that monitors it with
// `sentinel auth-pass`: tidegate asks the sentinel, authenticates on the
// primary (before ROLE), and its changes land there.
TEST_F(RedisAuthTest, PrimaryWithAPasswordBehindSentinels) {
  if (access(RedisSentinelBinary().c_str(), X_OK) != 0) {
    GTEST_SKIP() << RedisSentinelBinary() << " is not installed (apt-get install redis-sentinel)";
  }
  redis_ = StartRedisOrFail(dir_, {"--requirepass", kPassword}, std::string("AUTH ") + kPassword);
  ASSERT_TRUE(redis_);
  uint16_t sentinel_port = 0;
  std::unique_ptr<Process> sentinel =
      StartSentinel(std::string("sentinel auth-pass tg ") + kPassword + "\n", "", &sentinel_port);
  ASSERT_TRUE(sentinel) << "the sentinel never answered PING";
  std::string sentinels = "\"127.0.0.1:" + std::to_string(sentinel_port) + "\"";
  a_ = StartInstance({.sentinels = sentinels, .password_file = right_file_}, "a");
  ASSERT_TRUE(a_);
  ASSERT_TRUE(WaitFor([&] { return Healthy(*a_); }, 10s)) << State(*a_).dump() << a_->Stderr();
  HttpMessage put = Call(a_->admin_port(), "PUT", "/v1/features/checkout/maintenance");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_NE(redis_->Command("GET tidegate:{admin}:state").find("checkout"), std::string::npos);
  HttpMessage in = Call(a_->port(), "GET", "/shop/1");
  EXPECT_EQ(in.status, 200);
  EXPECT_FALSE(PassCookie(in).empty());
  EXPECT_EQ(redis_->Command("EXISTS tidegate:{room:shop}:s"), ":1\r\n");
  EXPECT_EQ(DegradedDetail(*a_, "room:shop"), "");
  ExpectNoPasswordIn(State(*a_).dump());
  ASSERT_EQ(a_->Stop(10s), 0) << a_->Stderr();
  ExpectNoPasswordIn(a_->Stderr());
  a_.reset();
  sentinel->Signal(SIGTERM);
  sentinel->WaitExit(10s);
}

// The sentinels' own password (their requirepass: sentinel_password_file)
// rotated through its file needs no restart either: the file is replaced
// and the sentinel switches to the new password and closes its connections;
// tidegate's next question to the sentinel (every connection to the primary
// asks it first) reads the file again. Before, the password read at start
// was sent for ever: every reconnection failed until a restart.
TEST_F(RedisAuthTest, SentinelPasswordRotatedInItsFileNeedsNoRestart) {
  if (access(RedisSentinelBinary().c_str(), X_OK) != 0) {
    GTEST_SKIP() << RedisSentinelBinary() << " is not installed (apt-get install redis-sentinel)";
  }
  redis_ = StartRedisOrFail(dir_);
  ASSERT_TRUE(redis_);
  uint16_t sentinel_port = 0;
  std::unique_ptr<Process> sentinel =
      StartSentinel(std::string("requirepass ") + kPassword + "\n", kPassword, &sentinel_port);
  ASSERT_TRUE(sentinel) << "the sentinel never answered PING";
  std::string file = dir_.Write("sentinel.pass", std::string(kPassword) + "\n");
  std::string sentinels = "\"127.0.0.1:" + std::to_string(sentinel_port) + "\"";
  a_ = StartInstance({.sentinels = sentinels, .sentinel_password_file = file}, "a");
  ASSERT_TRUE(a_);
  ASSERT_TRUE(WaitFor([&] { return Healthy(*a_); }, 10s)) << State(*a_).dump() << a_->Stderr();

  std::string next = dir_.Write("sentinel.pass.new", std::string(kWrong) + "\n");
  ASSERT_EQ(std::rename(next.c_str(), file.c_str()), 0);
  std::string as_old = std::string("AUTH ") + kPassword + "\r\n";
  EXPECT_NE(
      RespCommand(sentinel_port, as_old + "ACL SETUSER default resetpass >" + kWrong).find("+OK"),
      std::string::npos);
  std::string as_new = std::string("AUTH ") + kWrong + "\r\n";
  RespCommand(sentinel_port, as_new + "CLIENT KILL TYPE pubsub");
  RespCommand(sentinel_port, as_new + "CLIENT KILL TYPE normal");
  // tidegate's connections to the primary are closed: each reconnection
  // asks the sentinel for the primary first, with the password in the file.
  KillConnectionsAndExpectWritesAgain();
  EXPECT_NE(redis_->Command("GET tidegate:{admin}:state").find("checkout"), std::string::npos);
  ASSERT_EQ(a_->Stop(10s), 0) << a_->Stderr();
  ExpectNoPasswordIn(a_->Stderr());
  a_.reset();
  sentinel->Signal(SIGTERM);
  sentinel->WaitExit(10s);
}

// `tidegate --check`: a password file that cannot be read, or one used
// without the Redis backend, is a configuration error naming file, line,
// column and key (and never the file's content).
TEST(RedisAuthConfigTest, CheckNamesFileLineAndKey) {
  TempDir dir;
  dir.Write("pw", std::string(kPassword) + "\n");
  const std::string head =
      "[server]\nlisten = [\"127.0.0.1:18080\"]\n\n[upstream]\nservers = "
      "[\"127.0.0.1:18081\"]\n\n[state]\n";
  struct Case {
    std::string state;
    std::string message;
  };
  for (const Case& c : {Case{"backend = \"redis\"\nredis = \"127.0.0.1:6379\"\n"
                             "redis_password_file = \"missing.pass\"\n",
                             "missing.pass"},
                        Case{"redis_password_file = \"pw\"\n", "only with backend = \"redis\""}}) {
    std::string path = dir.Write("check.toml", head + c.state);
    ProcessOptions po;
    po.argv = {TidegateBinary(), "-c", path, "--check"};
    po.log_dir = dir.path();
    po.name = "check";
    std::string error;
    auto proc = Process::Start(po, &error);
    ASSERT_TRUE(proc) << error;
    EXPECT_EQ(proc->WaitExit(20s).value_or(-1), 1) << proc->Stderr();
    std::string err = proc->Stderr();
    size_t line = std::count(c.state.begin(), c.state.end(), '\n');  // the key's line in [state]
    std::string where = "check.toml:" + std::to_string(7 + line) + ":";
    EXPECT_NE(err.find(where), std::string::npos) << where << "\n" << err;
    EXPECT_NE(err.find("state.redis_password_file"), std::string::npos) << err;
    EXPECT_NE(err.find(c.message), std::string::npos) << err;
    EXPECT_EQ(err.find(kPassword), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace tidegate::itest
