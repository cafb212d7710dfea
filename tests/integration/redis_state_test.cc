// Operators' run-time state shared through Redis (admin::RedisStore) between
// real tidegate processes and a real redis-server started by the test:
// a change made on instance A is in force on instance B within one second
// (case 40), a stale If-Match is 409, Redis down → changes answer 503 while
// both instances keep serving with the last known state and report the
// store unhealthy, Redis back (empty) → reconnect and propagate again, and an
// instance started later reads the state at start. Skipped only when
// redis-server is not installed (the skip message says so).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/proc_stats.h"
#include "tests/integration/harness/redis_server.h"
#include "tests/integration/harness/scripted_origin.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr char kViewer[] = "redis-viewer-token-0123456789abcdef0123456";
constexpr char kOperator[] = "redis-operator-token-0123456789abcdef01234";

std::string InstanceConfig(uint16_t origin_port, const std::string& redis_address,
                           const std::string& name) {
  return "[server]\n"
         "listen = [\"127.0.0.1:${PORT}\"]\n"
         "workers = 1\n"
         "drain_timeout = \"5s\"\n"
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
         "redis = \"" +
         redis_address +
         "\"\n"
         "redis_timeout = \"500ms\"\n"
         "resync_interval = \"500ms\"\n"
         "\n[secrets]\n"
         "token_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
         "\n[features.checkout]\n"
         "match = [{ path = \"^/checkout\" }]\n";
}

struct Reply {
  HttpMessage http;
  Json json;  // null when the body is not JSON
};

class RedisStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::Available()) {
      GTEST_SKIP() << RedisServer::Binary() << " is not installed: Redis state tests skipped";
    }
    std::ofstream(dir_.File("k1")) << "redis-state-test-signing-key-0123456789\n";
    redis_ = StartRedisOrFail(dir_);
    ASSERT_TRUE(redis_);
    origin_ = std::make_unique<ScriptedOrigin>(ServeOkForever());
    a_ = StartInstance("a");
    b_ = StartInstance("b");
    ASSERT_TRUE(a_ && b_);
  }

  void TearDown() override {
    for (auto* t : {&a_, &b_, &c_}) {
      if (!*t) continue;
      EXPECT_TRUE((*t)->process().Running()) << "tidegate died:\n" << (*t)->Stderr();
      EXPECT_EQ((*t)->Stop(10s), 0) << (*t)->Stderr();
    }
  }

  std::unique_ptr<TidegateProcess> StartInstance(const std::string& name) {
    TidegateOptions options;
    options.name = name;
    options.config = InstanceConfig(origin_->port(), redis_->address(), name);
    return StartTidegateOrFail(dir_, options);
  }

  Reply Call(uint16_t port, const std::string& method, const std::string& target,
             const std::string& token, const std::string& body = "",
             const std::string& if_match = "") {
    Reply reply;
    auto conn = ConnectOrFail(port);
    if (!conn) return reply;
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
    if (!if_match.empty()) request += "If-Match: \"" + if_match + "\"\r\n";
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

  Json State(TidegateProcess& t) {
    Reply r = Call(t.admin_port(), "GET", "/v1/state", kViewer);
    EXPECT_EQ(r.http.status, 200) << r.http.body;
    return r.json;
  }

  Reply PutBanner(TidegateProcess& t, const std::string& message,
                  const std::string& if_match = "") {
    return Call(t.admin_port(), "PUT", "/v1/banner", kOperator,
                Json{{"message", message}, {"severity", "warning"}}.dump(), if_match);
  }

  static std::string BannerOf(const Json& state) {
    const Json& o = state["banner"]["override"];
    return o.is_object() ? o.value("message", "") : "";
  }

  // Polls `check` on `t`'s /v1/state until true or `limit` passes.
  bool WaitForState(TidegateProcess& t, const std::function<bool(const Json&)>& check,
                    std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    do {
      if (check(State(t))) return true;
      std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }

  int ShopStatus(TidegateProcess& t, const std::string& path) {
    auto conn = ConnectOrFail(t.port());
    if (!conn) return -1;
    conn->Send("GET " + path + " HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n");
    HttpMessage m = ReadResponse(*conn);
    return m.ok ? m.status : -1;
  }

  TempDir dir_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ScriptedOrigin> origin_;
  std::unique_ptr<TidegateProcess> a_, b_, c_;
};

TEST_F(RedisStateTest, Case40ChangesOnAAreInForceOnBWithinOneSecond) {
  Json initial = State(*b_);
  EXPECT_EQ(initial["store"]["backend"], "redis");
  EXPECT_EQ(initial["store"]["healthy"], true) << initial.dump();

  Reply put = PutBanner(*a_, "High demand, next update 14:30");
  ASSERT_EQ(put.http.status, 200) << put.http.body;
  auto put_done = std::chrono::steady_clock::now();
  EXPECT_TRUE(WaitForState(
      *b_, [](const Json& s) { return BannerOf(s) == "High demand, next update 14:30"; }, 1s))
      << State(*b_).dump();
  EXPECT_LT(std::chrono::steady_clock::now() - put_done, 1500ms);

  Reply m = Call(a_->admin_port(), "PUT", "/v1/features/checkout/maintenance", kOperator,
                 R"({"message": "Checkout is being upgraded"})");
  ASSERT_EQ(m.http.status, 200) << m.http.body;
  EXPECT_TRUE(WaitForState(
      *b_, [](const Json& s) { return s["features"]["checkout"]["under_maintenance"] == true; },
      1s))
      << State(*b_).dump();
  EXPECT_EQ(State(*b_)["features"]["checkout"]["maintenance"]["set_by"], "ops");
  // Enforced on B's shop traffic, not only shown: /checkout answers 503 from
  // both instances, the rest of the shop still reaches the origin.
  for (TidegateProcess* t : {a_.get(), b_.get()}) {
    Reply shop = Call(t->port(), "GET", "/checkout", "");
    EXPECT_EQ(shop.http.status, 503) << shop.http.body;
    EXPECT_EQ(Call(t->port(), "GET", "/products/1", "").http.status, 200);
  }

  // And back: cleared on B through A.
  Reply del = Call(b_->admin_port(), "DELETE", "/v1/features/checkout/maintenance", kOperator);
  ASSERT_EQ(del.http.status, 200) << del.http.body;
  EXPECT_TRUE(WaitForState(
      *a_, [](const Json& s) { return s["features"]["checkout"]["under_maintenance"] == false; },
      1s));
  EXPECT_EQ(Call(a_->port(), "GET", "/checkout", "").http.status, 200);
  // Every change is in the shared audit stream, and any instance's GET
  // /v1/audit lists all of them, oldest first (C made none).
  EXPECT_NE(redis_->Command("XLEN tidegate:{admin}:audit").find(":3"), std::string::npos);
  Reply audit = Call(b_->admin_port(), "GET", "/v1/audit", kViewer);
  ASSERT_EQ(audit.http.status, 200) << audit.http.body;
  EXPECT_EQ(audit.json["source"], "shared") << audit.http.body;
  ASSERT_EQ(audit.json["records"].size(), 3u) << audit.http.body;
  EXPECT_EQ(audit.json["records"][0]["change"], "set_banner");
  EXPECT_EQ(audit.json["records"][1]["change"], "set_maintenance");
  EXPECT_EQ(audit.json["records"][1]["target"], "checkout");
  EXPECT_EQ(audit.json["records"][2]["change"], "clear_maintenance");
  EXPECT_EQ(audit.json["records"][2]["token"], "ops");
  Reply last = Call(a_->admin_port(), "GET", "/v1/audit?limit=1", kViewer);
  ASSERT_EQ(last.json["records"].size(), 1u) << last.http.body;
  EXPECT_EQ(last.json["records"][0]["change"], "clear_maintenance");
  // A staff bypass cookie minted on B is on A's trail too (never the cookie).
  Reply mint = Call(b_->admin_port(), "POST", "/v1/bypass", kOperator, R"({"ttl": "1h"})");
  ASSERT_EQ(mint.http.status, 200) << mint.http.body;
  bool seen = false;
  for (int i = 0; i < 50 && !seen; ++i) {
    Reply trail = Call(a_->admin_port(), "GET", "/v1/audit?limit=1", kViewer);
    seen = trail.json["records"][0]["change"] == "mint_bypass";
    if (seen) {
      EXPECT_EQ(trail.json["records"][0]["token"], "ops");
      EXPECT_EQ(trail.http.body.find(mint.json.value("cookie", "?")), std::string::npos);
    }
    if (!seen) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(seen) << "the mint never reached the shared trail";
  // Every Redis command of the state store is timed in /metrics.
  Reply metrics = Call(a_->admin_port(), "GET", "/metrics", kViewer);
  ASSERT_EQ(metrics.http.status, 200);
  const std::string key = "tidegate_state_store_latency_seconds_count ";
  size_t at = metrics.http.body.find(key);
  ASSERT_NE(at, std::string::npos) << metrics.http.body.substr(0, 2000);
  EXPECT_GT(std::stol(metrics.http.body.substr(at + key.size())), 5) << "reads, changes, resyncs";
}

TEST_F(RedisStateTest, StaleIfMatchFromAnotherInstanceIsAConflict) {
  std::string version = std::to_string(State(*b_)["version"].get<uint64_t>());
  ASSERT_EQ(PutBanner(*a_, "first", version).http.status, 200);
  Reply stale = PutBanner(*b_, "second", version);
  EXPECT_EQ(stale.http.status, 409) << stale.http.body;
  EXPECT_EQ(stale.json.value("error", ""), "version_conflict") << stale.http.body;
  EXPECT_TRUE(WaitForState(
      *b_, [](const Json& s) { return BannerOf(s) == "first"; }, 1s));
  std::string fresh = std::to_string(State(*b_)["version"].get<uint64_t>());
  EXPECT_EQ(PutBanner(*b_, "second", fresh).http.status, 200);
}

TEST_F(RedisStateTest, RedisDownKeepsTheLastStateThenRecovers) {
  ASSERT_EQ(PutBanner(*a_, "before the outage").http.status, 200);
  ASSERT_TRUE(WaitForState(
      *b_, [](const Json& s) { return BannerOf(s) == "before the outage"; }, 1s));

  ASSERT_TRUE(redis_->Stop());
  Reply refused = PutBanner(*a_, "during the outage");
  EXPECT_EQ(refused.http.status, 503) << refused.http.body;
  EXPECT_EQ(refused.json.value("error", ""), "store_unavailable") << refused.http.body;
  for (TidegateProcess* t : {a_.get(), b_.get()}) {
    EXPECT_TRUE(WaitForState(
        *t, [](const Json& s) { return s["store"]["healthy"] == false; }, 3s))
        << State(*t).dump();
    Json s = State(*t);
    EXPECT_FALSE(s["store"]["last_error"].is_null()) << s.dump();
    EXPECT_EQ(BannerOf(s), "before the outage");  // case 40: the last known state holds
    EXPECT_EQ(ShopStatus(*t, "/ok"), 200);        // shop traffic is served
  }
  // The shared audit cannot be read: this instance's own log, said so.
  Reply audit = Call(a_->admin_port(), "GET", "/v1/audit", kViewer);
  EXPECT_EQ(audit.http.status, 200) << audit.http.body;
  EXPECT_EQ(audit.json["source"], "local") << audit.http.body;
  EXPECT_TRUE(audit.json["warning"].is_string()) << audit.http.body;
  EXPECT_EQ(audit.json["records"].size(), 1u) << "A's own change before the outage";

  // Redis back, empty (no persistence): both reconnect, the state is written
  // back from what the instances knew, and changes propagate again.
  std::string error;
  ASSERT_TRUE(redis_->Restart(&error)) << error;
  for (TidegateProcess* t : {a_.get(), b_.get()}) {
    EXPECT_TRUE(WaitForState(
        *t, [](const Json& s) { return s["store"]["healthy"] == true; }, 10s))
        << State(*t).dump();
  }
  Reply again = PutBanner(*a_, "after the outage");
  ASSERT_EQ(again.http.status, 200) << again.http.body;
  EXPECT_TRUE(WaitForState(
      *b_, [](const Json& s) { return BannerOf(s) == "after the outage"; }, 1s))
      << State(*b_).dump();
}

TEST_F(RedisStateTest, AnInstanceStartedLaterReadsTheStateAtStart) {
  ASSERT_EQ(PutBanner(*a_, "set before C started").http.status, 200);
  c_ = StartInstance("c");
  ASSERT_TRUE(c_);
  Json s = State(*c_);  // first request: no waiting for a resync
  EXPECT_EQ(BannerOf(s), "set before C started") << s.dump();
  EXPECT_EQ(s["store"]["healthy"], true);
}

TEST_F(RedisStateTest, Case36FrozenRedisTimesOutThenRecovers) {
  ASSERT_TRUE(redis_->Pause());
  auto start = std::chrono::steady_clock::now();
  Reply frozen = PutBanner(*a_, "while frozen");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(redis_->Resume());
  EXPECT_EQ(frozen.http.status, 503) << frozen.http.body;
  EXPECT_NE(frozen.http.body.find("timed out"), std::string::npos) << frozen.http.body;
  EXPECT_LT(took, 2s);  // redis_timeout is 500ms: our own timer, not TCP's
  EXPECT_EQ(ShopStatus(*a_, "/ok"), 200);
  EXPECT_TRUE(WaitForState(
      *a_, [](const Json& s) { return s["store"]["healthy"] == true; }, 5s))
      << State(*a_).dump();
  Reply thawed = PutBanner(*a_, "after the freeze");
  EXPECT_EQ(thawed.http.status, 200) << thawed.http.body;
  EXPECT_TRUE(WaitForState(
      *b_, [](const Json& s) { return BannerOf(s) == "after the freeze"; }, 1s));
}

TEST_F(RedisStateTest, Case39RepeatedRedisRestartsLeakNoDescriptors) {
  ASSERT_EQ(PutBanner(*a_, "steady").http.status, 200);
  ASSERT_TRUE(WaitForState(
      *b_, [](const Json& s) { return BannerOf(s) == "steady"; }, 1s));
  int fds_before = CountOpenFds(a_->pid());
  ASSERT_GT(fds_before, 0);
  std::string error;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(redis_->Restart(&error)) << error;
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + 20 * i));  // varied timing
  }
  for (TidegateProcess* t : {a_.get(), b_.get()}) {
    EXPECT_TRUE(WaitForState(
        *t, [](const Json& s) { return s["store"]["healthy"] == true; }, 10s))
        << State(*t).dump();
    EXPECT_EQ(BannerOf(State(*t)), "steady");
  }
  // Two Redis connections before, two after; allow a few for admin/test sockets.
  EXPECT_LE(CountOpenFds(a_->pid()), fds_before + 3);
  Reply again = PutBanner(*b_, "after ten restarts");
  EXPECT_EQ(again.http.status, 200) << again.http.body;
  EXPECT_TRUE(WaitForState(
      *a_, [](const Json& s) { return BannerOf(s) == "after ten restarts"; }, 1s));
}

}  // namespace
}  // namespace tidegate::itest
