// The admin API wired into the real tidegate binary: its own listener on a
// free loopback port, tokens and roles, changes audited (with the token's
// name), /metrics counting proxied requests, overrides surviving SIGHUP,
// `tidegate ctl` as a subprocess, and the shop's port never serving it.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/admin_metrics.h"
#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/scripted_origin.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;

constexpr char kViewerToken[] = "viewer-token-0123456789abcdef0123456789";
constexpr char kOperatorToken[] = "operator-token-0123456789abcdef012345678";
constexpr char kLateToken[] = "late-token-0123456789abcdef0123456789abc";

// A full config (not ProxyConfig: the [admin] table needs tokens and the
// audit log key). `extra_tokens` and `admin_keys` are TOML text.
std::string AdminConfig(uint16_t origin_port, const std::string& extra_tokens = "",
                        const std::string& admin_keys = "") {
  return "[server]\n"
         "listen = [\"127.0.0.1:${PORT}\"]\n"
         "workers = 2\n"
         "drain_timeout = \"5s\"\n"
         "\n[upstream]\n"
         "servers = [\"127.0.0.1:" +
         std::to_string(origin_port) +
         "\"]\n"
         "connect_timeout = \"1s\"\n"
         "response_timeout = \"5s\"\n"
         "\n[admin]\n"
         "listen = \"127.0.0.1:${ADMIN_PORT}\"\n"
         "audit_log = \"${DIR}/admin-audit.jsonl\"\n" +
         admin_keys +
         "tokens = [\n"
         "  { name = \"dashboard\", token_sha256 = \"" +
         Sha256Hex(kViewerToken) +
         "\", role = \"viewer\" },\n"
         "  { name = \"ops\", token_sha256 = \"" +
         Sha256Hex(kOperatorToken) + "\", role = \"operator\" },\n" + extra_tokens +
         "]\n"
         "\n[features.checkout]\n"
         "match = [{ path = \"^/checkout\" }]\n";
}

struct AdminReply {
  HttpMessage http;
  Json json;  // null when the body is not JSON
};

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    origin_ = std::make_unique<ScriptedOrigin>(ServeOkForever());
    Start(AdminConfig(origin_->port()));
  }

  void Start(const std::string& config) {
    TidegateOptions options;
    options.config = config;
    tidegate_ = StartTidegateOrFail(dir_, options);
    if (tidegate_) admin_port_ = tidegate_->admin_port();
  }

  void TearDown() override {
    if (!tidegate_) return;
    ASSERT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
    std::optional<int> status = tidegate_->Stop(std::chrono::seconds(10));
    EXPECT_EQ(status, 0) << "stderr:\n" << tidegate_->Stderr();
  }

  // One request on a fresh connection to `port` (the admin port by default).
  AdminReply Call(const std::string& method, const std::string& target,
                  const std::optional<std::string>& token, const std::string& body = "",
                  uint16_t port = 0) {
    AdminReply reply;
    auto conn = ConnectOrFail(port != 0 ? port : admin_port_);
    if (!conn) return reply;
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + host_ + "\r\n";
    if (token) request += "Authorization: Bearer " + *token + "\r\n";
    if (!body.empty() || method == "PUT") {
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

  Json State() {
    AdminReply r = Call("GET", "/v1/state", std::string(kViewerToken));
    EXPECT_EQ(r.http.status, 200) << r.http.body;
    return r.json;
  }

  // The value of one sample line of /metrics ("name{labels}"), -1 when absent.
  double Metric(const std::string& sample) {
    return ReadMetric(tidegate_->admin_port(), sample).value_or(-1);
  }

  std::string WriteTokenFile(const std::string& name, const std::string& token) {
    return dir_.Write(name, token + "\n");
  }

  // Runs `tidegate ctl --admin http://127.0.0.1:ADMIN --token-file F <args>`.
  struct CtlResult {
    int status = -1;
    std::string out, err;
  };
  CtlResult Ctl(const std::string& token_file, const std::vector<std::string>& args) {
    ProcessOptions po;
    po.argv = {TidegateBinary(), "ctl",
               "--admin",        "http://127.0.0.1:" + std::to_string(admin_port_),
               "--token-file",   token_file};
    po.argv.insert(po.argv.end(), args.begin(), args.end());
    po.log_dir = dir_.path();
    po.name = "ctl" + std::to_string(++ctl_runs_);
    std::string error;
    CtlResult result;
    auto proc = Process::Start(po, &error);
    if (!proc) {
      result.err = error;
      return result;
    }
    result.status = proc->WaitExit(std::chrono::seconds(30)).value_or(-1);
    result.out = proc->Stdout();
    result.err = proc->Stderr();
    return result;
  }

  TempDir dir_;
  std::unique_ptr<ScriptedOrigin> origin_;
  std::unique_ptr<TidegateProcess> tidegate_;
  uint16_t admin_port_ = 0;
  int ctl_runs_ = 0;
  std::string host_ = "127.0.0.1";  // the Host header Call() sends
};

constexpr char kMaintenanceBody[] = R"({"message": "Checkout is being upgraded"})";

TEST_F(AdminTest, StateAnswersAViewerAndRefusesMissingOrWrongTokens) {
  ASSERT_TRUE(tidegate_);
  AdminReply ok = Call("GET", "/v1/state", std::string(kViewerToken));
  ASSERT_EQ(ok.http.status, 200) << ok.http.body;
  ASSERT_TRUE(ok.json.is_object()) << ok.http.body;
  EXPECT_TRUE(ok.json.contains("version"));
  ASSERT_TRUE(ok.json["features"].contains("checkout")) << ok.http.body;
  EXPECT_EQ(ok.json["features"]["checkout"]["under_maintenance"], false);

  AdminReply missing = Call("GET", "/v1/state", std::nullopt);
  EXPECT_EQ(missing.http.status, 401) << missing.http.body;
  EXPECT_TRUE(missing.http.HasHeader("WWW-Authenticate"));
  EXPECT_EQ(missing.json.value("error", ""), "unauthorized") << missing.http.body;

  AdminReply wrong = Call("GET", "/v1/state", std::string("not-a-configured-token"));
  EXPECT_EQ(wrong.http.status, 401) << wrong.http.body;
}

// Audit 10 F9: HEAD on a GET route was 405 (RFC 9110 §9.1: a general-purpose
// server supports HEAD). Now the GET answer's status and fields, no body.
TEST_F(AdminTest, HeadAnswersLikeGetWithoutTheBody) {
  ASSERT_TRUE(tidegate_);
  auto head = [&](const std::string& path, const std::string& extra) {
    auto conn = ConnectOrFail(admin_port_);
    EXPECT_TRUE(conn &&
                conn->Send("HEAD " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n"));
    ReadOptions options;
    options.head_request = true;
    HttpMessage r = conn ? ReadResponse(*conn, options) : HttpMessage{};
    // Nothing may follow the head: a body would be read as the next response.
    if (conn) {
      conn->ReadMore(std::chrono::milliseconds(200));
      EXPECT_EQ(conn->buffer(), "") << "bytes after a HEAD response";
    }
    return r;
  };
  const std::string viewer = "Authorization: Bearer " + std::string(kViewerToken) + "\r\n";
  AdminReply get = Call("GET", "/v1/state", std::string(kViewerToken));
  HttpMessage r = head("/v1/state", viewer);
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.Header("Content-Type").value_or(""), "application/json") << r.raw;
  EXPECT_GT(std::stoul(r.Header("Content-Length").value_or("0")), 0u) << r.raw;
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(head("/v1/state", "").status, 401);
  r = head("/v1/bypass", viewer);
  EXPECT_EQ(r.status, 405) << r.raw;
  EXPECT_EQ(r.Header("Allow").value_or(""), "POST") << r.raw;
  r = head("/v1/incidents/x/updates", viewer);
  EXPECT_EQ(r.status, 405) << r.raw;
  r = head("/v1/rooms/shop", viewer);
  EXPECT_EQ(r.status, 405) << r.raw;
  EXPECT_EQ(Call("DELETE", "/v1/state", std::string(kViewerToken)).http.Header("Allow"),
            std::optional<std::string>("GET, HEAD"));
}

TEST_F(AdminTest, MaintenanceChangeNeedsAnOperatorAndIsAuditedWithTheTokenName) {
  ASSERT_TRUE(tidegate_);
  const std::string route = "/v1/features/checkout/maintenance";
  uint64_t version = State()["version"].get<uint64_t>();

  AdminReply viewer = Call("PUT", route, std::string(kViewerToken), kMaintenanceBody);
  EXPECT_EQ(viewer.http.status, 403) << viewer.http.body;
  EXPECT_EQ(viewer.json.value("error", ""), "forbidden");

  AdminReply anonymous = Call("PUT", route, std::nullopt, kMaintenanceBody);
  EXPECT_EQ(anonymous.http.status, 401) << anonymous.http.body;

  AdminReply in_query =
      Call("PUT", route + "?token=" + kOperatorToken, std::nullopt, kMaintenanceBody);
  EXPECT_EQ(in_query.http.status, 400) << in_query.http.body;
  EXPECT_EQ(in_query.json.value("error", ""), "credentials_in_query");

  AdminReply malformed = Call("PUT", route, std::string(kOperatorToken), "{\"message\": ");
  EXPECT_EQ(malformed.http.status, 400) << malformed.http.body;
  EXPECT_EQ(malformed.json.value("error", ""), "malformed_json");

  Json unchanged = State();
  EXPECT_EQ(unchanged["version"].get<uint64_t>(), version) << "a refused request changed state";
  EXPECT_EQ(unchanged["features"]["checkout"]["under_maintenance"], false);
  EXPECT_EQ(ReadFile(dir_.File("admin-audit.jsonl")), "") << "a refused request was audited";

  AdminReply applied = Call("PUT", route, std::string(kOperatorToken), kMaintenanceBody);
  ASSERT_EQ(applied.http.status, 200) << applied.http.body;
  EXPECT_EQ(applied.json["applied"], true) << applied.http.body;

  Json after = State();
  EXPECT_GT(after["version"].get<uint64_t>(), version);
  EXPECT_EQ(after["features"]["checkout"]["under_maintenance"], true) << after.dump();
  EXPECT_EQ(after["features"]["checkout"]["source"], "runtime");

  AdminReply audit = Call("GET", "/v1/audit", std::string(kViewerToken));
  ASSERT_EQ(audit.http.status, 200) << audit.http.body;
  ASSERT_EQ(audit.json["records"].size(), 1u) << audit.http.body;
  const Json& record = audit.json["records"][0];
  EXPECT_EQ(record["token"], "ops");
  EXPECT_EQ(record["method"], "PUT");
  EXPECT_EQ(record["route"], route);
  EXPECT_EQ(record["after"]["message"], "Checkout is being upgraded");

  // [admin].audit_log is where the record went (one JSON line).
  std::string file = ReadFile(dir_.File("admin-audit.jsonl"));
  EXPECT_EQ(CountOccurrences(file, "\n"), 1) << file;
  EXPECT_NE(file.find("\"token\":\"ops\""), std::string::npos) << file;
}

TEST_F(AdminTest, MetricsArePrometheusTextAndCountProxiedRequests) {
  ASSERT_TRUE(tidegate_);
  AdminReply first = Call("GET", "/metrics", std::nullopt);  // loopback: no token needed
  ASSERT_EQ(first.http.status, 200) << first.http.body;
  EXPECT_EQ(first.http.Header("Content-Type").value_or("").rfind("text/plain; version=0.0.4", 0),
            0u)
      << first.http.Header("Content-Type").value_or("(none)");
  EXPECT_NE(first.http.body.find("# TYPE tidegate_responses_total counter"), std::string::npos)
      << first.http.body;

  const std::string ok_class = "tidegate_responses_total{class=\"2xx\"}";
  const std::string by_origin = "tidegate_responses_by_answerer_total{answered_by=\"origin\"}";
  double before = Metric(ok_class);
  double origin_before = Metric(by_origin);
  ASSERT_GE(before, 0) << "no " << ok_class << " sample";
  ASSERT_GE(origin_before, 0);

  constexpr int kRequests = 5;
  for (int i = 0; i < kRequests; ++i) {
    AdminReply r =
        Call("GET", "/product/" + std::to_string(i), std::nullopt, "", tidegate_->port());
    ASSERT_EQ(r.http.status, 200);
    EXPECT_EQ(r.http.body, "ok:/product/" + std::to_string(i));
  }
  // The counter is bumped when the exchange is logged, right after the
  // response is written: poll (bounded) instead of assuming it is visible.
  double after = before, origin_after = origin_before;
  for (int i = 0; i < 100; ++i) {
    after = Metric(ok_class);
    origin_after = Metric(by_origin);
    if (after >= before + kRequests && origin_after >= origin_before + kRequests) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(after, before + kRequests);
  EXPECT_EQ(origin_after, origin_before + kRequests);
  EXPECT_GE(Metric("tidegate_connections_accepted_total"), kRequests);
  // Latency histograms count the same exchanges (every answerer for the
  // request histogram, the origin's for the origin histogram).
  EXPECT_GE(Metric("tidegate_request_duration_seconds_count"), kRequests);
  EXPECT_GE(Metric("tidegate_origin_duration_seconds_count"), kRequests);
  EXPECT_EQ(Metric("tidegate_request_duration_seconds_bucket{le=\"+Inf\"}"),
            Metric("tidegate_request_duration_seconds_count"));
}

// The public status page follows the operators' switches at once: it is
// what shoppers are sent to from the maintenance page, banner and 502s.
TEST_F(AdminTest, StatusPageShowsTheSwitchesInForce) {
  ASSERT_TRUE(tidegate_);
  AdminReply calm = Call("GET", "/.tidegate/status.json", std::nullopt, "", tidegate_->port());
  ASSERT_EQ(calm.http.status, 200) << calm.http.body;
  EXPECT_EQ(calm.json["status"], "operational") << calm.http.body;
  EXPECT_EQ(calm.http.Header("Cache-Control").value_or(""), "public, max-age=5");

  AdminReply applied = Call("PUT", "/v1/features/checkout/maintenance", std::string(kOperatorToken),
                            kMaintenanceBody);
  ASSERT_EQ(applied.http.status, 200) << applied.http.body;
  AdminReply json = Call("GET", "/.tidegate/status.json", std::nullopt, "", tidegate_->port());
  ASSERT_EQ(json.http.status, 200);
  EXPECT_EQ(json.json["status"], "partial_outage") << json.http.body;
  ASSERT_EQ(json.json["incidents"].size(), 1u) << json.http.body;
  EXPECT_EQ(json.json["incidents"][0]["feature"], "checkout");

  AdminReply html = Call("GET", "/.tidegate/status", std::nullopt, "", tidegate_->port());
  EXPECT_EQ(html.http.status, 200);
  EXPECT_EQ(html.http.Header("Content-Type").value_or(""), "text/html; charset=utf-8");
  EXPECT_NE(html.http.body.find("Maintenance: checkout"), std::string::npos) << html.http.body;
  AdminReply atom = Call("GET", "/.tidegate/status.atom", std::nullopt, "", tidegate_->port());
  EXPECT_EQ(atom.http.status, 200);
  EXPECT_NE(atom.http.body.find("<entry>"), std::string::npos) << atom.http.body;
  // Still never forwarded: the scripted origin would answer "ok:/…".
  EXPECT_EQ(atom.http.body.find("ok:/"), std::string::npos);

  ASSERT_EQ(
      Call("DELETE", "/v1/features/checkout/maintenance", std::string(kOperatorToken)).http.status,
      200);
  AdminReply after = Call("GET", "/.tidegate/status.json", std::nullopt, "", tidegate_->port());
  EXPECT_EQ(after.json["status"], "operational") << after.http.body;
}

TEST_F(AdminTest, RuntimeOverrideSurvivesSighupAndNewTokensApply) {
  ASSERT_TRUE(tidegate_);
  AdminReply applied = Call("PUT", "/v1/features/checkout/maintenance", std::string(kOperatorToken),
                            kMaintenanceBody);
  ASSERT_EQ(applied.http.status, 200) << applied.http.body;
  EXPECT_EQ(Metric("tidegate_config_reloads_total{result=\"ok\"}"), 0);

  ASSERT_TRUE(tidegate_->RewriteConfig(
      AdminConfig(origin_->port(), "  { name = \"late\", token_sha256 = \"" +
                                       Sha256Hex(kLateToken) + "\", role = \"viewer\" },\n")));
  ASSERT_TRUE(tidegate_->Reload());
  // /metrics (no token from loopback) says when the reload was applied.
  double reloads = 0;
  for (int i = 0; i < 250 && reloads < 1; ++i) {
    reloads = Metric("tidegate_config_reloads_total{result=\"ok\"}");
    if (reloads < 1) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(reloads, 1) << tidegate_->Stderr();
  EXPECT_EQ(Metric("tidegate_config_reloads_total{result=\"failed\"}"), 0);

  AdminReply late = Call("GET", "/v1/state", std::string(kLateToken));
  ASSERT_EQ(late.http.status, 200) << "the reloaded token does not work: " << late.http.body;
  EXPECT_EQ(late.json["features"]["checkout"]["under_maintenance"], true)
      << "SIGHUP dropped the run-time override: " << late.http.body;
  EXPECT_EQ(late.json["features"]["checkout"]["source"], "runtime");
  EXPECT_EQ(late.json["features"]["checkout"]["maintenance"]["set_by"], "ops");

  // A broken config is refused and counted; the admin API keeps serving.
  ASSERT_TRUE(tidegate_->RewriteConfig("[server]\nlisten = 12\n"));
  ASSERT_TRUE(tidegate_->Reload());
  double failed = 0;
  for (int i = 0; i < 250 && failed < 1; ++i) {
    failed = Metric("tidegate_config_reloads_total{result=\"failed\"}");
    if (failed < 1) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(State()["features"]["checkout"]["under_maintenance"], true);
}

// Audit 12: a room switched on at run time kept saying queue_all after a
// reload took its signing key away, and queued nobody. Such a reload is
// refused (the running configuration stays, the room keeps queueing);
// once the room is switched off, the same file loads.
TEST_F(AdminTest, AReloadThatWouldLeaveARuntimeQueueUnableToQueueIsRefused) {
  ASSERT_TRUE(tidegate_);
  dir_.Write("k1", "admin-test-signing-key-0123456789abcdef\n");
  const std::string room = "\n[rooms.shop]\nmatch = [\"^/sale\"]\nmode = \"off\"\n";
  const std::string key =
      "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n";
  auto reloads = [&](const char* result) {
    return Metric(std::string("tidegate_config_reloads_total{result=\"") + result + "\"}");
  };
  auto reload_and_wait = [&](const char* result, double before) {
    if (!tidegate_->Reload()) return false;
    for (int i = 0; i < 250; ++i) {
      if (reloads(result) > before) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  };
  ASSERT_TRUE(tidegate_->RewriteConfig(AdminConfig(origin_->port()) + room + key));
  ASSERT_TRUE(reload_and_wait("ok", reloads("ok"))) << tidegate_->Stderr();
  AdminReply on =
      Call("PATCH", "/v1/rooms/shop", std::string(kOperatorToken), R"({"mode":"queue_all"})");
  ASSERT_EQ(on.http.status, 200) << on.http.body;

  ASSERT_TRUE(tidegate_->RewriteConfig(AdminConfig(origin_->port()) + room));  // no key
  ASSERT_TRUE(reload_and_wait("failed", reloads("failed"))) << tidegate_->Stderr();
  EXPECT_NE(tidegate_->Stderr().find("room 'shop' is switched to queue_all at run time"),
            std::string::npos)
      << tidegate_->Stderr();
  auto conn = ConnectOrFail(tidegate_->port());
  ASSERT_TRUE(conn && conn->Send("GET /sale HTTP/1.1\r\nHost: shop.test\r\n\r\n"));
  HttpMessage sale = ReadResponse(*conn);
  EXPECT_NE(sale.Header("Set-Cookie").value_or("").find("tg_wait_shop"), std::string::npos)
      << "the running configuration (with its key) no longer queues: " << sale.raw.substr(0, 300);

  ASSERT_EQ(
      Call("PATCH", "/v1/rooms/shop", std::string(kOperatorToken), R"({"mode":"off"})").http.status,
      200);
  EXPECT_TRUE(reload_and_wait("ok", reloads("ok"))) << tidegate_->Stderr();
}

TEST_F(AdminTest, CtlDrivesTheRunningProxy) {
  ASSERT_TRUE(tidegate_);
  std::string ops = WriteTokenFile("ops.token", kOperatorToken);
  std::string viewer = WriteTokenFile("viewer.token", kViewerToken);

  CtlResult state = Ctl(viewer, {"state"});
  EXPECT_EQ(state.status, 0) << state.out << state.err;
  EXPECT_NE(state.out.find("checkout"), std::string::npos) << state.out;

  CtlResult refused = Ctl(viewer, {"maintenance", "on", "checkout", "--message", "Back soon"});
  EXPECT_EQ(refused.status, 1) << refused.out << refused.err;
  EXPECT_EQ(State()["features"]["checkout"]["under_maintenance"], false);

  CtlResult on = Ctl(ops, {"maintenance", "on", "checkout", "--message", "Back soon"});
  EXPECT_EQ(on.status, 0) << on.out << on.err;
  Json during = State();
  EXPECT_EQ(during["features"]["checkout"]["under_maintenance"], true) << during.dump();
  EXPECT_EQ(during["features"]["checkout"]["maintenance"]["message"], "Back soon");

  CtlResult json_state = Ctl(viewer, {"--json", "state"});
  EXPECT_EQ(json_state.status, 0) << json_state.err;
  Json parsed = Json::parse(json_state.out, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << json_state.out;
  EXPECT_EQ(parsed["features"]["checkout"]["under_maintenance"], true);

  CtlResult off = Ctl(ops, {"maintenance", "off", "checkout"});
  EXPECT_EQ(off.status, 0) << off.out << off.err;
  EXPECT_EQ(State()["features"]["checkout"]["under_maintenance"], false);

  CtlResult audit = Ctl(viewer, {"audit"});
  EXPECT_EQ(audit.status, 0) << audit.err;
  EXPECT_NE(audit.out.find("ops"), std::string::npos) << audit.out;
}

// Audit 20 F7: a banner promising an update in the past went live ("Update
// is late" at once) while an incident refuses the same promise. Now 422 on
// the API, and ctl fails (exit 1) with the API's words; nothing is shown.
TEST_F(AdminTest, BannerRefusesANextUpdateInThePast) {
  ASSERT_TRUE(tidegate_);
  AdminReply api = Call(
      "PUT", "/v1/banner", std::string(kOperatorToken),
      R"({"message":"We are on it","severity":"warning","next_update_at":"2020-01-01T00:00:00Z"})");
  EXPECT_EQ(api.http.status, 422) << api.http.body;
  EXPECT_EQ(api.json.value("error", ""), "validation_failed") << api.http.body;
  EXPECT_EQ(api.json.value("detail", ""), "next_update_at: must be in the future");

  CtlResult ctl =
      Ctl(WriteTokenFile("ops.token", kOperatorToken),
          {"banner", "set", "--message", "We are on it", "--next-update", "2020-01-01T00:00:00Z"});
  EXPECT_EQ(ctl.status, 1) << ctl.out << ctl.err;
  EXPECT_NE(ctl.err.find("422: validation_failed: next_update_at: must be in the future"),
            std::string::npos)
      << ctl.err;
  EXPECT_TRUE(State()["banner"]["override"].is_null()) << State().dump();

  CtlResult ok = Ctl(WriteTokenFile("ops.token", kOperatorToken),
                     {"banner", "set", "--message", "We are on it", "--next-update", "30m"});
  EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
}

// Audit 20 F3: tidegate stopped (SIGSTOP) while `ctl maintenance on` waits:
// ctl gave up with "timed out", exit 1 ("refused or failed"), and the change
// was applied when tidegate resumed. Now exit 3 and "the change may have
// been applied; check `tidegate ctl state`"; a read-only command keeps its
// exit 1 and message.
TEST_F(AdminTest, CtlSaysATimedOutChangeMayHaveBeenApplied) {
  ASSERT_TRUE(tidegate_);
  std::string ops = WriteTokenFile("ops.token", kOperatorToken);
  ASSERT_TRUE(tidegate_->process().Signal(SIGSTOP));
  CtlResult change = Ctl(ops, {"maintenance", "on", "checkout", "--message", "Back soon"});
  CtlResult read = Ctl(ops, {"state"});
  ASSERT_TRUE(tidegate_->process().Signal(SIGCONT));

  EXPECT_EQ(change.status, 3) << change.out << change.err;
  EXPECT_NE(change.err.find("timed out waiting for the response; the outcome is unknown: the "
                            "change may have been applied; check `tidegate ctl state`"),
            std::string::npos)
      << change.err;
  EXPECT_EQ(read.status, 1) << read.out << read.err;
  EXPECT_NE(read.err.find("timed out waiting for the response"), std::string::npos) << read.err;
  EXPECT_EQ(read.err.find("may have been applied"), std::string::npos) << read.err;

  // And it was: the request was read once tidegate ran again.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  Json state = State();
  while (state["features"]["checkout"]["under_maintenance"] != true &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    state = State();
  }
  EXPECT_EQ(state["features"]["checkout"]["under_maintenance"], true) << state.dump();
}

// A token file with a second line would have put that line into the
// request's headers: ctl refuses it with the usage exit code and sends
// nothing; a wrong token is reported once; a non-number --limit is usage.
TEST_F(AdminTest, CtlRefusesABadTokenFileAndSendsNothing) {
  ASSERT_TRUE(tidegate_);
  double failures = Metric("tidegate_admin_auth_failures_total");
  std::string injected =
      dir_.Write("injected.token", std::string(kOperatorToken) + "\r\nX-Injected: yes\r\n");
  CtlResult r = Ctl(injected, {"maintenance", "on", "checkout", "--message", "Injected"});
  EXPECT_EQ(r.status, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("token file '" + injected + "': more than one line"), std::string::npos)
      << r.err;
  EXPECT_EQ(State()["features"]["checkout"]["under_maintenance"], false);

  CtlResult directory = Ctl(dir_.path(), {"state"});
  EXPECT_EQ(directory.status, 2) << directory.err;
  EXPECT_NE(directory.err.find("is a directory"), std::string::npos) << directory.err;

  CtlResult wrong = Ctl(WriteTokenFile("wrong.token", "not-a-configured-token"), {"state"});
  EXPECT_EQ(wrong.status, 1) << wrong.err;
  EXPECT_EQ(wrong.err, "tidegate ctl: 401: token refused\n");
  // Only the wrong token reached the API.
  EXPECT_EQ(Metric("tidegate_admin_auth_failures_total"), failures + 1);

  CtlResult limit = Ctl(WriteTokenFile("viewer.token", kViewerToken), {"audit", "--limit", "x"});
  EXPECT_EQ(limit.status, 2) << limit.err;
  EXPECT_NE(limit.err.find("--limit 'x'"), std::string::npos) << limit.err;
}

TEST_F(AdminTest, TheShopPortNeverServesTheAdminApi) {
  ASSERT_TRUE(tidegate_);
  ASSERT_NE(admin_port_, tidegate_->port());
  for (const char* path : {"/v1/state", "/metrics", "/v1/audit"}) {
    AdminReply r = Call("GET", path, std::string(kOperatorToken), "", tidegate_->port());
    EXPECT_EQ(r.http.status, 200) << path;
    EXPECT_EQ(r.http.body, std::string("ok:") + path) << "not answered by the origin: " << path;
  }
  AdminReply put = Call("PUT", "/v1/features/checkout/maintenance", std::string(kOperatorToken),
                        kMaintenanceBody, tidegate_->port());
  EXPECT_EQ(put.http.body, "ok:/v1/features/checkout/maintenance");
  EXPECT_TRUE(origin_->WaitRequests(4, std::chrono::seconds(5)));
  EXPECT_EQ(State()["features"]["checkout"]["under_maintenance"], false);
}

// Separate processes: start-up refusals and the loopback metrics switch.
class AdminStartTest : public ::testing::Test {
 protected:
  TempDir dir_;
  ScriptedOrigin origin_{ServeOkForever()};
};

// DNS rebinding (issue 14): a request over TCP whose Host is a foreign name
// (what a browser sends after the attacker's name was re-pointed at
// 127.0.0.1) gets 421 and changes nothing, valid operator token or not.
TEST_F(AdminTest, ForeignHostIsMisdirectedAndChangesNothing) {
  ASSERT_TRUE(tidegate_);
  const std::string port = ":" + std::to_string(admin_port_);
  host_ = "rebind.evil.example" + port;
  AdminReply put = Call("PUT", "/v1/features/checkout/maintenance", std::string(kOperatorToken),
                        kMaintenanceBody);
  EXPECT_EQ(put.http.status, 421) << put.http.body;
  EXPECT_EQ(put.json["error"], "misdirected_request") << put.http.body;
  EXPECT_EQ(Call("GET", "/v1/state", std::string(kViewerToken)).http.status, 421);
  EXPECT_EQ(Call("GET", "/metrics", std::nullopt).http.status, 421);

  for (std::string ok :
       {"127.0.0.1" + port, "localhost" + port, std::string("LOCALHOST"), "[::1]" + port}) {
    host_ = ok;
    EXPECT_EQ(Call("GET", "/v1/state", std::string(kViewerToken)).http.status, 200) << ok;
  }
  host_ = "127.0.0.1";
  EXPECT_EQ(State()["features"]["checkout"]["under_maintenance"], false);
}

// Requests whose target or fields disagree about who they are for (audit 8
// F5): two Host fields or two Authorization fields are 400 (RFC 9112 §3.2;
// which one is meant is ambiguous); a target in absolute form names the
// host itself (§3.2.2) and that name is checked, not the Host field; a Host
// whose "port" is not digits is not an IP literal.
TEST_F(AdminTest, AmbiguousHostsAndTokensAreRefused) {
  ASSERT_TRUE(tidegate_);
  auto send = [&](const std::string& head) {
    auto conn = ConnectOrFail(admin_port_);
    EXPECT_TRUE(conn && conn->Send(head + "Connection: close\r\n\r\n"));
    return conn ? ReadResponse(*conn) : HttpMessage{};
  };
  const std::string viewer = "Authorization: Bearer " + std::string(kViewerToken) + "\r\n";
  const std::string operator_token =
      "Authorization: Bearer " + std::string(kOperatorToken) + "\r\n";
  HttpMessage two_hosts =
      send("GET /v1/state HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n" + viewer);
  EXPECT_EQ(two_hosts.status, 400) << two_hosts.raw;
  EXPECT_NE(two_hosts.body.find("more than one Host"), std::string::npos) << two_hosts.body;
  HttpMessage two_tokens =
      send("GET /v1/state HTTP/1.1\r\nHost: 127.0.0.1\r\n" + viewer + operator_token);
  EXPECT_EQ(two_tokens.status, 400) << two_tokens.raw;
  // Whitespace before the colon (§5.1): not another field, a bad request.
  HttpMessage spaced =
      send("GET /v1/state HTTP/1.1\r\nHost: 127.0.0.1\r\nHost : evil.example\r\n" + viewer);
  EXPECT_EQ(spaced.status, 400) << spaced.raw;
  EXPECT_EQ(send("GET /v1/state HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization : Bearer " +
                 std::string(kViewerToken) + "\r\n")
                .status,
            400);
  EXPECT_EQ(
      send("GET http://evil.example/v1/state HTTP/1.1\r\nHost: 127.0.0.1\r\n" + viewer).status,
      421);
  EXPECT_EQ(send("GET /v1/state HTTP/1.1\r\nHost: 127.0.0.1:1@evil.example\r\n" + viewer).status,
            421);
  // The same names, well formed, still pass.
  EXPECT_EQ(send("GET http://127.0.0.1/v1/state HTTP/1.1\r\nHost: 127.0.0.1\r\n" + viewer).status,
            200);
  EXPECT_EQ(send("GET /v1/state HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(admin_port_) +
                 "\r\n" + viewer)
                .status,
            200);
}

// One request over a unix socket; returns the status (0 on failure).
int UnixStatus(const std::string& path, const std::string& request) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path.c_str());
  timeval tv{10, 0};  // bounded: never hang the test
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) response.append(buf, n);
  }
  ::close(fd);
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

// [admin].allowed_hosts adds names; the unix socket is never checked.
TEST_F(AdminStartTest, AllowedHostsAndTheUnixSocket) {
  TidegateOptions options;
  options.config = AdminConfig(origin_.port(), "", "allowed_hosts = [\"Admin.Shop.Internal\"]\n");
  auto tg = StartTidegateOrFail(dir_, options);
  ASSERT_TRUE(tg);
  auto get = [&](const std::string& host) {
    auto conn = ConnectOrFail(tg->admin_port());
    EXPECT_TRUE(conn && conn->Send("GET /metrics HTTP/1.1\r\nHost: " + host +
                                   "\r\nConnection: close\r\n\r\n"));
    return conn ? ReadResponse(*conn).status : 0;
  };
  EXPECT_EQ(get("admin.shop.internal:" + std::to_string(tg->admin_port())), 200);
  EXPECT_EQ(get("other.shop.internal"), 421);
  EXPECT_EQ(tg->Stop(std::chrono::seconds(10)), 0) << tg->Stderr();

  TempDir unix_dir;
  TidegateOptions on_unix;
  on_unix.config = AdminConfig(origin_.port());
  const std::string socket_path = unix_dir.path() + "/admin.sock";
  size_t at = on_unix.config.find("listen = \"127.0.0.1:${ADMIN_PORT}\"");
  ASSERT_NE(at, std::string::npos);
  on_unix.config.replace(at, std::string("listen = \"127.0.0.1:${ADMIN_PORT}\"").size(),
                         "listen = \"unix:" + socket_path + "\"");
  auto tg2 = StartTidegateOrFail(unix_dir, on_unix);
  ASSERT_TRUE(tg2);
  EXPECT_EQ(UnixStatus(socket_path,
                       "GET /metrics HTTP/1.1\r\nHost: rebind.evil.example\r\n"
                       "Connection: close\r\n\r\n"),
            200);
  EXPECT_EQ(tg2->Stop(std::chrono::seconds(10)), 0) << tg2->Stderr();
}

TEST_F(AdminStartTest, MetricsNeedATokenWhenLoopbackAccessIsClosed) {
  TidegateOptions options;
  options.config = AdminConfig(origin_.port(), "", "metrics_open_on_loopback = false\n");
  auto tg = StartTidegateOrFail(dir_, options);
  ASSERT_TRUE(tg);
  auto get = [&](const std::optional<std::string>& token) {
    auto conn = ConnectOrFail(tg->admin_port());
    std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (token) request += "Authorization: Bearer " + *token + "\r\n";
    EXPECT_TRUE(conn && conn->Send(request + "\r\n"));
    return conn ? ReadResponse(*conn) : HttpMessage{};
  };
  EXPECT_EQ(get(std::nullopt).status, 401);
  EXPECT_EQ(get(std::string(kViewerToken)).status, 200);
  EXPECT_EQ(tg->Stop(std::chrono::seconds(10)), 0) << tg->Stderr();
}

TEST_F(AdminStartTest, RefusesToStartWhenTheAdminAddressIsTaken) {
  // Hold the admin port with a second tidegate's listener: the first
  // instance owns it, a second one with the same [admin].listen but its own
  // shop port must refuse to start and say why.
  TidegateOptions options;
  options.config = AdminConfig(origin_.port());
  auto first = StartTidegateOrFail(dir_, options);
  ASSERT_TRUE(first);
  std::string config = first->Fill(AdminConfig(origin_.port()));
  // Same admin port, another (probed) shop port.
  TidegateOptions second_options;
  second_options.name = "second";
  second_options.config = config.substr(0, config.find("[upstream]"));
  second_options.config.replace(second_options.config.find(std::to_string(first->port())),
                                std::to_string(first->port()).size(), "${PORT}");
  second_options.config += config.substr(config.find("[upstream]"));
  second_options.ready_timeout = std::chrono::seconds(10);
  std::string error;
  auto second = TidegateProcess::Start(dir_, second_options, &error);
  EXPECT_FALSE(second) << "a second instance started on a taken admin port";
  EXPECT_NE(error.find("admin: cannot listen on 127.0.0.1:" + std::to_string(first->admin_port())),
            std::string::npos)
      << error;
  EXPECT_EQ(first->Stop(std::chrono::seconds(10)), 0) << first->Stderr();
}

TEST_F(AdminStartTest, RefusesANonLoopbackListenerWithoutTokens) {
  TidegateOptions options;
  options.config =
      "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 1\n"
      "[upstream]\nservers = [\"127.0.0.1:" +
      std::to_string(origin_.port()) +
      "\"]\n"
      "[admin]\nlisten = \"0.0.0.0:${ADMIN_PORT}\"\nallow_plaintext = true\n";
  options.ready_timeout = std::chrono::seconds(10);
  std::string error;
  auto tg = TidegateProcess::Start(dir_, options, &error);
  EXPECT_FALSE(tg) << "an unauthenticated admin API listened on every address";
  EXPECT_NE(error.find("admin: refusing to listen on 0.0.0.0:"), std::string::npos) << error;
}

}  // namespace
}  // namespace tidegate::itest
