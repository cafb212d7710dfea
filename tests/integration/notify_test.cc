// Webhooks ([[notify.webhooks]], docs/incidents.md "Subscribers") with real
// processes: tidegate, a scripted origin, a real HTTP receiver started by
// the test (harness/webhook_receiver.h) and, for the shared outbox, a real
// redis-server.
//
// * Every event arrives with a valid Tidegate-Signature (checked here with
//   OpenSSL, as a subscriber would, against the secret file's bytes).
// * A receiver that is down gets the events once it is back; the outbox
//   (a file under [state].path) keeps them across a tidegate restart;
//   GET /v1/notify shows them pending with the last error meanwhile.
// * Three instances on one Redis: every event is delivered exactly once,
//   whichever instance made the change, also after the receiver was down.
// * Two instances on one Redis, which is restarted empty while an event is
//   still pending (the receiver answered 500): the instances write it back
//   and it is delivered once the receiver answers 2xx (at least once).
#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "tests/integration/harness/admin_metrics.h"
#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/redis_server.h"
#include "tests/integration/harness/scripted_origin.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"
#include "tests/integration/harness/webhook_receiver.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr char kViewer[] = "notify-viewer-token-0123456789abcdef0123456";
constexpr char kOperator[] = "notify-operator-token-0123456789abcdef01234";
constexpr char kSecret[] = "whsec-integration-0123456789abcdef";

// What a subscriber does: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>,
// the timestamp within five minutes of its clock.
bool ValidSignature(const std::string& header, const std::string& body) {
  size_t comma = header.find(",v1=");
  if (header.rfind("t=", 0) != 0 || comma == std::string::npos) return false;
  std::string t = header.substr(2, comma - 2);
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  if (std::llabs(std::stoll(t) - now) > 300) return false;
  std::string message = t + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), kSecret, static_cast<int>(sizeof kSecret - 1),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[mac[i] >> 4];
    hex += kHex[mac[i] & 15];
  }
  std::string given = header.substr(comma + 4);
  return given.size() == hex.size() && CRYPTO_memcmp(given.data(), hex.data(), hex.size()) == 0;
}

// An RFC 3339 time `seconds` from now (UTC), for a next_update promise
// that passes during the test.
std::string InSeconds(int seconds) {
  time_t t = time(nullptr) + seconds;
  tm utc;
  gmtime_r(&t, &utc);
  char text[32];
  strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::vector<std::string> Types(const std::vector<WebhookRequest>& received) {
  std::vector<std::string> out;
  for (const WebhookRequest& r : received) {
    Json body = Json::parse(r.body, nullptr, false);
    out.push_back(body.is_object() ? body.value("type", "?") : "?");
  }
  return out;
}

class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.File("k1")) << "notify-test-signing-key-0123456789abcdef\n";
    std::ofstream(dir_.File("webhook.secret")) << kSecret << "\n";
    ASSERT_TRUE(receiver_.Start());
    origin_ = std::make_unique<ScriptedOrigin>(ServeOkForever());
  }

  std::string Config(const std::string& state) const {
    return ProxyConfig(origin_->port(), {}, {},
                       "tokens = [\n"
                       "  { name = \"dashboard\", token_sha256 = \"" +
                           Sha256Hex(kViewer) +
                           "\", role = \"viewer\" },\n"
                           "  { name = \"ops\", token_sha256 = \"" +
                           Sha256Hex(kOperator) +
                           "\", role = \"operator\" },\n"
                           "]\n"
                           "\n" +
                           state +
                           "\n[secrets]\n"
                           "token_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
                           "\n[features.checkout]\n"
                           "match = [{ path = \"^/checkout\" }]\n"
                           "\n[rooms.shop]\n"
                           "match = [\"^/\"]\n"
                           "total_active_users = 1000\n"
                           "new_users_per_minute = 1000\n"
                           "\n[notify]\n"
                           "timeout = \"2s\"\n"
                           "retry_initial = \"500ms\"\n"
                           "retry_max = \"1s\"\n"
                           "\n[[notify.webhooks]]\n"
                           "url = \"" +
                           receiver_.url() +
                           "\"\n"
                           "secret_file = \"${DIR}/webhook.secret\"\n");
  }

  std::unique_ptr<TidegateProcess> Start(const std::string& name, const std::string& state) {
    TidegateOptions options;
    options.name = name;
    options.config = Config(state);
    return StartTidegateOrFail(dir_, options);
  }

  Json Call(TidegateProcess& t, const std::string& method, const std::string& target,
            const std::string& body = "", int expect = 200) {
    auto conn = ConnectOrFail(t.admin_port());
    if (!conn) return nullptr;
    std::string token = method == "GET" ? kViewer : kOperator;
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                          "Authorization: Bearer " + token + "\r\n";
    if (method != "GET" && method != "DELETE") {
      request +=
          "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n";
    }
    request += "Connection: close\r\n\r\n" + body;
    EXPECT_TRUE(conn->Send(request));
    HttpMessage reply = ReadResponse(*conn);
    EXPECT_EQ(reply.status, expect) << method << " " << target << ": " << reply.body;
    Json json = Json::parse(reply.body, nullptr, false);
    return json.is_discarded() ? Json(nullptr) : json;
  }

  void MaintenanceOn(TidegateProcess& t) {
    Call(t, "PUT", "/v1/features/checkout/maintenance", R"({"message": "Back at 15:00"})");
  }
  void MaintenanceOff(TidegateProcess& t) {
    Call(t, "DELETE", "/v1/features/checkout/maintenance");
  }

  bool WaitForCount(size_t n, std::chrono::milliseconds limit = 15s) {
    return receiver_.WaitFor([n](const auto& r) { return r.size() >= n; }, limit);
  }

  void ExpectAllSigned() {
    for (const WebhookRequest& r : receiver_.Received()) {
      EXPECT_EQ(r.method, "POST");
      EXPECT_EQ(r.target, "/hooks/tidegate");
      EXPECT_EQ(r.headers.count("tidegate-event"), 1u);
      EXPECT_TRUE(ValidSignature(
          r.headers.count("tidegate-signature") ? r.headers.at("tidegate-signature") : "", r.body))
          << r.body;
    }
  }

  TempDir dir_;
  WebhookReceiver receiver_;
  std::unique_ptr<ScriptedOrigin> origin_;
};

TEST_F(NotifyTest, EveryEventArrivesSignedAndViewersSeeTheOutbox) {
  auto t = Start("tidegate", "[state]\npath = \"${DIR}/state\"\n");
  ASSERT_TRUE(t);
  MaintenanceOn(*t);
  Call(*t, "PATCH", "/v1/rooms/shop", R"({"mode": "queue_all"})");
  MaintenanceOff(*t);
  Call(*t, "PATCH", "/v1/rooms/shop", R"({"mode": null})");
  ASSERT_TRUE(WaitForCount(4)) << receiver_.Received().size();
  EXPECT_EQ(
      Types(receiver_.Received()),
      (std::vector<std::string>{"maintenance.on", "room.mode", "maintenance.off", "room.mode"}));
  ExpectAllSigned();
  Json first = Json::parse(receiver_.Received()[0].body);
  EXPECT_EQ(first["data"]["feature"], "checkout");
  EXPECT_EQ(first["data"]["message"], "Back at 15:00");
  Json room = Json::parse(receiver_.Received()[3].body);
  EXPECT_EQ(room["data"]["mode"], "auto");
  EXPECT_EQ(room["data"]["source"], "config");

  Json status = Call(*t, "GET", "/v1/notify");
  EXPECT_EQ(status["backend"], "local");
  EXPECT_TRUE(status["pending"].empty()) << status.dump();
  EXPECT_EQ(status["counters"]["delivered_total"], 4);
  EXPECT_EQ(status["webhooks"][0]["url"],
            "http://127.0.0.1:" + std::to_string(receiver_.port()) + "/…");
  auto metrics = ConnectOrFail(t->admin_port());
  ASSERT_TRUE(metrics);
  metrics->Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  HttpMessage m = ReadResponse(*metrics);
  EXPECT_NE(m.body.find("tidegate_notify_deliveries_total{result=\"delivered\"} 4"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("tidegate_incidents_update_overdue 0"), std::string::npos);
  EXPECT_EQ(t->Stop(10s), 0) << t->Stderr();
}

TEST_F(NotifyTest, AnIncidentTellsSubscribersEachStepAndWhatItSwitched) {
  auto t = Start("tidegate", "[state]\npath = \"${DIR}/state\"\n");
  ASSERT_TRUE(t);
  Json opened = Call(*t, "POST", "/v1/incidents",
                     R"({"title": "Card payments failing", "message": "Payments fail.",
                         "impact": "partial_outage", "features": ["checkout"], "banner": true,
                         "next_update": "30m", "room": {"name": "shop", "mode": "queue_all"}})",
                     201);
  ASSERT_TRUE(opened.is_object() && opened.contains("id")) << opened.dump();
  std::string id = opened["id"];
  Call(
      *t, "POST", "/v1/incidents/" + id + "/updates",
      R"({"status": "identified", "message": "The provider is fixing it.", "next_update": "15m"})");
  Call(*t, "POST", "/v1/incidents/" + id + "/resolve", R"({"message": "Payments work again."})");
  ASSERT_TRUE(WaitForCount(7)) << receiver_.Received().size();
  std::this_thread::sleep_for(500ms);
  std::vector<WebhookRequest> received = receiver_.Received();
  EXPECT_EQ(Types(received),
            (std::vector<std::string>{"incident.opened", "maintenance.on", "room.mode",
                                      "incident.updated", "incident.resolved", "maintenance.off",
                                      "room.mode"}));
  ExpectAllSigned();
  Json first = Json::parse(received[0].body);
  EXPECT_EQ(first["data"]["id"], id);
  EXPECT_EQ(first["data"]["title"], "Card payments failing");
  EXPECT_EQ(first["data"]["impact"], "partial_outage");
  EXPECT_EQ(first["data"]["features"], Json::array({"checkout"}));
  EXPECT_FALSE(first["data"]["next_update_at"].is_null());
  EXPECT_EQ(Json::parse(received[1].body)["data"]["incident_id"], id);
  Json update = Json::parse(received[3].body);
  EXPECT_EQ(update["data"]["status"], "identified");
  EXPECT_EQ(update["data"]["updates"][0]["message"], "The provider is fixing it.");
  Json resolved = Json::parse(received[4].body);
  EXPECT_EQ(resolved["data"]["message"], "Payments work again.");
  EXPECT_FALSE(resolved["data"]["resolved_at"].is_null());
  EXPECT_EQ(t->Stop(10s), 0) << t->Stderr();
}

TEST_F(NotifyTest, AReceiverThatWasDownGetsItsEventsEvenAcrossARestart) {
  auto t = Start("tidegate", "[state]\npath = \"${DIR}/state\"\n");
  ASSERT_TRUE(t);
  receiver_.Stop();
  MaintenanceOn(*t);
  // Attempted, refused, kept with the reason.
  Json status;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    std::this_thread::sleep_for(100ms);
    status = Call(*t, "GET", "/v1/notify");
  } while ((status["pending"].empty() || status["pending"][0]["attempts"] < 1) &&
           std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(status["pending"].size(), 1u) << status.dump();
  EXPECT_EQ(status["pending"][0]["type"], "maintenance.on");
  EXPECT_GE(status["pending"][0]["attempts"], 1);
  EXPECT_FALSE(status["pending"][0]["last_error"].is_null()) << status.dump();

  // tidegate restarts while the receiver is still down: the outbox file
  // under [state].path carries the delivery over.
  ASSERT_EQ(t->Stop(10s), 0) << t->Stderr();
  t = Start("tidegate2", "[state]\npath = \"${DIR}/state\"\n");
  ASSERT_TRUE(t);
  status = Call(*t, "GET", "/v1/notify");
  ASSERT_EQ(status["pending"].size(), 1u) << status.dump();

  ASSERT_TRUE(receiver_.Start());
  ASSERT_TRUE(WaitForCount(1)) << Call(*t, "GET", "/v1/notify").dump();
  EXPECT_EQ(Types(receiver_.Received()), std::vector<std::string>{"maintenance.on"});
  ExpectAllSigned();
  EXPECT_TRUE(receiver_.WaitFor(
      [&](const auto&) { return Call(*t, "GET", "/v1/notify")["pending"].empty(); }, 5s));
  EXPECT_EQ(t->Stop(10s), 0) << t->Stderr();
}

TEST_F(NotifyTest, ThreeInstancesOnRedisDeliverEachEventOnce) {
  if (!RedisServer::Available()) {
    GTEST_SKIP() << RedisServer::Binary() << " is not installed: shared outbox test skipped";
  }
  auto redis = StartRedisOrFail(dir_);
  ASSERT_TRUE(redis);
  std::string state = "[state]\nbackend = \"redis\"\nredis = \"" + redis->address() +
                      "\"\nredis_timeout = \"500ms\"\nresync_interval = \"500ms\"\n";
  std::vector<std::unique_ptr<TidegateProcess>> instances;
  for (const char* name : {"a", "b", "c"}) {
    instances.push_back(Start(name, state));
    ASSERT_TRUE(instances.back());
  }
  // Six changes, two through each instance.
  MaintenanceOn(*instances[0]);
  Call(*instances[1], "PATCH", "/v1/rooms/shop", R"({"mode": "queue_all"})");
  MaintenanceOff(*instances[2]);
  ASSERT_TRUE(WaitForCount(3));
  // The receiver goes down; the next events wait in Redis meanwhile.
  receiver_.Stop();
  MaintenanceOn(*instances[1]);
  Call(*instances[2], "PATCH", "/v1/rooms/shop", R"({"mode": "off"})");
  MaintenanceOff(*instances[0]);
  std::this_thread::sleep_for(2s);
  Json status = Call(*instances[2], "GET", "/v1/notify");
  EXPECT_EQ(status["backend"], "redis");
  EXPECT_EQ(status["pending"].size(), 3u) << "shared: any instance lists them\n" << status.dump();
  ASSERT_TRUE(receiver_.Start());
  ASSERT_TRUE(WaitForCount(6)) << receiver_.Received().size();
  // Leave time for a duplicate to show up, should any instance send one.
  std::this_thread::sleep_for(3s);
  std::vector<WebhookRequest> received = receiver_.Received();
  std::map<std::string, int> ids;
  for (const WebhookRequest& r : received) ++ids[Json::parse(r.body)["id"].get<std::string>()];
  EXPECT_EQ(received.size(), 6u);
  EXPECT_EQ(ids.size(), 6u) << "each event once";
  std::multiset<std::string> types;
  for (const std::string& t : Types(received)) types.insert(t);
  EXPECT_EQ(types.count("maintenance.on"), 2u);
  EXPECT_EQ(types.count("maintenance.off"), 2u);
  EXPECT_EQ(types.count("room.mode"), 2u);
  ExpectAllSigned();

  // A promise every instance sees broken: one incident.update_overdue.
  Json opened = Call(*instances[0], "POST", "/v1/incidents",
                     R"({"title": "Slow search", "message": "Search is slow.",
                         "impact": "degraded", "next_update": ")" +
                         InSeconds(3) + R"("})",
                     201);
  ASSERT_TRUE(receiver_.WaitFor(
      [](const auto& r) {
        for (const std::string& t : Types(r)) {
          if (t == "incident.update_overdue") return true;
        }
        return false;
      },
      20s));
  std::this_thread::sleep_for(3s);  // time for a second one, should any instance send it
  std::vector<std::string> all = Types(receiver_.Received());
  EXPECT_EQ(std::count(all.begin(), all.end(), "incident.opened"), 1);
  EXPECT_EQ(std::count(all.begin(), all.end(), "incident.update_overdue"), 1);
  for (auto& t : instances) {
    auto conn = ConnectOrFail(t->admin_port());
    ASSERT_TRUE(conn);
    conn->Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    HttpMessage m = ReadResponse(*conn);
    EXPECT_NE(m.body.find("tidegate_incidents_update_overdue 1"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("tidegate_incident_updates_overdue_total 1"), std::string::npos);
  }
  for (auto& t : instances) EXPECT_EQ(t->Stop(10s), 0) << t->Stderr();
}

TEST_F(NotifyTest, APendingDeliverySurvivesRedisRestartedEmpty) {
  if (!RedisServer::Available()) {
    GTEST_SKIP() << RedisServer::Binary() << " is not installed: shared outbox test skipped";
  }
  auto redis = StartRedisOrFail(dir_);
  ASSERT_TRUE(redis);
  std::string state = "[state]\nbackend = \"redis\"\nredis = \"" + redis->address() +
                      "\"\nredis_timeout = \"500ms\"\nresync_interval = \"500ms\"\n";
  auto ra = Start("ra", state);
  ASSERT_TRUE(ra);
  auto rb = Start("rb", state);
  ASSERT_TRUE(rb);

  // The receiver refuses: maintenance.on stays pending in Redis.
  receiver_.set_status(500);
  MaintenanceOn(*ra);
  ASSERT_TRUE(WaitForCount(1)) << "attempted once at least";
  Json status = Call(*rb, "GET", "/v1/notify");
  ASSERT_EQ(status["pending"].size(), 1u) << status.dump();
  std::string event_id = status["pending"][0]["event_id"];

  // Redis restarts with nothing (no persistence).
  ASSERT_TRUE(redis->Stop());
  std::string error;
  ASSERT_TRUE(redis->Restart(&error)) << error;
  size_t before = receiver_.Received().size();
  receiver_.set_status(204);

  // Delivered after the restart: a POST answered 204 carries the event.
  ASSERT_TRUE(receiver_.WaitFor(
      [&](const std::vector<WebhookRequest>& r) {
        for (size_t i = before; i < r.size(); ++i) {
          Json body = Json::parse(r[i].body, nullptr, false);
          if (body.is_object() && body.value("id", "") == event_id) return true;
        }
        return false;
      },
      20s))
      << "the pending delivery was lost with Redis\n"
      << Call(*ra, "GET", "/v1/notify").dump() << "\n"
      << ra->Stderr();
  ExpectAllSigned();
  EXPECT_TRUE(receiver_.WaitFor(
      [&](const auto&) { return Call(*ra, "GET", "/v1/notify")["pending"].empty(); }, 5s));
  // Delivered once: one 2xx across both instances, and no POST after it
  // (the instance that wrote it back second finds it delivered).
  size_t delivered_at = receiver_.Received().size();
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(receiver_.Received().size(), delivered_at);
  double delivered = 0;
  double restored = 0;
  for (TidegateProcess* t : {ra.get(), rb.get()}) {
    delivered +=
        ReadMetric(t->admin_port(), "tidegate_notify_deliveries_total{result=\"delivered\"}")
            .value_or(0);
    restored += ReadMetric(t->admin_port(), "tidegate_notify_outbox_restored_total").value_or(0);
  }
  EXPECT_EQ(delivered, 1);

  // Counted and logged by whoever wrote it back.
  EXPECT_GE(restored, 1) << "tidegate_notify_outbox_restored_total";
  EXPECT_NE((ra->Stderr() + rb->Stderr()).find("notify.outbox_restored"), std::string::npos)
      << ra->Stderr();
  EXPECT_EQ(ra->Stop(10s), 0) << ra->Stderr();
  EXPECT_EQ(rb->Stop(10s), 0) << rb->Stderr();
}

}  // namespace
}  // namespace tidegate::itest
