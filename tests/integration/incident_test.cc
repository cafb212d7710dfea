// Incidents through real processes (docs/incidents.md): tidegate in front of
// the demo shop, driven through the admin API and `tidegate ctl`.
// * Open → the shop's pages carry the banner, /checkout answers 503 (the
//   maintenance the incident applied), the room it put in queue_all queues;
//   update → two entries in the timeline; resolve → everything the incident
//   applied is gone, an operator's own banner set meanwhile stays, the
//   closing message is in the history; a restart keeps the history (local
//   state file).
// * Two incidents: every page, the status page included, leads with the
//   more severe; two on the same feature: resolving the one that set its
//   maintenance hands it to the other (also across a restart and Redis).
// * `tidegate ctl incident open|update|list|resolve` over the same routes.
// * Two instances on a real redis-server: an incident opened on A is in
//   force on B, resolved on B, gone on A; one shared audit entry per change.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/redis_server.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/shopper.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr char kViewer[] = "incident-viewer-token-0123456789abcdef012";
constexpr char kOperator[] = "incident-operator-token-0123456789abcdef0";
constexpr char kBannerMarker[] = "data-tidegate-banner";

// `state` is the [state] table's keys (local by default).
std::string IncidentConfig(uint16_t origin_port, const std::string& name,
                           const std::string& state = "") {
  return "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 1\ndrain_timeout = \"5s\"\n"
         "\n[upstream]\nservers = [\"127.0.0.1:" +
         std::to_string(origin_port) +
         "\"]\nconnect_timeout = \"1s\"\nresponse_timeout = \"5s\"\n"
         "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\naudit_log = \"${DIR}/audit-" +
         name +
         ".jsonl\"\n"
         "tokens = [\n  { name = \"dashboard\", token_sha256 = \"" +
         Sha256Hex(kViewer) + "\", role = \"viewer\" },\n  { name = \"ops\", token_sha256 = \"" +
         Sha256Hex(kOperator) +
         "\", role = \"operator\" },\n]\n"
         "\n[state]\n" +
         (state.empty() ? "path = \"${DIR}/state-" + name + "\"\n" : state) +
         "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
         "\n[features.checkout]\nmatch = [{ path = \"^/checkout\" }]\n"
         "\n[rooms.sale]\nmatch = [\"^/sale\"]\ntotal_active_users = 1000\n"
         "new_users_per_minute = 1000\n";
}

struct Reply {
  HttpMessage http;
  Json json;  // null when the body is not JSON
};

Reply Call(uint16_t port, const std::string& method, const std::string& target,
           const std::string& token, const std::string& body = "") {
  Reply reply;
  auto conn = ConnectOrFail(port);
  if (!conn) return reply;
  std::string host = token.empty() ? "shop.test" : "127.0.0.1";
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty()) {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "Accept: text/html\r\nConnection: close\r\n\r\n" + body;
  EXPECT_TRUE(conn->Send(request));
  reply.http = ReadResponse(*conn);
  EXPECT_TRUE(reply.http.ok) << reply.http.error;
  reply.json = Json::parse(reply.http.body, nullptr, /*allow_exceptions=*/false);
  if (reply.json.is_discarded()) reply.json = nullptr;
  return reply;
}

// Polls `check` until true or `limit` passes (bounded).
bool WaitFor(const std::function<bool()>& check, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  do {
    if (check()) return true;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

const char kOpenBody[] = R"({"title": "Card payments failing",
  "message": "Card payments fail at the moment; your basket is kept.",
  "impact": "partial_outage", "features": ["checkout"], "banner": true, "next_update": "30m",
  "room": {"name": "sale", "mode": "queue_all"}})";

class IncidentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.File("k1")) << "incident-test-signing-key-0123456789abcd\n";
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
    options.config = IncidentConfig(shop_->port(), name, state);
    return StartTidegateOrFail(dir_, options);
  }
  Json State(TidegateProcess& t) {
    Reply r = Call(t.admin_port(), "GET", "/v1/state", kViewer);
    EXPECT_EQ(r.http.status, 200) << r.http.body;
    return r.json;
  }

  TempDir dir_;
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<TidegateProcess> a_, b_;
};

TEST_F(IncidentTest, OpenUpdateResolveOnTheShop) {
  a_ = Start("a");
  ASSERT_TRUE(a_);
  uint16_t shop = a_->port(), admin = a_->admin_port();
  // Before: the shop is itself.
  EXPECT_EQ(Call(shop, "GET", "/", "").http.body.find(kBannerMarker), std::string::npos);
  EXPECT_EQ(Call(shop, "GET", "/checkout", "").http.status, 200);
  EXPECT_FALSE(IsQueuePage(Call(shop, "GET", "/sale", "").http));

  Reply open = Call(admin, "POST", "/v1/incidents", kOperator, kOpenBody);
  ASSERT_EQ(open.http.status, 201) << open.http.body;
  std::string id = open.json["id"];
  // Every page has the banner with the incident's words, /checkout is
  // under maintenance, the sale room queues everyone.
  Reply home = Call(shop, "GET", "/", "");
  EXPECT_NE(home.http.body.find(kBannerMarker), std::string::npos);
  EXPECT_NE(home.http.body.find("Card payments fail at the moment"), std::string::npos)
      << home.http.body.substr(0, 1500);
  EXPECT_EQ(Call(shop, "GET", "/checkout", "").http.status, 503);
  EXPECT_TRUE(IsQueuePage(Call(shop, "GET", "/sale", "").http));
  Reply list = Call(admin, "GET", "/v1/incidents", kViewer);
  ASSERT_EQ(list.json["incidents"].size(), 1u) << list.http.body;
  EXPECT_EQ(list.json["incidents"][0]["id"], id);
  EXPECT_EQ(list.json["incidents"][0]["open"], true);

  Reply update = Call(admin, "POST", "/v1/incidents/" + id + "/updates", kOperator,
                      R"({"status": "identified", "message": "The provider found the fault.",
                          "next_update": "1h"})");
  ASSERT_EQ(update.http.status, 200) << update.http.body;
  Reply shown = Call(admin, "GET", "/v1/incidents/" + id, kViewer);
  ASSERT_EQ(shown.json["incident"]["updates"].size(), 2u) << shown.http.body;
  EXPECT_EQ(shown.json["incident"]["status"], "identified");
  EXPECT_NE(Call(shop, "GET", "/", "").http.body.find("The provider found the fault."),
            std::string::npos);

  // An operator sets their own banner while the incident is open: it is
  // theirs now, and the resolve leaves it.
  Reply own = Call(admin, "PUT", "/v1/banner", kOperator,
                   R"({"message": "Pay by bank transfer meanwhile", "severity": "warning"})");
  ASSERT_EQ(own.http.status, 200) << own.http.body;

  Reply resolve = Call(admin, "POST", "/v1/incidents/" + id + "/resolve", kOperator,
                       R"({"message": "Card payments work again. Sorry for the trouble."})");
  ASSERT_EQ(resolve.http.status, 200) << resolve.http.body;
  EXPECT_EQ(Call(shop, "GET", "/checkout", "").http.status, 200);
  // (The sale room is back to its configured mode, below; the visitor it
  // queued meanwhile is still first in line, so a newcomer queues behind
  // until that one is admitted: fair, not a leftover of the incident.)
  home = Call(shop, "GET", "/", "");
  EXPECT_NE(home.http.body.find("Pay by bank transfer meanwhile"), std::string::npos);
  Json state = State(*a_);
  EXPECT_TRUE(state["incidents"].empty());
  EXPECT_EQ(state["features"]["checkout"]["under_maintenance"], false);
  EXPECT_EQ(state["rooms"]["sale"]["mode"]["source"], "config");
  EXPECT_EQ(state["version"], 4);  // open, update, banner, resolve: one version each

  // The history survives a restart (local state file).
  ASSERT_EQ(a_->Stop(10s), 0) << a_->Stderr();
  a_ = Start("a");
  ASSERT_TRUE(a_);
  list = Call(a_->admin_port(), "GET", "/v1/incidents", kViewer);
  ASSERT_EQ(list.json["incidents"].size(), 1u) << list.http.body;
  EXPECT_EQ(list.json["incidents"][0]["open"], false);
  EXPECT_EQ(list.json["incidents"][0]["updates"].size(), 3u);
  EXPECT_EQ(list.json["incidents"][0]["updates"][2]["message"],
            "Card payments work again. Sorry for the trouble.");
}

// Two incidents on the banner at once: a major outage, then a milder one
// opened later (its banner replaces the outage's). Every shopper surface
// tells the outage — banner (as critical), maintenance page, queue page —
// and GET /v1/state says so; once the outage is resolved the banner tells
// the milder one, and after both nothing is left.
TEST_F(IncidentTest, TwoIncidentsTellOneStoryOnEveryPage) {
  a_ = Start("a");
  ASSERT_TRUE(a_);
  uint16_t shop = a_->port(), admin = a_->admin_port();
  Reply outage = Call(admin, "POST", "/v1/incidents", kOperator,
                      R"({"title": "Shop down", "message": "The shop is down; we are on it.",
                          "impact": "major_outage", "features": ["checkout"], "banner": true,
                          "room": {"name": "sale", "mode": "queue_all"}})");
  ASSERT_EQ(outage.http.status, 201) << outage.http.body;
  Reply slow = Call(admin, "POST", "/v1/incidents", kOperator,
                    R"({"title": "Slow search", "message": "Search is slow right now.",
                        "impact": "degraded", "banner": true})");
  ASSERT_EQ(slow.http.status, 201) << slow.http.body;
  std::string outage_id = outage.json["id"], slow_id = slow.json["id"];

  auto banner_tells = [&](const std::string& words) {
    std::string body = Call(shop, "GET", "/", "").http.body;
    return body.find(kBannerMarker) != std::string::npos && body.find(words) != std::string::npos;
  };
  std::string home = Call(shop, "GET", "/", "").http.body;
  EXPECT_NE(home.find("The shop is down; we are on it."), std::string::npos)
      << home.substr(0, 1500);
  EXPECT_EQ(home.find("Search is slow right now."), std::string::npos) << home.substr(0, 1500);
  EXPECT_NE(home.find("tidegate-banner--critical"), std::string::npos) << home.substr(0, 1500);
  Reply checkout = Call(shop, "GET", "/checkout", "");
  EXPECT_EQ(checkout.http.status, 503);
  EXPECT_NE(checkout.http.body.find("The shop is down; we are on it."), std::string::npos);
  Reply sale = Call(shop, "GET", "/sale", "");
  EXPECT_TRUE(IsQueuePage(sale.http));
  EXPECT_NE(sale.http.body.find("The shop is down; we are on it."), std::string::npos);
  EXPECT_EQ(sale.http.body.find("Search is slow right now."), std::string::npos);
  Json state = State(*a_);
  EXPECT_EQ(state["headline_incident"], outage_id);
  EXPECT_EQ(state["banner"]["incident"], outage_id) << state["banner"].dump();
  EXPECT_EQ(state["banner"]["message"], "The shop is down; we are on it.");
  EXPECT_EQ(state["banner"]["severity"], "critical");
  EXPECT_EQ(state["banner"]["override"]["incident_id"], slow_id);
  // The status page leads with the same incident (HTML and status.json),
  // though the milder one started later.
  Reply status_json = Call(shop, "GET", "/.tidegate/status.json", "");
  ASSERT_EQ(status_json.http.status, 200) << status_json.http.body;
  ASSERT_GE(status_json.json["incidents"].size(), 2u) << status_json.http.body;
  EXPECT_EQ(status_json.json["incidents"][0]["id"], outage_id) << status_json.http.body;
  EXPECT_EQ(status_json.json["incidents"][1]["id"], slow_id) << status_json.http.body;
  std::string status_html = Call(shop, "GET", "/.tidegate/status", "").http.body;
  size_t outage_at = status_html.find("Shop down"), slow_at = status_html.find("Slow search");
  ASSERT_NE(outage_at, std::string::npos) << status_html;
  EXPECT_LT(outage_at, slow_at) << status_html;

  // An update of the milder incident does not take the banner over.
  ASSERT_EQ(Call(admin, "POST", "/v1/incidents/" + slow_id + "/updates", kOperator,
                 R"({"message": "Search is still slow."})")
                .http.status,
            200);
  EXPECT_TRUE(banner_tells("The shop is down; we are on it."));
  // The outage's update does show.
  ASSERT_EQ(Call(admin, "POST", "/v1/incidents/" + outage_id + "/updates", kOperator,
                 R"({"status": "identified", "message": "A database failed; restoring."})")
                .http.status,
            200);
  EXPECT_TRUE(banner_tells("A database failed; restoring."));

  // The outage resolved: the milder incident speaks, as a warning.
  ASSERT_EQ(Call(admin, "POST", "/v1/incidents/" + outage_id + "/resolve", kOperator,
                 R"({"message": "The shop is back."})")
                .http.status,
            200);
  home = Call(shop, "GET", "/", "").http.body;
  EXPECT_NE(home.find("Search is still slow."), std::string::npos) << home.substr(0, 1500);
  EXPECT_NE(home.find("tidegate-banner--warning"), std::string::npos) << home.substr(0, 1500);
  EXPECT_EQ(Call(shop, "GET", "/checkout", "").http.status, 200);
  EXPECT_EQ(State(*a_)["banner"]["incident"], slow_id);

  ASSERT_EQ(Call(admin, "POST", "/v1/incidents/" + slow_id + "/resolve", kOperator,
                 R"({"message": "Search is fast again."})")
                .http.status,
            200);
  EXPECT_EQ(Call(shop, "GET", "/", "").http.body.find(kBannerMarker), std::string::npos);
  state = State(*a_);
  EXPECT_TRUE(state["banner"]["incident"].is_null()) << state["banner"].dump();
  EXPECT_TRUE(state["headline_incident"].is_null());
}

const char kPartialOnCheckout[] = R"({"title": "Card payments failing",
  "message": "Card payments fail; checkout is paused.", "impact": "partial_outage",
  "features": ["checkout"]})";
const char kMajorOnCheckout[] = R"({"title": "Checkout down",
  "message": "Checkout is down; we are restoring it.", "impact": "major_outage",
  "features": ["checkout"]})";

// Two incidents asking for checkout's maintenance: the first sets it, the
// second is told it was left as it was. Resolving the first hands it to the
// second (still open, still naming checkout): shoppers keep the maintenance
// page with the second's words, until the second is resolved. The hand-over
// survives a restart (the state file keeps what each incident asked for).
TEST_F(IncidentTest, MaintenanceIsHandedToTheIncidentStillOpen) {
  a_ = Start("a");
  ASSERT_TRUE(a_);
  uint16_t shop = a_->port(), admin = a_->admin_port();
  Reply first = Call(admin, "POST", "/v1/incidents", kOperator, kPartialOnCheckout);
  ASSERT_EQ(first.http.status, 201) << first.http.body;
  Reply second = Call(admin, "POST", "/v1/incidents", kOperator, kMajorOnCheckout);
  ASSERT_EQ(second.http.status, 201) << second.http.body;
  EXPECT_EQ(second.json["maintenance_left_as_it_was"], Json::array({"checkout"}));
  std::string first_id = first.json["id"], second_id = second.json["id"];

  ASSERT_EQ(a_->Stop(10s), 0) << a_->Stderr();
  a_ = Start("a");
  ASSERT_TRUE(a_);
  shop = a_->port();
  admin = a_->admin_port();
  ASSERT_EQ(Call(admin, "POST", "/v1/incidents/" + first_id + "/resolve", kOperator,
                 R"({"message": "Payments work again."})")
                .http.status,
            200);
  Reply checkout = Call(shop, "GET", "/checkout", "");
  EXPECT_EQ(checkout.http.status, 503) << "the open outage still names checkout";
  EXPECT_NE(checkout.http.body.find("Checkout is down; we are restoring it."), std::string::npos)
      << checkout.http.body.substr(0, 2000);
  Json state = State(*a_);
  EXPECT_EQ(state["features"]["checkout"]["maintenance"]["incident_id"], second_id)
      << state["features"].dump();
  ASSERT_EQ(state["incidents"].size(), 1u);
  EXPECT_EQ(state["incidents"][0]["applied"]["maintenance"], Json::array({"checkout"}));

  ASSERT_EQ(Call(admin, "POST", "/v1/incidents/" + second_id + "/resolve", kOperator,
                 R"({"message": "Checkout is back."})")
                .http.status,
            200);
  EXPECT_EQ(Call(shop, "GET", "/checkout", "").http.status, 200);
  EXPECT_TRUE(State(*a_)["features"]["checkout"]["maintenance"].is_null());
}

TEST_F(IncidentTest, CtlDrivesTheLifecycle) {
  a_ = Start("a");
  ASSERT_TRUE(a_);
  std::string token_file = dir_.Write("ops.token", std::string(kOperator) + "\n");
  int runs = 0;
  auto ctl = [&](std::vector<std::string> args, std::string* out) {
    ProcessOptions po;
    po.argv = {TidegateBinary(), "ctl",
               "--admin",        "http://127.0.0.1:" + std::to_string(a_->admin_port()),
               "--token-file",   token_file};
    po.argv.insert(po.argv.end(), args.begin(), args.end());
    po.log_dir = dir_.path();
    po.name = "ctl" + std::to_string(++runs);
    std::string error;
    auto proc = Process::Start(po, &error);
    if (!proc) {
      ADD_FAILURE() << error;
      return -1;
    }
    int status = proc->WaitExit(20s).value_or(-1);
    *out = proc->Stdout() + proc->Stderr();
    return status;
  };
  std::string out;
  ASSERT_EQ(ctl({"--json", "incident", "open", "--title", "Checkout down", "--message",
                 "Checkout is paused.", "--impact", "major_outage", "--features", "checkout",
                 "--banner", "--next-update", "15m"},
                &out),
            0)
      << out;
  Json opened = Json::parse(out, nullptr, false);
  ASSERT_TRUE(opened.is_object()) << out;
  std::string id = opened["id"];
  EXPECT_EQ(Call(a_->port(), "GET", "/checkout", "").http.status, 503);

  ASSERT_EQ(ctl({"incident", "update", id, "--status", "monitoring", "--message",
                 "Fixed; watching.", "--next-update", "30m"},
                &out),
            0)
      << out;
  EXPECT_NE(out.find("monitoring"), std::string::npos) << out;
  ASSERT_EQ(ctl({"incident", "list"}, &out), 0) << out;
  EXPECT_NE(out.find(id), std::string::npos) << out;
  EXPECT_NE(out.find("Checkout down"), std::string::npos) << out;
  // The closing message is required, by ctl as by the API.
  EXPECT_EQ(ctl({"incident", "resolve", id}, &out), 2) << out;
  ASSERT_EQ(ctl({"incident", "resolve", id, "--message", "All good again."}, &out), 0) << out;
  EXPECT_NE(out.find("resolved"), std::string::npos) << out;
  EXPECT_EQ(Call(a_->port(), "GET", "/checkout", "").http.status, 200);
  EXPECT_EQ(ctl({"incident", "update", id, "--message", "again"}, &out), 1);
  EXPECT_NE(out.find("incident_resolved"), std::string::npos) << out;
}

TEST_F(IncidentTest, SharedThroughRedisBetweenInstances) {
  if (!RedisServer::Available()) {
    GTEST_SKIP() << RedisServer::Binary() << " is not installed: Redis incident test skipped";
  }
  auto redis = StartRedisOrFail(dir_);
  ASSERT_TRUE(redis);
  std::string state = "backend = \"redis\"\nredis = \"" + redis->address() +
                      "\"\nredis_timeout = \"500ms\"\nresync_interval = \"500ms\"\n";
  a_ = Start("a", state);
  b_ = Start("b", state);
  ASSERT_TRUE(a_ && b_);

  Reply open = Call(a_->admin_port(), "POST", "/v1/incidents", kOperator, kOpenBody);
  ASSERT_EQ(open.http.status, 201) << open.http.body;
  std::string id = open.json["id"];
  ASSERT_TRUE(WaitFor([&] { return State(*b_)["incidents"].size() == 1; }, 5s))
      << State(*b_).dump();
  EXPECT_EQ(Call(b_->port(), "GET", "/checkout", "").http.status, 503);
  EXPECT_TRUE(IsQueuePage(Call(b_->port(), "GET", "/sale", "").http));

  Reply update = Call(b_->admin_port(), "POST", "/v1/incidents/" + id + "/updates", kOperator,
                      R"({"message": "Still investigating."})");
  ASSERT_EQ(update.http.status, 200) << update.http.body;
  Reply resolve = Call(b_->admin_port(), "POST", "/v1/incidents/" + id + "/resolve", kOperator,
                       R"({"message": "Resolved."})");
  ASSERT_EQ(resolve.http.status, 200) << resolve.http.body;
  ASSERT_TRUE(WaitFor([&] { return State(*a_)["incidents"].empty(); }, 5s)) << State(*a_).dump();
  EXPECT_TRUE(
      WaitFor([&] { return Call(a_->port(), "GET", "/checkout", "").http.status == 200; }, 5s));
  Reply list = Call(a_->admin_port(), "GET", "/v1/incidents", kViewer);
  ASSERT_EQ(list.json["incidents"].size(), 1u) << list.http.body;
  EXPECT_EQ(list.json["incidents"][0]["updates"].size(), 3u);

  Reply audit = Call(a_->admin_port(), "GET", "/v1/audit", kViewer);
  ASSERT_EQ(audit.json["source"], "shared") << audit.http.body;
  ASSERT_EQ(audit.json["records"].size(), 3u) << audit.http.body;
  EXPECT_EQ(audit.json["records"][0]["change"], "open_incident");
  EXPECT_EQ(audit.json["records"][0]["target"], id);
  EXPECT_EQ(audit.json["records"][1]["change"], "update_incident");
  EXPECT_EQ(audit.json["records"][2]["change"], "resolve_incident");
  EXPECT_TRUE(audit.json["records"][2]["after"]["maintenance"]["checkout"].is_null());

  // Two incidents on checkout, opened on different instances: resolving the
  // one that set the maintenance (on B) hands it to the other, on both.
  Reply first = Call(a_->admin_port(), "POST", "/v1/incidents", kOperator, kPartialOnCheckout);
  ASSERT_EQ(first.http.status, 201) << first.http.body;
  ASSERT_TRUE(WaitFor([&] { return State(*b_)["incidents"].size() == 1; }, 5s));
  Reply second = Call(b_->admin_port(), "POST", "/v1/incidents", kOperator, kMajorOnCheckout);
  ASSERT_EQ(second.http.status, 201) << second.http.body;
  std::string first_id = first.json["id"], second_id = second.json["id"];
  ASSERT_TRUE(WaitFor([&] { return State(*a_)["incidents"].size() == 2; }, 5s));
  ASSERT_EQ(Call(a_->admin_port(), "POST", "/v1/incidents/" + first_id + "/resolve", kOperator,
                 R"({"message": "Payments work again."})")
                .http.status,
            200);
  EXPECT_TRUE(WaitFor(
      [&] { return State(*b_)["features"]["checkout"]["maintenance"]["incident_id"] == second_id; },
      5s))
      << State(*b_)["features"].dump();
  EXPECT_EQ(Call(b_->port(), "GET", "/checkout", "").http.status, 503);
  EXPECT_EQ(Call(a_->port(), "GET", "/checkout", "").http.status, 503);
}

}  // namespace
}  // namespace tidegate::itest
