// A room switched on at run time (mode auto or queue_all, an operator's or
// an incident's) that the configuration in force cannot queue — no
// [secrets].token_keys, or enabled = false — is listed on /.tidegate/health
// (part "room_mode:NAME", status "degraded", still 200) with one warning in
// the error log. The admin API and SIGHUP refuse to create one (admin_test);
// these are the two ways that remain, with real processes:
//
// * a local state file holding mode = queue_all restored at start into a
//   configuration without a key;
// * two instances on one real redis-server, one with the key and one
//   without: the one without follows the other's queue_all.
//
// Before, both said "queue_all" in GET /v1/state, let everybody in and
// answered /.tidegate/health "ok". Redis tests are skipped only when
// redis-server is not installed.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
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

constexpr char kOperator[] = "room-health-operator-token-0123456789abcdef";
constexpr char kKey[] =
    "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n";

class RoomHealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.File("k1")) << "room-health-test-signing-key-0123456789ab\n";
    origin_ = std::make_unique<ScriptedOrigin>(ServeOkForever());
  }

  // One instance; `state` is the [state] section's body, `key` kKey or "".
  std::string Config(const std::string& name, const std::string& state, const std::string& key) {
    return "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 1\ndrain_timeout = \"5s\"\n"
           "\n[upstream]\nservers = [\"127.0.0.1:" +
           std::to_string(origin_->port()) +
           "\"]\nconnect_timeout = \"1s\"\nresponse_timeout = \"5s\"\n"
           "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
           "audit_log = \"${DIR}/audit-" +
           name +
           ".jsonl\"\n"
           "tokens = [{ name = \"ops\", token_sha256 = \"" +
           Sha256Hex(kOperator) + "\", role = \"operator\" }]\n" + "\n[state]\n" + state + key +
           "\n[rooms.shop]\nmatch = [\"^/sale\"]\nmode = \"off\"\nrefresh_interval = \"1s\"\n";
  }

  std::unique_ptr<TidegateProcess> Start(const std::string& name, const std::string& config) {
    TidegateOptions options;
    options.name = name;
    options.config = config;
    return StartTidegateOrFail(dir_, options);
  }

  HttpMessage Call(uint16_t port, const std::string& method, const std::string& target,
                   const std::string& body = "") {
    auto conn = ConnectOrFail(port);
    if (!conn) return {};
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    request += std::string("Authorization: Bearer ") + kOperator + "\r\n";
    if (!body.empty()) {
      request +=
          "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n";
    }
    request += "Connection: close\r\n\r\n" + body;
    EXPECT_TRUE(conn->Send(request));
    HttpMessage m = ReadResponse(*conn, Within(10000ms));
    EXPECT_TRUE(m.ok) << method << " " << target << ": " << m.error;
    return m;
  }

  HttpMessage Shop(TidegateProcess& t, const std::string& path) {
    auto conn = ConnectOrFail(t.port());
    if (!conn) return {};
    EXPECT_TRUE(
        conn->Send("GET " + path + " HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n"));
    return ReadResponse(*conn, Within(10000ms));
  }

  Json Health(TidegateProcess& t) {
    HttpMessage m = Shop(t, "/.tidegate/health");
    EXPECT_EQ(m.status, 200) << m.body;
    return Json::parse(m.body, nullptr, false);
  }

  // The detail of `part` on t's /.tidegate/health; "" when not listed.
  std::string PartDetail(TidegateProcess& t, const std::string& part) {
    Json h = Health(t);
    if (!h.is_object() || !h["degraded"].is_array()) return "";
    for (const Json& p : h["degraded"]) {
      if (p.is_object() && p.value("part", "") == part) return p.value("detail", "");
    }
    return "";
  }

  static bool Eventually(const std::function<bool()>& check, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    do {
      if (check()) return true;
      std::this_thread::sleep_for(50ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }

  static size_t Count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

  TempDir dir_;
  std::unique_ptr<ScriptedOrigin> origin_;
};

// (a) The local state file says queue_all; the configuration the instance
// restarts with has no key. Health says degraded, naming the room, its mode
// and why; one warning; switched off, health is ok again.
TEST_F(RoomHealthTest, AStateFileRestoredIntoAConfigurationWithoutAKeyIsDegraded) {
  std::unique_ptr<TidegateProcess> t = Start("local", Config("local", "", kKey));
  ASSERT_TRUE(t);
  HttpMessage on = Call(t->admin_port(), "PATCH", "/v1/rooms/shop", R"({"mode":"queue_all"})");
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_EQ(Health(*t).value("status", ""), "ok");
  ASSERT_EQ(t->Stop(15s), 0) << t->Stderr();

  t = Start("local", Config("local", "", ""));  // same file, same state folder, no key
  ASSERT_TRUE(t);
  Json state = Json::parse(Call(t->admin_port(), "GET", "/v1/state").body, nullptr, false);
  ASSERT_EQ(state["rooms"]["shop"]["mode"]["value"], "queue_all") << state.dump();
  Json h = Health(*t);
  EXPECT_EQ(h.value("status", ""), "degraded") << h.dump();
  std::string detail = PartDetail(*t, "room_mode:shop");
  EXPECT_NE(detail.find("queue_all"), std::string::npos) << h.dump();
  EXPECT_NE(detail.find("token_keys"), std::string::npos) << h.dump();
  // What it reports is true: the shop's /sale is not queued.
  HttpMessage sale = Shop(*t, "/sale");
  EXPECT_EQ(sale.status, 200);
  EXPECT_EQ(sale.Header("Set-Cookie").value_or("").find("tg_wait_shop"), std::string::npos);
  // One warning, not one a second.
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(Count(t->Stderr(), "room 'shop' switched to queue_all at run time"), 1u) << t->Stderr();

  HttpMessage off = Call(t->admin_port(), "PATCH", "/v1/rooms/shop", R"({"mode":"off"})");
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(PartDetail(*t, "room_mode:shop"), "");
  EXPECT_EQ(Health(*t).value("status", ""), "ok");
  EXPECT_EQ(t->Stop(15s), 0) << t->Stderr();
}

// (b) Two instances on one redis-server; A has the key, B has none. A
// switches the room to queue_all (accepted: A can queue); B follows the
// shared state and lists the room as degraded, until A switches it off.
TEST_F(RoomHealthTest, AnInstanceWithoutTheKeyFollowingQueueAllThroughRedisIsDegraded) {
  if (!RedisServer::Available()) {
    GTEST_SKIP() << RedisServer::Binary() << " is not installed: Redis test skipped";
  }
  std::unique_ptr<RedisServer> redis = StartRedisOrFail(dir_);
  ASSERT_TRUE(redis);
  const std::string shared = "backend = \"redis\"\nredis = \"" + redis->address() +
                             "\"\nredis_timeout = \"500ms\"\nresync_interval = \"500ms\"\n";
  std::unique_ptr<TidegateProcess> a = Start("a", Config("a", shared, kKey));
  std::unique_ptr<TidegateProcess> b = Start("b", Config("b", shared, ""));
  ASSERT_TRUE(a && b);
  // Both connected to Redis (health is "ok" then).
  for (TidegateProcess* t : {a.get(), b.get()}) {
    EXPECT_TRUE(Eventually([&] { return Health(*t).value("status", "") == "ok"; }, 5s))
        << Health(*t).dump();
  }

  HttpMessage on = Call(a->admin_port(), "PATCH", "/v1/rooms/shop", R"({"mode":"queue_all"})");
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_TRUE(Eventually([&] { return !PartDetail(*b, "room_mode:shop").empty(); }, 5s))
      << Health(*b).dump() << "\n"
      << b->Stderr();
  Json h = Health(*b);
  EXPECT_EQ(h.value("status", ""), "degraded") << h.dump();
  std::string detail = PartDetail(*b, "room_mode:shop");
  EXPECT_NE(detail.find("queue_all"), std::string::npos) << detail;
  EXPECT_NE(detail.find("token_keys"), std::string::npos) << detail;
  EXPECT_EQ(PartDetail(*a, "room_mode:shop"), "") << "A can queue";
  HttpMessage sale_a = Shop(*a, "/sale");
  EXPECT_NE(sale_a.Header("Set-Cookie").value_or("").find("tg_wait_shop"), std::string::npos)
      << sale_a.raw.substr(0, 300);
  HttpMessage sale_b = Shop(*b, "/sale");
  EXPECT_EQ(sale_b.Header("Set-Cookie").value_or("").find("tg_wait_shop"), std::string::npos);
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(Count(b->Stderr(), "room 'shop' switched to queue_all at run time"), 1u) << b->Stderr();

  HttpMessage off = Call(a->admin_port(), "PATCH", "/v1/rooms/shop", R"({"mode":"off"})");
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_TRUE(Eventually([&] { return Health(*b).value("status", "") == "ok"; }, 5s))
      << Health(*b).dump();
  for (auto* t : {&a, &b}) {
    EXPECT_TRUE((*t)->process().Running()) << (*t)->Stderr();
    EXPECT_EQ((*t)->Stop(10s), 0) << (*t)->Stderr();
  }
}

}  // namespace
}  // namespace tidegate::itest
