// AdminApi without HTTP: every route and role, precedence of checks, audit
// of applied changes only, throttling, and a fuzz over generated bodies.
#include "admin/admin_api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "common/rfc3339.h"
#include "tests/unit/admin/test_fixtures.h"

namespace tidegate::admin {
namespace {

using Json = nlohmann::json;
using testing::kOperatorToken;
using testing::kViewerToken;

class FixedMetrics : public MetricsSource {
 public:
  MetricsSnapshot Collect() const override {
    MetricsSnapshot m;
    m.responses_by_class[2] = 7;
    return m;
  }
};

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/tidegate_api_XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    std::string error;
    audit_ = AuditLog::Open(dir_ + "/audit.log", &error);
    ASSERT_TRUE(audit_) << error;
    store_ = std::make_unique<LocalStore>(time_);
    AdminApi::Deps deps;
    deps.config = [this] { return config_; };
    deps.store = store_.get();
    deps.audit = audit_.get();
    deps.metrics = &metrics_;
    deps.time = &time_;
    api_ = std::make_unique<AdminApi>(deps, config_->admin);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ApiResponse Call(const std::string& method, const std::string& path, const char* token,
                   const std::string& body = "", const std::string& query = "",
                   const std::string& ip = "127.0.0.1") {
    ApiRequest r;
    r.method = method;
    r.path = path;
    r.query = query;
    if (token) r.authorization = std::string("Bearer ") + token;
    r.body = body;
    r.client_ip = ip;
    r.client_address = ip + ":5000";
    r.client_is_loopback = ip.rfind("127.", 0) == 0;
    ApiResponse out;
    int calls = 0;
    api_->Handle(r, [&](ApiResponse resp) {
      out = std::move(resp);
      ++calls;
    });
    EXPECT_EQ(calls, 1);
    return out;
  }

  static Json Body(const ApiResponse& r) { return Json::parse(r.body); }
  size_t AuditCount() {
    std::vector<Json> records;
    std::string error;
    EXPECT_TRUE(audit_->ReadLast(1000, &records, &error));
    return records.size();
  }

  std::string dir_;
  std::shared_ptr<const config::Config> config_ = testing::TestConfig();
  common::FakeTimeSource time_{common::ParseRfc3339("2026-11-23T14:00:00Z").value()};
  FixedMetrics metrics_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<LocalStore> store_;
  std::unique_ptr<AdminApi> api_;
};

TEST_F(AdminApiTest, ReadsNeedAToken) {
  EXPECT_EQ(Call("GET", "/v1/state", nullptr).status, 401);
  EXPECT_EQ(Call("GET", "/v1/state", "wrong").status, 401);
  ApiResponse r = Call("GET", "/v1/state", kViewerToken);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["version"], 0);
  EXPECT_EQ(Call("GET", "/v1/audit", kViewerToken).status, 200);
  EXPECT_EQ(Call("GET", "/v1/state", kOperatorToken).status, 200);
}

TEST_F(AdminApiTest, ErrorsAreJsonWithErrorAndDetail) {
  ApiResponse r = Call("GET", "/v1/state", nullptr);
  EXPECT_EQ(r.content_type, "application/json");
  Json j = Body(r);
  EXPECT_EQ(j["error"], "unauthorized");
  EXPECT_TRUE(j["detail"].is_string());
  bool has_challenge = false;
  for (const auto& [k, v] : r.headers) has_challenge |= k == "WWW-Authenticate";
  EXPECT_TRUE(has_challenge);
}

TEST_F(AdminApiTest, MetricsOpenOnLoopbackOnly) {
  ApiResponse r = Call("GET", "/metrics", nullptr);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("tidegate_responses_total{class=\"2xx\"} 7"), std::string::npos);
  EXPECT_EQ(Call("GET", "/metrics", nullptr, "", "", "10.1.2.3").status, 401);
  EXPECT_EQ(Call("GET", "/metrics", kViewerToken, "", "", "10.1.2.3").status, 200);
}

TEST_F(AdminApiTest, ViewerCannotChangeAnything) {
  struct Case {
    const char* method;
    const char* path;
    const char* body;
  } cases[] = {{"PUT", "/v1/features/checkout/maintenance", R"({"message":"x"})"},
               {"DELETE", "/v1/features/checkout/maintenance", ""},
               {"PUT", "/v1/banner", R"({"message":"x"})"},
               {"DELETE", "/v1/banner", ""},
               {"PATCH", "/v1/rooms/shop", R"({"mode":"queue_all"})"},
               {"DELETE", "/v1/rooms/shop", ""}};
  for (const auto& c : cases) {
    ApiResponse r = Call(c.method, c.path, kViewerToken, c.body);
    EXPECT_EQ(r.status, 403) << c.method << " " << c.path;
    EXPECT_EQ(Body(r)["error"], "forbidden");
  }
  EXPECT_EQ(store_->Current()->version, 0u);
  EXPECT_EQ(AuditCount(), 0u);
}

TEST_F(AdminApiTest, MaintenanceRoundTripIsAudited) {
  ApiResponse r = Call("PUT", "/v1/features/checkout/maintenance", kOperatorToken,
                       R"({"message":"Checkout paused","until":"2026-11-23T15:00:00Z"})");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = Body(r);
  EXPECT_EQ(j["applied"], true);
  EXPECT_EQ(j["version"], 1);
  EXPECT_TRUE(j["before"].is_null());
  EXPECT_EQ(j["after"]["message"], "Checkout paused");
  EXPECT_EQ(j["after"]["set_by"], "ops");

  Json state = Body(Call("GET", "/v1/state", kViewerToken));
  EXPECT_EQ(state["features"]["checkout"]["under_maintenance"], true);
  EXPECT_EQ(state["features"]["checkout"]["source"], "runtime");

  r = Call("DELETE", "/v1/features/checkout/maintenance", kOperatorToken);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["applied"], true);
  r = Call("DELETE", "/v1/features/checkout/maintenance", kOperatorToken);  // no-op
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["applied"], false);

  Json audit = Body(Call("GET", "/v1/audit", kViewerToken));
  ASSERT_EQ(audit["records"].size(), 2u);  // the no-op is not recorded
  EXPECT_EQ(audit["records"][0]["method"], "PUT");
  EXPECT_EQ(audit["records"][0]["route"], "/v1/features/checkout/maintenance");
  EXPECT_EQ(audit["records"][0]["token"], "ops");
  EXPECT_EQ(audit["records"][0]["client"], "127.0.0.1:5000");
  EXPECT_TRUE(audit["records"][0]["before"].is_null());
  EXPECT_EQ(audit["records"][1]["method"], "DELETE");
  EXPECT_TRUE(audit["records"][1]["after"].is_null());
  EXPECT_EQ(Body(Call("GET", "/v1/audit", kViewerToken, "", "limit=1"))["records"].size(), 1u);
  EXPECT_EQ(Call("GET", "/v1/audit", kViewerToken, "", "limit=0").status, 422);
  EXPECT_EQ(Call("GET", "/v1/audit", kViewerToken, "", "limit=abc").status, 422);
}

TEST_F(AdminApiTest, BannerAndRoomRoutes) {
  ApiResponse r = Call(
      "PUT", "/v1/banner", kOperatorToken,
      R"({"message":"High demand","severity":"warning","next_update_at":"2026-11-23T14:30:00Z"})");
  ASSERT_EQ(r.status, 200) << r.body;
  Json state = Body(Call("GET", "/v1/state", kViewerToken));
  EXPECT_EQ(state["banner"]["message"], "High demand");
  EXPECT_EQ(state["banner"]["source"], "runtime");
  ASSERT_EQ(Call("DELETE", "/v1/banner", kOperatorToken).status, 200);
  state = Body(Call("GET", "/v1/state", kViewerToken));
  EXPECT_EQ(state["banner"]["message"], "Free shipping this week");
  EXPECT_EQ(state["banner"]["source"], "config");

  r = Call("PATCH", "/v1/rooms/shop", kOperatorToken,
           R"({"mode":"queue_all","new_users_per_minute":30})");
  ASSERT_EQ(r.status, 200) << r.body;
  state = Body(Call("GET", "/v1/state", kViewerToken));
  EXPECT_EQ(state["rooms"]["shop"]["mode"]["value"], "queue_all");
  EXPECT_EQ(state["rooms"]["shop"]["mode"]["source"], "runtime");
  EXPECT_EQ(state["rooms"]["shop"]["total_active_users"]["source"], "config");
  r = Call("PATCH", "/v1/rooms/shop", kOperatorToken, R"({"mode":null})");
  ASSERT_EQ(r.status, 200);
  state = Body(Call("GET", "/v1/state", kViewerToken));
  EXPECT_EQ(state["rooms"]["shop"]["mode"]["source"], "config");
  EXPECT_EQ(state["rooms"]["shop"]["new_users_per_minute"]["source"], "runtime");
  ASSERT_EQ(Call("DELETE", "/v1/rooms/shop", kOperatorToken).status, 200);
  state = Body(Call("GET", "/v1/state", kViewerToken));
  EXPECT_EQ(state["rooms"]["shop"]["new_users_per_minute"]["source"], "config");
  EXPECT_EQ(AuditCount(), 5u);
}

// Audit 10 F1: switching on a room that cannot queue (no signing key, or
// enabled = false) was applied, reported and audited while every shopper
// still walked in unqueued. Now refused, nothing changed, nothing audited;
// mode "off" and the other fields stay allowed.
TEST_F(AdminApiTest, ARoomThatCannotQueueIsNotSwitchedOn) {
  auto no_keys = std::make_shared<config::Config>(*config_);
  no_keys->secrets.token_keys.clear();
  no_keys->rooms[0].mode = config::RoomMode::kOff;
  config_ = no_keys;
  for (const char* mode : {"auto", "queue_all"}) {
    ApiResponse r = Call("PATCH", "/v1/rooms/shop", kOperatorToken,
                         std::string(R"({"mode":")") + mode + R"("})");
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(Body(r)["error"], "no_signing_key") << r.body;
    r = Call("POST", "/v1/incidents", kOperatorToken,
             std::string(R"({"title":"t","message":"m","impact":"degraded",)") +
                 R"("room":{"name":"shop","mode":")" + mode + R"("}})");
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(Body(r)["error"], "no_signing_key") << r.body;
  }
  Json state = Body(Call("GET", "/v1/state", kViewerToken));
  EXPECT_EQ(state["rooms"]["shop"]["mode"]["source"], "config");
  EXPECT_TRUE(state["incidents"].empty()) << state["incidents"].dump();
  EXPECT_EQ(AuditCount(), 0u);
  EXPECT_EQ(Call("PATCH", "/v1/rooms/shop", kOperatorToken, R"({"mode":"off"})").status, 200);
  EXPECT_EQ(Call("PATCH", "/v1/rooms/shop", kOperatorToken, R"({"total_active_users":9})").status,
            200);

  auto disabled = std::make_shared<config::Config>(*testing::TestConfig());
  disabled->rooms[0].enabled = false;
  config_ = disabled;
  ApiResponse r = Call("PATCH", "/v1/rooms/shop", kOperatorToken, R"({"mode":"queue_all"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(Body(r)["error"], "room_disabled") << r.body;
}

TEST_F(AdminApiTest, OverridesSurviveAReload) {
  ASSERT_EQ(Call("PATCH", "/v1/rooms/shop", kOperatorToken, R"({"total_active_users":42})").status,
            200);
  auto reloaded = std::make_shared<config::Config>(*config_);
  reloaded->rooms[0].total_active_users = 999;
  reloaded->rooms[0].new_users_per_minute = 11;
  config_ = reloaded;  // what SIGHUP does: only config values change
  Json state = Body(Call("GET", "/v1/state", kViewerToken));
  EXPECT_EQ(state["rooms"]["shop"]["total_active_users"]["value"], 42);
  EXPECT_EQ(state["rooms"]["shop"]["total_active_users"]["source"], "runtime");
  EXPECT_EQ(state["rooms"]["shop"]["new_users_per_minute"]["value"], 11);
}

TEST_F(AdminApiTest, RoutingErrors) {
  EXPECT_EQ(Call("GET", "/v1/nothing", kOperatorToken).status, 404);
  EXPECT_EQ(Call("GET", "/", kOperatorToken).status, 404);
  EXPECT_EQ(Call("GET", "/v1/state/", kOperatorToken).status, 404);
  ApiResponse r = Call("POST", "/v1/banner", kOperatorToken, R"({"message":"x"})");
  EXPECT_EQ(r.status, 405);
  bool allow = false;
  for (const auto& [k, v] : r.headers) allow |= k == "Allow" && v == "PUT, DELETE";
  EXPECT_TRUE(allow);
  EXPECT_EQ(Call("GET", "/v1/banner", kOperatorToken).status, 405);
  EXPECT_EQ(Call("PUT", "/v1/rooms/shop", kOperatorToken, "{}").status, 405);
  r = Call("PUT", "/v1/features/nope/maintenance", kOperatorToken, R"({"message":"x"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["error"], "unknown_feature");
  r = Call("PATCH", "/v1/rooms/nope", kOperatorToken, R"({"mode":"off"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["error"], "unknown_room");
  EXPECT_EQ(store_->Current()->version, 0u);
}

TEST_F(AdminApiTest, TokenInQueryIsRefused) {
  for (const char* q : {"token=x",
                        "access_token="
                        "operator-token",
                        "a=Bearer%20x"}) {
    ApiResponse r = Call("GET", "/v1/state", nullptr, "", q);
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_EQ(Body(r)["error"], "credentials_in_query");
  }
  // Even with a valid header, and for changes: nothing happens.
  EXPECT_EQ(Call("PUT", "/v1/banner", kOperatorToken, R"({"message":"x"})",
                 std::string("token=") + kOperatorToken)
                .status,
            400);
  EXPECT_EQ(store_->Current()->version, 0u);
}

TEST_F(AdminApiTest, BodyLimitAndIfMatch) {
  std::string big = R"({"message":")" + std::string(70 * 1024, 'a') + R"("})";
  EXPECT_EQ(Call("PUT", "/v1/banner", kOperatorToken, big).status, 413);
  ApiRequest r;
  r.method = "PUT";
  r.path = "/v1/banner";
  r.authorization = std::string("Bearer ") + kOperatorToken;
  r.body = R"({"message":"x"})";
  r.if_match = "\"5\"";
  ApiResponse out;
  api_->Handle(r, [&](ApiResponse resp) { out = resp; });
  EXPECT_EQ(out.status, 409);
  r.if_match = "\"0\"";
  api_->Handle(r, [&](ApiResponse resp) { out = resp; });
  EXPECT_EQ(out.status, 200) << out.body;
  r.if_match = "yesterday";
  api_->Handle(r, [&](ApiResponse resp) { out = resp; });
  EXPECT_EQ(out.status, 400);
  EXPECT_EQ(AuditCount(), 1u);
}

TEST_F(AdminApiTest, RepeatedFailuresAreThrottled) {
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(Call("GET", "/v1/state", "guess", "", "", "10.0.0.9").status, 401);
  ApiResponse r = Call("GET", "/v1/state", "guess", "", "", "10.0.0.9");
  EXPECT_EQ(r.status, 429);
  bool retry_after = false;
  for (const auto& [k, v] : r.headers) retry_after |= k == "Retry-After" && v == "1";
  EXPECT_TRUE(retry_after);
  EXPECT_EQ(Call("GET", "/v1/state", nullptr, "", "", "10.0.0.9").status, 429);  // no token
  EXPECT_EQ(Call("GET", "/v1/state", "guess", "", "", "10.0.0.10").status,
            401);  // others are not refused
  time_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Call("GET", "/v1/state", "guess", "", "", "10.0.0.9").status, 401);
  EXPECT_EQ(api_->admin_metrics().throttled_total, 2u);
  EXPECT_EQ(api_->admin_metrics().auth_failures_total, 7u);
}

// Issue 14: bad tokens from one address must not lock out the operators who
// share it (a bastion host; every unix-socket client).
TEST_F(AdminApiTest, ValidTokenPassesWhileItsAddressIsThrottled) {
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(Call("GET", "/v1/state", "guess", "", "", "10.0.0.9").status, 401);
  EXPECT_EQ(Call("GET", "/v1/state", kViewerToken, "", "", "10.0.0.9").status, 200);
  EXPECT_EQ(Call("GET", "/v1/state", kOperatorToken, "", "", "10.0.0.9").status, 200);
  // The valid requests did not clear the record: bad ones are still refused.
  EXPECT_EQ(Call("GET", "/v1/state", "guess", "", "", "10.0.0.9").status, 429);
  EXPECT_EQ(api_->admin_metrics().throttled_total, 1u);
}

// DNS rebinding: a TCP request whose Host is a foreign name gets 421 before
// any other check; the unix socket (host unset) is never checked.
TEST_F(AdminApiTest, ForeignHostIsMisdirected) {
  auto call = [&](std::optional<std::string> host) {
    ApiRequest r;
    r.method = "GET";
    r.path = "/v1/state";
    r.authorization = std::string("Bearer ") + kViewerToken;
    r.client_ip = "127.0.0.1";
    r.client_address = "127.0.0.1:5000";
    r.client_is_loopback = true;
    r.host = std::move(host);
    ApiResponse out;
    api_->Handle(r, [&](ApiResponse resp) { out = std::move(resp); });
    return out;
  };
  ApiResponse refused = call("evil.example:9901");
  EXPECT_EQ(refused.status, 421);
  EXPECT_EQ(Body(refused)["error"], "misdirected_request");
  EXPECT_EQ(call("").status, 421);  // no Host at all
  EXPECT_EQ(call("127.0.0.1:9901").status, 200);
  EXPECT_EQ(call("localhost").status, 200);
  EXPECT_EQ(call(std::nullopt).status, 200);  // unix socket
  EXPECT_EQ(api_->admin_metrics().requests_by_code.at("421"), 2u);

  config::AdminConfig admin = config_->admin;
  admin.allowed_hosts = {"evil.example"};
  api_->Reconfigure(admin);
  EXPECT_EQ(call("evil.example:9901").status, 200);
}

TEST_F(AdminApiTest, ReconfigureReplacesTokens) {
  config::AdminConfig admin = config_->admin;
  admin.tokens.erase(admin.tokens.begin());  // drop "ops"
  api_->Reconfigure(admin);
  EXPECT_EQ(Call("GET", "/v1/state", kOperatorToken).status, 401);
  EXPECT_EQ(Call("GET", "/v1/state", kViewerToken).status, 200);
}

TEST_F(AdminApiTest, AuditFailureIsReportedNotHidden) {
  api_ = nullptr;
  AdminApi::Deps deps;
  deps.config = [this] { return config_; };
  deps.store = store_.get();
  deps.audit = nullptr;
  deps.time = &time_;
  AdminApi api(deps, config_->admin);
  ApiRequest r;
  r.method = "PUT";
  r.path = "/v1/banner";
  r.authorization = std::string("Bearer ") + kOperatorToken;
  r.body = R"({"message":"x"})";
  ApiResponse out;
  api.Handle(r, [&](ApiResponse resp) { out = resp; });
  EXPECT_EQ(out.status, 500);
  EXPECT_EQ(Json::parse(out.body)["error"], "audit_failed");
  EXPECT_EQ(api.admin_metrics().audit_write_errors_total, 1u);
}

// Generated malformed, wrongly typed and oversized bodies: every answer is a
// 4xx JSON error, and nothing changes.
TEST_F(AdminApiTest, FuzzedBodiesNeverChangeState) {
  std::mt19937 rng(1234);
  // Wrong values for every key, whatever the route: no message is ever
  // valid (it is required by both PUT routes), no room value is valid (null
  // would be a valid "clear"), and keys unknown to a route are refused.
  const std::vector<Json> bad_message = {
      nullptr, 0, true, Json::array(), Json::object(), "", std::string(1001, 'y'), "\x01"};
  const std::vector<Json> bad_time = {1, true, "not a time", "2026-13-01T00:00:00Z", Json::array()};
  const std::vector<Json> bad_mode = {1, "sometimes", true, Json::array(), "QUEUE_ALL"};
  const std::vector<Json> bad_count = {0, -1, 1.5, "100", true, 4294967296ULL, Json::object()};
  const std::vector<Json> bad_duration = {300, "5 minutes", "500ms", "", "48h", Json::array()};
  const std::vector<Json> bad_method = {"lifo", 2, false};
  const std::vector<std::pair<std::string, const std::vector<Json>*>> keys = {
      {"message", &bad_message},
      {"until", &bad_time},
      {"starts_at", &bad_time},
      {"severity", &bad_mode},
      {"next_update_at", &bad_time},
      {"expires_at", &bad_time},
      {"mode", &bad_mode},
      {"total_active_users", &bad_count},
      {"new_users_per_minute", &bad_count},
      {"session_duration", &bad_duration},
      {"queueing_method", &bad_method},
      {"bogus", &bad_count}};
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"PUT", "/v1/features/checkout/maintenance"},
      {"PUT", "/v1/banner"},
      {"PATCH", "/v1/rooms/shop"}};
  auto random_text = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += static_cast<char>(rng() % 256);
    return s;
  };
  int answered = 0;
  for (int i = 0; i < 3000; ++i) {
    const auto& [method, path] = routes[rng() % routes.size()];
    std::string body;
    switch (rng() % 5) {
      case 0:
        body = random_text(rng() % 64);
        break;
      case 1: {  // valid JSON, wrong types or values
        Json j = Json::object();
        int n = 1 + rng() % 3;
        for (int k = 0; k < n; ++k) {
          const auto& [key, values] = keys[rng() % keys.size()];
          j[key] = (*values)[rng() % values->size()];
        }
        body = j.dump(-1, ' ', false, Json::error_handler_t::replace);
        break;
      }
      case 2: {  // a truncated valid-looking body
        std::string good = R"({"message":"ok","severity":"info","mode":"auto"})";
        body = good.substr(0, rng() % good.size());
        break;
      }
      case 3:
        body = std::string(65 * 1024 + rng() % 1024, '{');
        break;
      default:
        body = Json::array({1, 2, 3}).dump();
    }
    ApiResponse r = Call(method, path, kOperatorToken, body);
    ASSERT_GE(r.status, 400) << body;
    ASSERT_LT(r.status, 500) << body;
    Json j = Json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error") && j.contains("detail")) << r.body;
    ++answered;
  }
  EXPECT_EQ(answered, 3000);
  EXPECT_EQ(store_->Current()->version, 0u);
  EXPECT_EQ(AuditCount(), 0u);
}

}  // namespace
}  // namespace tidegate::admin
