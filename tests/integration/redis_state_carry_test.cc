// A Redis-backed tidegate never forgets the state in force (docs/state.md,
// "The local copy"; docs/operations.md, "Binary upgrade"), through the real
// binary and a real redis-server started by the test: an operator's switch
// and banner survive a restart and a binary upgrade (SIGUSR2) made while
// Redis is down, and go back into Redis when it returns empty; a Redis that
// refuses writes (OOM) is reported unhealthy (GET /v1/state, health) until
// it accepts them again; GET /v1/audit says so when the shared stream lost
// records this instance still has. Skipped only when redis-server is not
// installed (the skip message says so).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/redis_server.h"
#include "tests/integration/harness/scripted_origin.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr char kViewer[] = "carry-viewer-token-0123456789abcdef01234567";
constexpr char kOperator[] = "carry-operator-token-0123456789abcdef012345";

std::string InstanceConfig(uint16_t origin_port, const std::string& redis_address,
                           const std::string& name) {
  return "[server]\n"
         "listen = [\"127.0.0.1:${PORT}\"]\n"
         "workers = 1\n"
         "drain_timeout = \"2s\"\n"
         "\n[upstream]\n"
         "servers = [\"127.0.0.1:" +
         std::to_string(origin_port) +
         "\"]\n"
         "connect_timeout = \"1s\"\n"
         "response_timeout = \"5s\"\n"
         "\n[admin]\n"
         "listen = \"127.0.0.1:${ADMIN_PORT}\"\n"
         "audit_log = \"${DIR}/audit-" +
         name +
         ".jsonl\"\n"
         "tokens = [\n"
         "  { name = \"dashboard\", token_sha256 = \"" +
         Sha256Hex(kViewer) +
         "\", role = \"viewer\" },\n"
         "  { name = \"ops\", token_sha256 = \"" +
         Sha256Hex(kOperator) +
         "\", role = \"operator\" },\n"
         "]\n"
         "\n[state]\n"
         "backend = \"redis\"\n"
         "path = \"${DIR}/state-" +
         name +
         "\"\n"
         "redis = \"" +
         redis_address +
         "\"\n"
         "redis_timeout = \"300ms\"\n"
         "resync_interval = \"300ms\"\n"
         "\n[secrets]\n"
         "token_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
         "\n[features.search]\n"
         "match = [{ path = \"^/search\" }]\n";
}

struct Reply {
  HttpMessage http;
  Json json;  // null when the body is not JSON
};

class RedisStateCarryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::Available()) {
      GTEST_SKIP() << RedisServer::Binary() << " is not installed: Redis state tests skipped";
    }
    std::ofstream(dir_.File("k1")) << "redis-carry-test-signing-key-0123456789\n";
    redis_ = StartRedisOrFail(dir_);
    ASSERT_TRUE(redis_);
    origin_ = std::make_unique<ScriptedOrigin>(ServeOkForever());
    a_ = StartInstance("a");
    ASSERT_TRUE(a_);
  }

  void TearDown() override {
    if (successor_ > 0) {
      EXPECT_TRUE(StopSuccessor(successor_)) << "the new process did not exit on SIGTERM";
    }
  }

  std::unique_ptr<TidegateProcess> StartInstance(const std::string& name) {
    TidegateOptions options;
    options.name = name;
    options.config = InstanceConfig(origin_->port(), redis_->address(), name);
    return StartTidegateOrFail(dir_, options);
  }

  Reply Call(uint16_t port, const std::string& method, const std::string& target,
             const std::string& token, const std::string& body = "") {
    Reply reply;
    auto conn = ConnectOrFail(port);
    if (!conn) return reply;
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
    if (method == "PUT" || !body.empty()) {
      request +=
          "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n";
    }
    request += "Connection: close\r\n\r\n" + body;
    EXPECT_TRUE(conn->Send(request));
    reply.http = ReadResponse(*conn);
    EXPECT_TRUE(reply.http.ok) << reply.http.error;
    reply.json = Json::parse(reply.http.body, nullptr, /*allow_exceptions=*/false);
    if (reply.json.is_discarded()) reply.json = nullptr;
    return reply;
  }

  Json State(uint16_t admin_port) {
    Reply r = Call(admin_port, "GET", "/v1/state", kViewer);
    EXPECT_EQ(r.http.status, 200) << r.http.body;
    return r.json;
  }

  bool WaitFor(const std::function<bool()>& check, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    do {
      if (check()) return true;
      std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }

  static std::string BannerOf(const Json& state) {
    const Json& o = state["banner"]["override"];
    return o.is_object() ? o.value("message", "") : "";
  }

  // The search switch off and a banner, both on A; returns the version.
  uint64_t SwitchSearchOffWithABanner() {
    Reply m = Call(a_->admin_port(), "PUT", "/v1/features/search/maintenance", kOperator,
                   R"({"message": "Search is resting"})");
    EXPECT_EQ(m.http.status, 200) << m.http.body;
    Reply b = Call(a_->admin_port(), "PUT", "/v1/banner", kOperator,
                   R"({"message": "Search back soon", "severity": "warning"})");
    EXPECT_EQ(b.http.status, 200) << b.http.body;
    EXPECT_EQ(Call(a_->port(), "GET", "/search?q=x", "").http.status, 503);
    return State(a_->admin_port())["version"].get<uint64_t>();
  }

  // What a shopper and an operator see on the instance serving `port`.
  void ExpectSwitchAndBannerInForce(uint16_t port, uint16_t admin_port, uint64_t version) {
    EXPECT_EQ(Call(port, "GET", "/search?q=x", "").http.status, 503)
        << "a switched-off feature must stay closed";
    EXPECT_EQ(Call(port, "GET", "/products/1", "").http.status, 200);
    Json s = State(admin_port);
    EXPECT_EQ(BannerOf(s), "Search back soon") << s.dump();
    EXPECT_EQ(s["version"], version) << s.dump();
    EXPECT_EQ(s["features"]["search"]["under_maintenance"], true) << s.dump();
  }

  // Redis back empty: the instance writes the state back, versions go on.
  void ExpectWrittenBackToAnEmptyRedis(uint16_t admin_port, uint64_t version) {
    std::string error;
    ASSERT_TRUE(redis_->Restart(&error)) << error;
    std::string want = "\r\n" + std::to_string(version) + "\r\n";
    EXPECT_TRUE(WaitFor(
        [&] {
          return redis_->Command("GET tidegate:{admin}:version").find(want) != std::string::npos;
        },
        5s))
        << redis_->Command("GET tidegate:{admin}:version");
    EXPECT_NE(redis_->Command("GET tidegate:{admin}:state").find("Search is resting"),
              std::string::npos);
    EXPECT_TRUE(WaitFor([&] { return State(admin_port)["store"]["healthy"] == true; }, 5s));
    // The write-back changed the shared state: the shared trail says so.
    Reply audit = Call(admin_port, "GET", "/v1/audit", kViewer);
    ASSERT_EQ(audit.http.status, 200) << audit.http.body;
    ASSERT_EQ(audit.json["records"].size(), 1u) << audit.http.body;
    const Json& restored = audit.json["records"][0];
    EXPECT_EQ(restored["change"], "restore_state") << audit.http.body;
    EXPECT_EQ(restored["token"], "tidegate") << audit.http.body;
    EXPECT_EQ(restored["after"]["version"], version) << audit.http.body;
    EXPECT_TRUE(restored["before"].is_null()) << audit.http.body;
    Reply next = Call(admin_port, "PUT", "/v1/banner", kOperator,
                      R"({"message": "after", "severity": "info"})");
    EXPECT_EQ(next.http.status, 200) << next.http.body;
    EXPECT_EQ(next.json["version"], version + 1) << next.http.body;
  }

  TempDir dir_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ScriptedOrigin> origin_;
  std::unique_ptr<TidegateProcess> a_;
  pid_t successor_ = -1;
};

TEST_F(RedisStateCarryTest, ARestartWhileRedisIsDownKeepsTheStateInForce) {
  uint64_t version = SwitchSearchOffWithABanner();
  ASSERT_TRUE(redis_->Stop());
  ASSERT_EQ(a_->Stop(10s), 0) << a_->Stderr();
  a_ = StartInstance("a");
  ASSERT_TRUE(a_);
  ExpectSwitchAndBannerInForce(a_->port(), a_->admin_port(), version);
  EXPECT_EQ(State(a_->admin_port())["store"]["healthy"], false);
  EXPECT_NE(a_->Stderr().find("local copy"), std::string::npos) << a_->Stderr();
  EXPECT_NE(a_->Stderr().find("version " + std::to_string(version) + ", saved at"),
            std::string::npos)
      << a_->Stderr();
  ExpectWrittenBackToAnEmptyRedis(a_->admin_port(), version);
}

TEST_F(RedisStateCarryTest, ABinaryUpgradeWhileRedisIsDownKeepsTheStateInForce) {
  // The successor outlives its parent: be its reaper.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  uint64_t version = SwitchSearchOffWithABanner();
  ASSERT_TRUE(redis_->Stop());
  std::string error;
  successor_ = UpgradeInPlace(*a_, 20s, &error);
  ASSERT_GT(successor_, 0) << error;
  // Only the new process serves now, on the same ports.
  ExpectSwitchAndBannerInForce(a_->port(), a_->admin_port(), version);
  ExpectWrittenBackToAnEmptyRedis(a_->admin_port(), version);
}

TEST_F(RedisStateCarryTest, ARedisRefusingWritesIsReportedUnhealthy) {
  ASSERT_NE(redis_->Command("CONFIG SET maxmemory-policy noeviction").find("OK"),
            std::string::npos);
  ASSERT_NE(redis_->Command("CONFIG SET maxmemory 1").find("OK"), std::string::npos);
  Reply refused = Call(a_->admin_port(), "PUT", "/v1/banner", kOperator,
                       R"({"message": "refused", "severity": "info"})");
  EXPECT_EQ(refused.http.status, 503) << refused.http.body;
  EXPECT_EQ(refused.json.value("error", ""), "store_unavailable") << refused.http.body;
  std::this_thread::sleep_for(1500ms);  // several resyncs (reads) succeed meanwhile
  Json s = State(a_->admin_port());
  EXPECT_EQ(s["store"]["healthy"], false) << s.dump();
  EXPECT_NE(s["store"]["last_error"].dump().find("OOM"), std::string::npos) << s.dump();
  Reply health = Call(a_->port(), "GET", "/.tidegate/health", "");
  EXPECT_EQ(health.http.status, 200);
  EXPECT_EQ(health.json.value("status", ""), "degraded") << health.http.body;
  EXPECT_NE(health.http.body.find("state_store"), std::string::npos) << health.http.body;

  ASSERT_NE(redis_->Command("CONFIG SET maxmemory 0").find("OK"), std::string::npos);
  EXPECT_TRUE(WaitFor([&] { return State(a_->admin_port())["store"]["healthy"] == true; }, 3s));
  EXPECT_EQ(Call(a_->admin_port(), "PUT", "/v1/banner", kOperator,
                 R"({"message": "accepted", "severity": "info"})")
                .http.status,
            200);
}

// Audit 13, finding 5: an instance that takes no operator change while
// Redis refuses writes (OOM; READONLY and NOREPLICAS answer the same way) is
// reported unhealthy all the same: its resync probes writability.
TEST_F(RedisStateCarryTest, ARedisRefusingWritesIsReportedByAnInstanceThatWroteNothing) {
  auto b = StartInstance("b");
  ASSERT_TRUE(b);
  ASSERT_TRUE(WaitFor(
      [&] {
        return State(b->admin_port())["store"]["healthy"] == true &&
               Call(b->port(), "GET", "/.tidegate/health", "").json.value("status", "") == "ok";
      },
      3s))
      << Call(b->port(), "GET", "/.tidegate/health", "").http.body;
  ASSERT_NE(redis_->Command("CONFIG SET maxmemory-policy noeviction").find("OK"),
            std::string::npos);
  ASSERT_NE(redis_->Command("CONFIG SET maxmemory 1").find("OK"), std::string::npos);
  // No change is sent to either instance: within a few resyncs (300 ms).
  EXPECT_TRUE(WaitFor(
      [&] {
        Reply h = Call(b->port(), "GET", "/.tidegate/health", "");
        return h.json.value("status", "") == "degraded" &&
               h.http.body.find("state_store") != std::string::npos &&
               State(b->admin_port())["store"]["healthy"] == false;
      },
      3s))
      << Call(b->port(), "GET", "/.tidegate/health", "").http.body;
  Json s = State(b->admin_port());
  EXPECT_EQ(s["store"]["healthy"], false) << s.dump();
  EXPECT_NE(s["store"]["last_error"].dump().find("OOM"), std::string::npos) << s.dump();

  ASSERT_NE(redis_->Command("CONFIG SET maxmemory 0").find("OK"), std::string::npos);
  EXPECT_TRUE(WaitFor([&] { return State(b->admin_port())["store"]["healthy"] == true; }, 3s));
  EXPECT_TRUE(WaitFor(
      [&] {
        return Call(b->port(), "GET", "/.tidegate/health", "").json.value("status", "") == "ok";
      },
      5s))
      << Call(b->port(), "GET", "/.tidegate/health", "").http.body;
  EXPECT_EQ(b->Stop(10s), 0) << b->Stderr();
}

TEST_F(RedisStateCarryTest, AnAuditStreamYoungerThanTheInstancesOwnRecordsIsSaidSo) {
  SwitchSearchOffWithABanner();
  Reply before = Call(a_->admin_port(), "GET", "/v1/audit", kViewer);
  EXPECT_EQ(before.json["records"].size(), 2u) << before.http.body;
  EXPECT_FALSE(before.json.contains("warning")) << before.http.body;

  ASSERT_NE(redis_->Command("FLUSHALL").find("OK"), std::string::npos);
  Reply after = Call(a_->admin_port(), "GET", "/v1/audit", kViewer);
  ASSERT_EQ(after.http.status, 200) << after.http.body;
  EXPECT_EQ(after.json["source"], "shared") << after.http.body;
  EXPECT_TRUE(after.json["warning"].is_string()) << after.http.body;
  EXPECT_EQ(after.json["local_records_older"], 2) << after.http.body;
  // A change after that: the stream holds it, the older two are still said.
  ASSERT_TRUE(WaitFor(
      [&] {
        return Call(a_->admin_port(), "PUT", "/v1/banner", kOperator,
                    R"({"message": "later", "severity": "info"})")
                   .http.status == 200;
      },
      3s));
  Reply later = Call(a_->admin_port(), "GET", "/v1/audit", kViewer);
  // The banner change, and the write-back's record when the instance wrote
  // its state back before the change (a resync may come first or not).
  size_t operator_changes = 0;
  for (const Json& r : later.json["records"]) operator_changes += r["change"] != "restore_state";
  EXPECT_EQ(operator_changes, 1u) << later.http.body;
  EXPECT_EQ(later.json["local_records_older"], 2) << later.http.body;
}

}  // namespace
}  // namespace tidegate::itest
