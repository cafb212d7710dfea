// POST /v1/bypass (admin/routes_bypass.cc): an operator mints a signed staff
// bypass cookie the gate accepts; audited; 409 without a signing key.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "admin/admin_api.h"
#include "admin/auth.h"
#include "common/bypass_token.h"

namespace tidegate::maintenance {
namespace {

using Json = nlohmann::json;
constexpr char kOperator[] = "bypass-operator-token-0123456789abcdef01";
constexpr char kViewer[] = "bypass-viewer-token-0123456789abcdef0123";

class NoMetrics : public admin::MetricsSource {
 public:
  admin::MetricsSnapshot Collect() const override { return {}; }
};

class BypassRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/tidegate_bypass_XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    std::string error;
    audit_ = admin::AuditLog::Open(dir_ + "/audit.log", &error);
    ASSERT_TRUE(audit_) << error;
    auto config = std::make_shared<config::Config>();
    config->admin.tokens = {{"ops", admin::Sha256Hex(kOperator), config::AdminRole::kOperator},
                            {"watch", admin::Sha256Hex(kViewer), config::AdminRole::kViewer}};
    config->secrets.token_keys = {{"k1", "", std::string(40, 'z')}};
    config->maintenance.bypass_cookie_max_ttl = std::chrono::hours(8);
    config_ = config;
    store_ = std::make_unique<admin::LocalStore>(time_);
    admin::AdminApi::Deps deps;
    deps.config = [this] { return config_; };
    deps.store = store_.get();
    deps.audit = audit_.get();
    deps.metrics = &metrics_;
    deps.time = &time_;
    api_ = std::make_unique<admin::AdminApi>(deps, config_->admin);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  admin::ApiResponse Post(const char* token, const std::string& body = "",
                          const std::string& method = "POST") {
    admin::ApiRequest r;
    r.method = method;
    r.path = "/v1/bypass";
    r.authorization = std::string("Bearer ") + token;
    r.body = body;
    r.client_ip = "127.0.0.1";
    r.client_address = "127.0.0.1:5000";
    admin::ApiResponse out;
    api_->Handle(r, [&](admin::ApiResponse response) { out = std::move(response); });
    return out;
  }

  common::TimePoint now_ = common::TimePoint(std::chrono::seconds(1'795'000'000));
  common::FakeTimeSource time_{now_};
  std::string dir_;
  std::unique_ptr<admin::AuditLog> audit_;
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<admin::LocalStore> store_;
  NoMetrics metrics_;
  std::unique_ptr<admin::AdminApi> api_;
};

TEST_F(BypassRouteTest, MintsAnAuditedCookieTheGateAccepts) {
  admin::ApiResponse r = Post(kOperator, R"({"ttl": "2h"})");
  ASSERT_EQ(r.status, 200) << r.body;
  Json body = Json::parse(r.body);
  std::string cookie = body["cookie"];
  ASSERT_EQ(cookie.rfind("tg_bypass=", 0), 0u) << cookie;
  std::string token = cookie.substr(10);
  EXPECT_EQ(body["cookie_tls"], "__Host-tg_bypass=" + token);
  EXPECT_EQ(body["expires_at"], "2026-11-18T13:06:40Z");
  EXPECT_NE(body["set_cookie_tls"].get<std::string>().find("; Secure; HttpOnly; SameSite=Lax"),
            std::string::npos);
  auto codec = common::SignedTokenCodec::FromKeys(config_->secrets.token_keys);
  EXPECT_EQ(common::VerifyBypassToken(token, codec, now_, std::chrono::hours(8)),
            common::BypassVerdict::kValid);
  EXPECT_EQ(
      common::VerifyBypassToken(token, codec, now_ + std::chrono::hours(2), std::chrono::hours(8)),
      common::BypassVerdict::kExpired);

  std::vector<Json> records;
  std::string error;
  ASSERT_TRUE(audit_->ReadLast(10, &records, &error)) << error;
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["token"], "ops");
  EXPECT_EQ(records[0]["route"], "/v1/bypass");
  EXPECT_EQ(records[0].dump().find(token), std::string::npos);  // never the token itself
}

TEST_F(BypassRouteTest, RefusalsChangeNothing) {
  EXPECT_EQ(Post(kViewer).status, 403);
  EXPECT_EQ(Post(kOperator, "", "GET").status, 405);
  EXPECT_EQ(Post(kOperator, R"({"ttl": "9h"})").status, 422);  // over the maximum
  EXPECT_EQ(Post(kOperator, R"({"ttl": "10s"})").status, 422);
  EXPECT_EQ(Post(kOperator, R"({"tll": "1h"})").status, 422);
  EXPECT_EQ(Post(kOperator, "{").status, 400);
  auto no_keys = std::make_shared<config::Config>(*config_);
  no_keys->secrets.token_keys.clear();
  config_ = no_keys;
  admin::ApiResponse r = Post(kOperator);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(Json::parse(r.body)["error"], "no_signing_key");
  std::vector<Json> records;
  std::string error;
  ASSERT_TRUE(audit_->ReadLast(10, &records, &error));
  EXPECT_TRUE(records.empty());
}

}  // namespace
}  // namespace tidegate::maintenance
