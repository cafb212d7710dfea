// The admin API over real HTTP (AdminServer on 127.0.0.1 port 0): every route
// and role, case 47 of the reliability cases, body limits, and a fuzz over
// generated bodies.
#include <gtest/gtest.h>

#include <random>

#include "tests/unit/ctl/admin_server_harness.h"

namespace tidegate::ctl {
namespace {

using admin::testing::kOperatorToken;
using admin::testing::kViewerToken;
using Json = nlohmann::json;
using testing::AdminServerHarness;

int Version(AdminServerHarness& h) {
  HttpResponse r = h.Send("GET", "/v1/state", kViewerToken);
  EXPECT_EQ(r.status, 200);
  return Json::parse(r.body)["version"].get<int>();
}

size_t AuditSize(AdminServerHarness& h) {
  HttpResponse r = h.Send("GET", "/v1/audit?limit=1000", kViewerToken);
  EXPECT_EQ(r.status, 200);
  return Json::parse(r.body)["records"].size();
}

TEST(AdminHttpTest, EveryRouteAndRole) {
  AdminServerHarness h;
  ASSERT_TRUE(h.started()) << h.start_error();
  struct Case {
    const char* method;
    const char* path;
    const char* body;
    int none, viewer, op;
  } cases[] = {
      {"GET", "/v1/state", nullptr, 401, 200, 200},
      {"GET", "/v1/audit", nullptr, 401, 200, 200},
      {"GET", "/metrics", nullptr, 200, 200, 200},  // open on loopback
      {"PUT", "/v1/features/checkout/maintenance", R"({"message":"Checkout paused"})", 401, 403,
       200},
      {"DELETE", "/v1/features/checkout/maintenance", nullptr, 401, 403, 200},
      {"PUT", "/v1/banner", R"({"message":"High demand","severity":"warning"})", 401, 403, 200},
      {"DELETE", "/v1/banner", nullptr, 401, 403, 200},
      {"PATCH", "/v1/rooms/shop", R"({"mode":"queue_all"})", 401, 403, 200},
      {"DELETE", "/v1/rooms/shop", nullptr, 401, 403, 200},
      {"PUT", "/v1/features/nope/maintenance", R"({"message":"x"})", 401, 403, 404},
      {"PATCH", "/v1/rooms/nope", R"({"mode":"off"})", 401, 403, 404},
      {"GET", "/v1/unknown", nullptr, 404, 404, 404},
      {"POST", "/v1/banner", R"({"message":"x"})", 405, 405, 405},
  };
  for (const auto& c : cases) {
    std::optional<std::string> body;
    if (c.body) body = c.body;
    for (auto [token, expected] : {std::pair<const char*, int>{nullptr, c.none},
                                   {kViewerToken, c.viewer},
                                   {kOperatorToken, c.op}}) {
      HttpResponse r = h.Send(c.method, c.path, token, body);
      EXPECT_EQ(r.status, expected)
          << c.method << " " << c.path << " token=" << (token ? token : "-") << " → " << r.body;
      if (r.status >= 400) {
        EXPECT_EQ(r.headers["content-type"], "application/json");
        Json j = Json::parse(r.body, nullptr, false);
        EXPECT_TRUE(j.is_object() && j.contains("error") && j.contains("detail")) << r.body;
      }
    }
  }
  // Four routes applied by the operator, each then cleared: 6 changes, each audited once.
  EXPECT_EQ(AuditSize(h), 6u);
  EXPECT_EQ(Version(h), 6);
}

TEST(AdminHttpTest, Case47) {
  AdminServerHarness h;
  ASSERT_TRUE(h.started()) << h.start_error();
  // Missing or wrong token → 401.
  EXPECT_EQ(h.Send("GET", "/v1/state", nullptr).status, 401);
  EXPECT_EQ(h.Send("GET", "/v1/state", "wrong-token").status, 401);
  EXPECT_EQ(h.Send("PUT", "/v1/banner", "wrong-token", R"({"message":"x"})").status, 401);
  // Viewer token on a change → 403.
  EXPECT_EQ(h.Send("PUT", "/v1/banner", kViewerToken, R"({"message":"x"})").status, 403);
  // Token in the query string → refused, even with a valid header.
  HttpResponse q = h.Send("GET", std::string("/v1/state?token=") + kViewerToken, nullptr);
  EXPECT_EQ(q.status, 400);
  EXPECT_EQ(Json::parse(q.body)["error"], "credentials_in_query");
  EXPECT_EQ(h.Send("PUT", std::string("/v1/banner?access_token=") + kOperatorToken, kOperatorToken,
                   R"({"message":"x"})")
                .status,
            400);
  // Malformed JSON → 400 and nothing changes.
  HttpResponse bad = h.Send("PUT", "/v1/banner", kOperatorToken, R"({"message": "x",)");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json::parse(bad.body)["error"], "malformed_json");
  EXPECT_EQ(h.Send("PATCH", "/v1/rooms/shop", kOperatorToken, "{mode: queue_all}").status, 400);
  EXPECT_EQ(Version(h), 0);
  EXPECT_EQ(AuditSize(h), 0u);
}

TEST(AdminHttpTest, Case47ListensOnLoopbackUnlessConfigured) {
  // An admin endpoint on a non-loopback address without tokens is refused.
  config::AdminConfig open = admin::testing::TestAdminConfig();
  open.tokens.clear();
  open.listen.host = "0.0.0.0";
  open.listen.text = "0.0.0.0:0";
  event_base* base = event_base_new();
  admin::LocalStore store;
  admin::AdminApi::Deps deps;
  deps.config = [] { return admin::testing::TestConfig(); };
  deps.store = &store;
  std::string error;
  EXPECT_FALSE(admin::AdminServer::Start(base, open, deps, {}, &error));
  EXPECT_NE(error.find("refusing"), std::string::npos) << error;
  // With tokens it is allowed (the operator configured it on purpose).
  open.tokens = admin::testing::TestAdminConfig().tokens;
  auto server = admin::AdminServer::Start(base, open, deps, {}, &error);
  EXPECT_TRUE(server) << error;
  // Dropping every token by a reload is refused while listening there.
  config::AdminConfig no_tokens = open;
  no_tokens.tokens.clear();
  EXPECT_FALSE(server->Reconfigure(no_tokens, &error));
  server.reset();
  event_base_free(base);
  // Loopback checks.
  EXPECT_TRUE(admin::IsLoopbackPeer("127.0.0.1"));
  EXPECT_TRUE(admin::IsLoopbackPeer("127.9.9.9"));
  EXPECT_TRUE(admin::IsLoopbackPeer("::1"));
  EXPECT_TRUE(admin::IsLoopbackPeer("::ffff:127.0.0.1"));
  EXPECT_FALSE(admin::IsLoopbackPeer("10.0.0.1"));
  EXPECT_FALSE(admin::IsLoopbackPeer("0.0.0.0"));
  EXPECT_FALSE(admin::IsLoopbackPeer("::"));
}

TEST(AdminHttpTest, BodyLimits) {
  AdminServerHarness h;
  ASSERT_TRUE(h.started()) << h.start_error();
  // Over 64 KiB: a JSON 413.
  std::string big = R"({"message":")" + std::string(70 * 1024, 'a') + R"("})";
  HttpResponse r = h.Send("PUT", "/v1/banner", kOperatorToken, big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(Json::parse(r.body)["error"], "body_too_large");
  // Over the hard limit (1 MiB): evhttp refuses it itself; either a 413 or a
  // closed connection, never a change.
  std::string huge(2 * 1024 * 1024, 'x');
  std::string error;
  r = h.Send("PUT", "/v1/banner", kOperatorToken, huge, &error);
  EXPECT_TRUE(r.status == 413 || r.status == -1) << r.status << " " << error;
  EXPECT_EQ(Version(h), 0);
}

TEST(AdminHttpTest, FuzzedBodiesOverHttp) {
  AdminServerHarness h;
  ASSERT_TRUE(h.started()) << h.start_error();
  std::mt19937 rng(99);
  const char* paths[][2] = {{"PUT", "/v1/features/checkout/maintenance"},
                            {"PUT", "/v1/banner"},
                            {"PATCH", "/v1/rooms/shop"}};
  const std::vector<std::string> fragments = {"{",
                                              "}",
                                              "[",
                                              "]",
                                              "\"message\"",
                                              ":",
                                              ",",
                                              "null",
                                              "\"mode\"",
                                              "\"queue_all\"",
                                              "-1",
                                              "1e999",
                                              "\"\\u0000\"",
                                              "\"until\"",
                                              "\"2020-01-01T00:00:00Z\"",
                                              "true",
                                              " ",
                                              "\xc3\x28",
                                              "\"total_active_users\"",
                                              "0"};
  for (int i = 0; i < 300; ++i) {
    const auto& p = paths[rng() % 3];
    std::string body;
    int n = rng() % 12;
    for (int k = 0; k < n; ++k) body += fragments[rng() % fragments.size()];
    // Never a valid message: the generated bodies are malformed or wrongly typed.
    HttpResponse r = h.Send(p[0], p[1], kOperatorToken, body);
    Json j = Json::parse(r.body, nullptr, false);
    bool valid_change = r.status == 200;
    ASSERT_FALSE(valid_change) << body;
    ASSERT_GE(r.status, 400) << body;
    ASSERT_LT(r.status, 500) << body;
    ASSERT_TRUE(j.is_object() && j.contains("error")) << body << " → " << r.body;
  }
  EXPECT_EQ(Version(h), 0);
  EXPECT_EQ(AuditSize(h), 0u);
}

}  // namespace
}  // namespace tidegate::ctl
