// The status page tells an incident's story through real processes (issue
// 12, docs/status-page.md): tidegate in front of the demo shop, the
// incident driven through the admin API.
// * open → status.json lists it (kind "incident") with its component, the
//   HTML page and the Atom feed show it; update → two entries in the
//   timeline (newest first) and two in the feed; a promised next update that
//   passes → "Update is late" on the page, update_overdue in the JSON;
//   resolve → no open incident, operational, the closing message in
//   past_incidents and one more feed entry.
// * Two instances on a real redis-server: an incident opened on A is on B's
//   status page, and B's history has its closing message once resolved on A.
//
// Waits are bounded polls; nothing is asserted on timing.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/redis_server.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr char kOperator[] = "status-operator-token-0123456789abcdef012";

std::string Config(uint16_t origin_port, const std::string& name, const std::string& state) {
  return "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 1\ndrain_timeout = \"5s\"\n"
         "\n[upstream]\nservers = [\"127.0.0.1:" +
         std::to_string(origin_port) +
         "\"]\n"
         "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\naudit_log = \"${DIR}/audit-" +
         name + ".jsonl\"\ntokens = [{ name = \"ops\", token_sha256 = \"" + Sha256Hex(kOperator) +
         "\", role = \"operator\" }]\n"
         "\n[state]\n" +
         (state.empty() ? "path = \"${DIR}/state-" + name + "\"\n" : state) +
         "\n[site]\nname = \"Tide & Anchor\"\ntime_zone = \"Europe/Paris\"\n"
         "\n[features.checkout]\nmatch = [{ path = \"^/checkout\" }]\n"
         "\n[features.search]\nmatch = [{ path = \"^/search\" }]\n";
}

HttpMessage Get(uint16_t port, const std::string& target, const std::string& extra = "") {
  auto conn = ConnectOrFail(port);
  if (!conn) return {};
  EXPECT_TRUE(conn->Send("GET " + target + " HTTP/1.1\r\nHost: shop.test\r\n" + extra +
                         "Connection: close\r\n\r\n"));
  HttpMessage m = ReadResponse(*conn, Within(10000ms));
  EXPECT_TRUE(m.ok) << m.error;
  return m;
}

Json GetJson(uint16_t port, const std::string& target) {
  HttpMessage m = Get(port, target);
  EXPECT_EQ(m.status, 200) << m.body;
  Json j = Json::parse(m.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << m.body;
  return j;
}

HttpMessage Post(uint16_t admin_port, const std::string& path, const std::string& body) {
  auto conn = ConnectOrFail(admin_port);
  if (!conn) return {};
  EXPECT_TRUE(conn->Send("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                         kOperator + "\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body));
  HttpMessage m = ReadResponse(*conn, Within(10000ms));
  EXPECT_TRUE(m.ok) << m.error;
  return m;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::string Rfc3339In(std::chrono::seconds delay) {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + delay);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return text;
}

bool WaitFor(const std::function<bool()>& check, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  do {
    if (check()) return true;
    std::this_thread::sleep_for(100ms);  // pacing only
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

constexpr char kOpen[] = R"({"title": "Card payments failing",
  "message": "Card payments fail at the moment.", "impact": "partial_outage",
  "features": ["checkout"], "banner": true, "next_update": "30m"})";

class StatusIncidentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.File("k1")) << "status-test-signing-key-0123456789abcdef\n";
    shop_ = StartDemoShopOrFail(dir_);
    ASSERT_TRUE(shop_);
  }
  void TearDown() override {
    for (auto* t : {&a_, &b_}) {
      if (!*t) continue;
      EXPECT_TRUE((*t)->process().Running()) << "tidegate died:\n" << (*t)->Stderr();
      EXPECT_EQ((*t)->Stop(10s), 0) << (*t)->Stderr();
    }
  }
  std::unique_ptr<TidegateProcess> Start(const std::string& name, const std::string& state = "") {
    TidegateOptions options;
    options.name = name;
    options.config = Config(shop_->port(), name, state);
    return StartTidegateOrFail(dir_, options);
  }

  TempDir dir_;
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<TidegateProcess> a_, b_;
};

TEST_F(StatusIncidentTest, OpenUpdateLateAndResolveAreTold) {
  a_ = Start("a");
  ASSERT_TRUE(a_);
  uint16_t shop = a_->port();
  EXPECT_EQ(GetJson(shop, "/.tidegate/status.json")["status"], "operational");

  HttpMessage opened = Post(a_->admin_port(), "/v1/incidents", kOpen);
  ASSERT_EQ(opened.status, 201) << opened.body;
  std::string id = Json::parse(opened.body)["id"];
  Json json = GetJson(shop, "/.tidegate/status.json");
  EXPECT_EQ(json["status"], "partial_outage") << json.dump(2);
  ASSERT_EQ(json["incidents"].size(), 1u) << "the incident's banner and maintenance are not "
                                             "repeated as notices:\n"
                                          << json.dump(2);
  EXPECT_EQ(json["incidents"][0]["kind"], "incident");
  EXPECT_EQ(json["incidents"][0]["id"], id);
  EXPECT_EQ(json["incidents"][0]["title"], "Card payments failing");
  EXPECT_EQ(json["incidents"][0]["update_overdue"], false);
  EXPECT_EQ(json["components"][0],
            Json({{"name", "checkout"}, {"status", "partial_outage"}, {"incident", id}}));
  EXPECT_EQ(json["components"][1]["status"], "operational");
  HttpMessage html = Get(shop, "/.tidegate/status", "Accept-Language: fr\r\n");
  EXPECT_NE(html.body.find("Card payments failing"), std::string::npos) << html.body;
  EXPECT_NE(html.body.find("Prochaine mise à jour à"), std::string::npos) << html.body;
  EXPECT_NE(html.body.find(" CET") == std::string::npos ? html.body.find(" CEST")
                                                        : html.body.find(" CET"),
            std::string::npos)
      << "times carry the shop's zone:\n"
      << html.body;
  EXPECT_EQ(Count(Get(shop, "/.tidegate/status.atom").body, "<entry>"), 1u);

  // An update promising the next one in a few seconds.
  HttpMessage updated = Post(a_->admin_port(), "/v1/incidents/" + id + "/updates",
                             R"({"status": "identified", "message": "The provider is down.",
                                 "next_update": ")" +
                                 Rfc3339In(5s) + "\"}");
  ASSERT_EQ(updated.status, 200) << updated.body;
  json = GetJson(shop, "/.tidegate/status.json");
  ASSERT_EQ(json["incidents"][0]["updates"].size(), 2u) << json.dump(2);
  EXPECT_EQ(json["incidents"][0]["updates"][0]["message"], "The provider is down.");
  EXPECT_EQ(json["incidents"][0]["updates"][1]["message"], "Card payments fail at the moment.");
  html = Get(shop, "/.tidegate/status");
  EXPECT_LT(html.body.find("The provider is down."),
            html.body.find("Card payments fail at the moment."))
      << "newest first:\n"
      << html.body;
  HttpMessage feed = Get(shop, "/.tidegate/status.atom");
  std::string atom = feed.body;
  EXPECT_EQ(Count(atom, "<entry>"), 2u) << atom;
  // Its ids and links name the Host it was fetched under: caches key on it.
  EXPECT_EQ(feed.Header("Vary"), "Accept-Language, Host");
  EXPECT_NE(atom.find("<title>Card payments failing — Identified</title>"), std::string::npos)
      << atom;

  // The promise passes with no update: the page says so.
  EXPECT_TRUE(WaitFor(
      [&] {
        return Get(shop, "/.tidegate/status").body.find("Update is late: it was expected at") !=
               std::string::npos;
      },
      15s))
      << Get(shop, "/.tidegate/status").body;
  EXPECT_EQ(GetJson(shop, "/.tidegate/status.json")["incidents"][0]["update_overdue"], true);

  HttpMessage resolved = Post(a_->admin_port(), "/v1/incidents/" + id + "/resolve",
                              R"({"message": "Payments work again."})");
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  json = GetJson(shop, "/.tidegate/status.json");
  EXPECT_EQ(json["status"], "operational") << json.dump(2);
  EXPECT_TRUE(json["incidents"].empty()) << json.dump(2);
  ASSERT_EQ(json["past_incidents"].size(), 1u) << json.dump(2);
  EXPECT_EQ(json["past_incidents"][0]["closing_message"], "Payments work again.");
  EXPECT_EQ(json["components"][0]["status"], "operational");
  html = Get(shop, "/.tidegate/status");
  EXPECT_NE(html.body.find("Past incidents"), std::string::npos);
  EXPECT_NE(html.body.find("Payments work again."), std::string::npos) << html.body;
  EXPECT_EQ(html.body.find("Update is late"), std::string::npos) << "a resolved incident is over";
  EXPECT_EQ(Count(Get(shop, "/.tidegate/status.atom").body, "<entry>"), 3u);
}

TEST_F(StatusIncidentTest, EveryInstanceOnRedisTellsTheSameStory) {
  if (!RedisServer::Available()) {
    GTEST_SKIP() << RedisServer::Binary() << " is not installed";
  }
  auto redis = StartRedisOrFail(dir_);
  ASSERT_TRUE(redis);
  std::string state = "backend = \"redis\"\nredis = \"" + redis->address() +
                      "\"\nredis_timeout = \"500ms\"\nresync_interval = \"500ms\"\n";
  a_ = Start("a", state);
  b_ = Start("b", state);
  ASSERT_TRUE(a_ && b_);
  HttpMessage opened = Post(a_->admin_port(), "/v1/incidents", kOpen);
  ASSERT_EQ(opened.status, 201) << opened.body;
  std::string id = Json::parse(opened.body)["id"];
  EXPECT_TRUE(WaitFor(
      [&] {
        Json j = GetJson(b_->port(), "/.tidegate/status.json");
        return j["incidents"].size() == 1 && j["incidents"][0]["id"] == id;
      },
      5s))
      << GetJson(b_->port(), "/.tidegate/status.json").dump(2);
  EXPECT_NE(Get(b_->port(), "/.tidegate/status").body.find("Card payments failing"),
            std::string::npos);

  ASSERT_EQ(Post(a_->admin_port(), "/v1/incidents/" + id + "/resolve",
                 R"({"message": "Payments work again."})")
                .status,
            200);
  EXPECT_TRUE(WaitFor(
      [&] {
        Json j = GetJson(b_->port(), "/.tidegate/status.json");
        return j["incidents"].empty() && j["past_incidents"].size() == 1 &&
               j["past_incidents"][0]["closing_message"] == "Payments work again.";
      },
      5s))
      << GetJson(b_->port(), "/.tidegate/status.json").dump(2);
}

}  // namespace
}  // namespace tidegate::itest
