// maintenance/maintenance_gate: which requests are stopped, the 503 answers,
// shadow mode, bypasses, run-time state and configured windows.
#include "maintenance/maintenance_gate.h"

#include <event2/buffer.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/bypass_token.h"

namespace tidegate::maintenance {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using WallTime = std::chrono::system_clock::time_point;

const WallTime kNow = WallTime(seconds(1'795'000'000));

class FakeCallbacks : public proxy::FilterCallbacks {
 public:
  void AbortResponse() override {}
  void SendLocalReply(int status, proxy::HeaderList headers, std::string body,
                      proxy::Answerer answered_by) override {
    this->status = status;
    this->headers = std::move(headers);
    this->body = std::move(body);
    this->answered_by = std::string(proxy::AnswererName(answered_by));
  }
  void ContinueRequest() override { ++continued; }
  bool BufferRequestBody(size_t max_bytes,
                         std::function<void(const evbuffer*, bool)> on_ready) override {
    if (refuse_buffer) return false;
    buffer_limit = max_bytes;
    this->on_ready = std::move(on_ready);
    return true;
  }
  const proxy::StreamInfo& stream_info() const override { return info; }
  const proxy::WorkerContext& worker() const override { return worker_context; }

  int continued = 0;
  bool refuse_buffer = false;
  size_t buffer_limit = 0;
  std::function<void(const evbuffer*, bool)> on_ready;

  proxy::StreamInfo info{"192.0.2.7", false};
  proxy::WorkerContext worker_context;
  int status = 0;
  proxy::HeaderList headers;
  std::string body;
  std::string answered_by;
};

config::FeatureConfig Feature(std::string name, std::string path) {
  config::FeatureConfig f;
  f.name = std::move(name);
  config::FeatureMatchRule rule;
  rule.path = std::move(path);
  f.match.push_back(rule);
  return f;
}

class GateTest : public ::testing::Test {
 protected:
  GateTest() : state_(std::make_shared<const state::RuntimeState>()) {
    config_.features = {Feature("checkout", "^/checkout"), Feature("search", "^/search")};
    config_.maintenance.api_prefixes = {"/api/"};
    config_.site.name = "Demo <Shop>";
    config_.site.status_page_url = "https://status.example/";
    config_.secrets.token_keys = {{"k1", "", std::string(40, 'x')}};
  }

  void Build() {
    std::string error;
    gate_ = MaintenanceGateFactory::Create(config_, &state_, time_, &error);
    ASSERT_TRUE(gate_) << error;
  }

  void SetMaintenance(const std::string& feature, std::string message,
                      std::optional<WallTime> until = std::nullopt,
                      std::optional<WallTime> starts_at = std::nullopt) {
    auto next = std::make_shared<state::RuntimeState>(*state_.Load());
    state::MaintenanceOverride m;
    m.message = std::move(message);
    m.until = until;
    m.starts_at = starts_at;
    next->maintenance[feature] = m;
    next->version++;
    state_.Publish(next);
  }

  // Runs the gate like the stream does; true when it answered.
  bool Run(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {},
           const std::string& method = "GET") {
    callbacks_ = FakeCallbacks();
    callbacks_.info.client_ip = client_ip_;
    callbacks_.info.tls = tls_;
    auto filter = gate_->CreateFilter(callbacks_);
    if (!filter) return false;
    proxy::RequestHead head;
    head.method = method;
    head.target = target;
    head.host = "shop.example";
    for (auto& [n, v] : headers) head.headers.Add(n, v);
    return filter->OnRequestHeaders(head) == proxy::FilterStatus::kStop;
  }

  config::Config config_;
  proxy::Published<state::RuntimeState> state_;
  common::FakeTimeSource time_{kNow};
  std::string client_ip_ = "192.0.2.7";
  bool tls_ = false;
  std::unique_ptr<MaintenanceGateFactory> gate_;
  FakeCallbacks callbacks_;
};

TEST_F(GateTest, NothingUnderMaintenanceCreatesNoFilter) {
  Build();
  FakeCallbacks cb;
  EXPECT_EQ(gate_->CreateFilter(cb), nullptr);
  SetMaintenance("checkout", "x", kNow - minutes(1));  // expired
  EXPECT_EQ(gate_->CreateFilter(cb), nullptr);
  SetMaintenance("checkout", "x", std::nullopt, kNow + minutes(1));  // scheduled
  EXPECT_EQ(gate_->CreateFilter(cb), nullptr);
  SetMaintenance("unknown_feature", "x");  // orphaned override
  EXPECT_EQ(gate_->CreateFilter(cb), nullptr);
}

TEST_F(GateTest, BrowserGetsThePageWithRetryAfter) {
  Build();
  SetMaintenance("checkout", "Payments are <b>down</b> & we're on it", kNow + seconds(90));
  ASSERT_TRUE(Run("/checkout/step1", {{"Accept", "text/html"}}));
  EXPECT_EQ(callbacks_.status, 503);
  EXPECT_EQ(callbacks_.answered_by, "maintenance");
  EXPECT_EQ(*callbacks_.headers.Find("Retry-After"), "90");
  EXPECT_EQ(*callbacks_.headers.Find("Cache-Control"), "no-store");
  EXPECT_EQ(*callbacks_.headers.Find("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(*callbacks_.headers.Find("Content-Language"), "en");
  const std::string& body = callbacks_.body;
  EXPECT_NE(body.find("<html lang=\"en\">"), std::string::npos) << body;
  EXPECT_NE(body.find("Payments are &lt;b&gt;down&lt;/b&gt; &amp; we&apos;re on it"),
            std::string::npos)
      << body;  // case 21: escaped
  EXPECT_EQ(body.find("<b>down"), std::string::npos);
  EXPECT_NE(body.find("Demo &lt;Shop&gt;"), std::string::npos);
  EXPECT_NE(body.find("href=\"https://status.example/\""), std::string::npos);
  EXPECT_NE(body.find("Expected back:"), std::string::npos);
  // Other parts of the shop pass.
  EXPECT_FALSE(Run("/cart"));
  EXPECT_FALSE(Run("/search?q=shoes"));
}

TEST_F(GateTest, FrenchByAcceptLanguage) {
  Build();
  SetMaintenance("checkout", "", kNow + hours(2));
  ASSERT_TRUE(Run("/checkout", {{"Accept-Language", "fr-FR,fr;q=0.9,en;q=0.5"}}));
  EXPECT_EQ(*callbacks_.headers.Find("Content-Language"), "fr");
  EXPECT_NE(callbacks_.body.find("<html lang=\"fr\">"), std::string::npos);
  EXPECT_NE(callbacks_.body.find("Retour prévu"), std::string::npos);
  EXPECT_NE(callbacks_.body.find("Nous y travaillons"), std::string::npos);  // default message
  EXPECT_EQ(*callbacks_.headers.Find("Retry-After"), "7200");
}

TEST_F(GateTest, ApiClientsGetJson) {
  Build();
  SetMaintenance("checkout", "Back soon", kNow + seconds(30));
  ASSERT_TRUE(Run("/checkout", {{"Accept", "application/json"}}));
  auto json = nlohmann::json::parse(callbacks_.body);
  EXPECT_EQ(json["error"], "maintenance");
  EXPECT_EQ(json["feature"], "checkout");
  EXPECT_EQ(json["message"], "Back soon");
  EXPECT_EQ(json["retry_after"], 30);
  EXPECT_EQ(*callbacks_.headers.Find("Content-Type"), "application/json");

  config_.features.push_back(Feature("payments", "^/api/payments"));
  Build();
  SetMaintenance("payments", "Payments paused");  // no until
  ASSERT_TRUE(Run("/API/payments/1"));            // api prefix, any case
  json = nlohmann::json::parse(callbacks_.body);
  EXPECT_EQ(json["feature"], "payments");
  EXPECT_EQ(json["retry_after"], MaintenancePage::kRetryAfterUnknownEnd);  // end unknown
  EXPECT_TRUE(json["until"].is_null());
  EXPECT_EQ(*callbacks_.headers.Find("Retry-After"),
            std::to_string(MaintenancePage::kRetryAfterUnknownEnd));
}

TEST_F(GateTest, BuiltinRoutesAndNormalisedSpellings) {
  config_.features.push_back(Feature("everything", "^/"));
  Build();
  SetMaintenance("everything", "down");
  EXPECT_FALSE(Run("/.tidegate/health"));
  EXPECT_FALSE(Run("//.tidegate/health"));
  EXPECT_TRUE(Run("/"));
  config_.features.pop_back();
  Build();
  SetMaintenance("checkout", "down");
  for (const char* target :
       {"/Checkout", "//checkout", "/checkout;x=1", "/%63heckout", "/a/../checkout"}) {
    EXPECT_TRUE(Run(target)) << target;
  }
}

TEST_F(GateTest, ShadowModeCountsAndLetsThrough) {
  config_.features[0].enforced = false;
  Build();
  SetMaintenance("checkout", "down");
  EXPECT_FALSE(Run("/checkout"));
  EXPECT_FALSE(Run("/checkout"));
  EXPECT_EQ(gate_->shadowed(0), 2u);
  EXPECT_EQ(gate_->blocked(0), 0u);
}

TEST_F(GateTest, DisabledFeatureIsNeverStopped) {
  config_.features[0].enabled = false;
  Build();
  SetMaintenance("checkout", "down");
  EXPECT_FALSE(Run("/checkout"));
}

TEST_F(GateTest, StaffAddressesPass) {
  config::CidrBlock staff;
  staff.bytes = {192, 0, 2, 0};
  staff.prefix_len = 24;
  config_.maintenance.bypass_cidrs = {staff};
  Build();
  SetMaintenance("checkout", "down");
  EXPECT_FALSE(Run("/checkout"));
  EXPECT_EQ(gate_->bypassed(0), 1u);
  client_ip_ = "198.51.100.1";
  EXPECT_TRUE(Run("/checkout"));
}

// A dual-stack listener reports an IPv4 client as ::ffff:a.b.c.d: it is the
// same staff address (common/cidr.h), as in a room's bypass_ips.
TEST_F(GateTest, IPv4MappedStaffAddressPassesAnIPv4Block) {
  std::string error;
  config_.maintenance.bypass_cidrs = {*common::ParseCidr("192.0.2.0/24", &error)};
  Build();
  SetMaintenance("checkout", "down");
  client_ip_ = "::ffff:192.0.2.7";
  EXPECT_FALSE(Run("/checkout"));
  EXPECT_EQ(gate_->bypassed(0), 1u);
  client_ip_ = "::ffff:198.51.100.1";
  EXPECT_TRUE(Run("/checkout"));
}

TEST_F(GateTest, SignedBypassCookie) {
  Build();
  SetMaintenance("checkout", "down");
  std::string token = *common::MintBypassToken(
      common::SignedTokenCodec::FromKeys(config_.secrets.token_keys), kNow + hours(1));
  EXPECT_FALSE(Run("/checkout", {{"Cookie", "a=1; tg_bypass=" + token}}));
  // A forged duplicate does not hide the valid one, and never wins alone.
  EXPECT_FALSE(
      Run("/checkout", {{"Cookie", "tg_bypass=v1.k1.1795003600.forged; tg_bypass=" + token}}));
  EXPECT_TRUE(Run("/checkout", {{"Cookie", "tg_bypass=v1.k1.1795003600.forged"}}));
  // On TLS only the __Host- cookie counts.
  tls_ = true;
  EXPECT_TRUE(Run("/checkout", {{"Cookie", "tg_bypass=" + token}}));
  EXPECT_FALSE(Run("/checkout", {{"Cookie", "__Host-tg_bypass=" + token}}));
  tls_ = false;
  // Expired.
  time_.SetWall(kNow + hours(2));
  EXPECT_TRUE(Run("/checkout", {{"Cookie", "tg_bypass=" + token}}));
}

TEST_F(GateTest, ConfiguredWindowStartsAndEndsByItself) {
  config::ConfigMaintenanceWindow window;
  window.message = "Search upgrade";
  window.starts_at = kNow + minutes(10);
  window.until = kNow + minutes(40);
  config_.features[1].maintenance = window;
  Build();
  EXPECT_FALSE(Run("/search"));
  time_.SetWall(kNow + minutes(10));
  ASSERT_TRUE(Run("/search", {{"Accept", "application/json"}}));
  EXPECT_EQ(nlohmann::json::parse(callbacks_.body)["message"], "Search upgrade");
  EXPECT_EQ(*callbacks_.headers.Find("Retry-After"), "1800");
  // The operator's words win while both apply.
  SetMaintenance("search", "Operator says", kNow + minutes(20));
  ASSERT_TRUE(Run("/search", {{"Accept", "application/json"}}));
  EXPECT_EQ(nlohmann::json::parse(callbacks_.body)["message"], "Operator says");
  time_.SetWall(kNow + minutes(30));  // the override expired, the window still runs
  ASSERT_TRUE(Run("/search", {{"Accept", "application/json"}}));
  EXPECT_EQ(nlohmann::json::parse(callbacks_.body)["message"], "Search upgrade");
  time_.SetWall(kNow + minutes(40));
  EXPECT_FALSE(Run("/search"));
}

TEST_F(GateTest, MerchantTemplateOverride) {
  config_.site.templates_dir = ::testing::TempDir();
  std::string path = config_.site.templates_dir + "/maintenance.html";
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("<p>{{feature}}: {{message}} [{{until_text}}]</p>", f);
  fclose(f);
  Build();
  SetMaintenance("checkout", "x<y");
  ASSERT_TRUE(Run("/checkout"));
  EXPECT_EQ(callbacks_.body, "<p>checkout: x&lt;y []</p>");
  remove(path.c_str());

  FILE* broken = fopen(path.c_str(), "w");
  fputs("{{#unclosed}}", broken);
  fclose(broken);
  std::string error;
  EXPECT_EQ(MaintenanceGateFactory::Create(config_, &state_, time_, &error), nullptr);
  EXPECT_NE(error.find("maintenance.html"), std::string::npos) << error;
  remove(path.c_str());
}

class BodyGateTest : public GateTest {
 protected:
  BodyGateTest() {
    config::FeatureMatchRule form;
    form.path = "^/checkout/pay";
    form.methods = {"POST"};
    form.form = {{"method", "invoice"}};
    config::FeatureMatchRule json;
    json.path = "^/api/payments";
    json.json = {{"payment.method", "paypal"}};
    config::FeatureConfig invoice;
    invoice.name = "invoice";
    invoice.match = {form};
    config::FeatureConfig paypal;
    paypal.name = "paypal";
    paypal.match = {json};
    config_.features = {invoice, paypal};
    config_.maintenance.max_body_bytes = 32;
  }

  // Runs the head; returns the filter (kept alive for the body callback).
  std::unique_ptr<proxy::StreamFilter> Head(const std::string& target,
                                            const std::string& content_type,
                                            proxy::FilterStatus* status) {
    callbacks_ = FakeCallbacks();
    auto filter = gate_->CreateFilter(callbacks_);
    if (!filter) return nullptr;
    head_ = proxy::RequestHead();
    head_.method = "POST";
    head_.target = target;
    head_.framing = proxy::BodyFraming::kContentLength;
    if (!content_type.empty()) head_.headers.Add("Content-Type", content_type);
    for (auto& [n, v] : extra_headers_) head_.headers.Add(n, v);
    *status = filter->OnRequestHeaders(head_);
    return filter;
  }

  void Body(const std::string& bytes, bool complete) {
    evbuffer* b = evbuffer_new();
    evbuffer_add(b, bytes.data(), bytes.size());
    callbacks_.on_ready(b, complete);
    evbuffer_free(b);
  }

  // Head + body; true when the gate answered 503.
  bool Post(const std::string& target, const std::string& content_type, const std::string& body,
            bool complete = true) {
    proxy::FilterStatus status;
    auto filter = Head(target, content_type, &status);
    if (!filter || status != proxy::FilterStatus::kStop) return false;
    if (callbacks_.status == 503) return true;  // decided on the head
    if (!callbacks_.on_ready) return false;
    Body(body, complete);
    return callbacks_.status == 503;
  }

  proxy::RequestHead head_;
  std::vector<std::pair<std::string, std::string>> extra_headers_;
};

TEST_F(BodyGateTest, FormFieldDecidesOnTheBufferedBody) {
  Build();
  SetMaintenance("invoice", "Invoices paused");
  proxy::FilterStatus status;
  auto filter = Head("/checkout/pay", "application/x-www-form-urlencoded", &status);
  ASSERT_TRUE(filter);
  EXPECT_EQ(status, proxy::FilterStatus::kStop);
  EXPECT_EQ(callbacks_.buffer_limit, 32u);
  ASSERT_TRUE(callbacks_.on_ready);
  Body("cart=7&method=invoice", true);
  EXPECT_EQ(callbacks_.status, 503);
  EXPECT_EQ(callbacks_.continued, 0);

  filter = Head("/checkout/pay", "application/x-www-form-urlencoded", &status);
  Body("cart=7&method=card", true);
  EXPECT_EQ(callbacks_.status, 0);
  EXPECT_EQ(callbacks_.continued, 1);
}

TEST_F(BodyGateTest, JsonFieldAndPrefixDecision) {
  Build();
  SetMaintenance("paypal", "PayPal is down");
  proxy::FilterStatus status;
  auto filter = Head("/api/payments", "application/json", &status);
  ASSERT_EQ(status, proxy::FilterStatus::kStop);
  Body(R"({"payment":{"method":"paypal"}})", true);
  EXPECT_EQ(callbacks_.status, 503);
  EXPECT_EQ(nlohmann::json::parse(callbacks_.body)["feature"], "paypal");
  // A body longer than the bound cannot be decided on its prefix (it does
  // not parse): undecided, so treated as the feature (on_undecided = block).
  filter = Head("/api/payments", "application/json", &status);
  Body(R"({"payment":{"method":"paypal"},"items":[1,2,3,4,5,6,7,8,9]})", false);
  EXPECT_EQ(callbacks_.status, 503);
  EXPECT_EQ(gate_->undecided(1), 1u);
  // Another value in a whole body is decided: through.
  filter = Head("/api/payments", "application/json", &status);
  Body(R"({"payment":{"method":"card"}})", true);
  EXPECT_EQ(callbacks_.status, 0);
  EXPECT_EQ(callbacks_.continued, 1);
  EXPECT_EQ(gate_->undecided(1), 1u);
}

TEST_F(BodyGateTest, NoBodyBufferingWhenItCannotMatter) {
  Build();
  proxy::FilterStatus status = proxy::FilterStatus::kContinue;
  // Nothing under maintenance: no filter at all.
  EXPECT_EQ(Head("/checkout/pay", "application/x-www-form-urlencoded", &status), nullptr);
  SetMaintenance("invoice", "x");
  // Another path, another content type: no buffering.
  auto filter = Head("/cart", "application/x-www-form-urlencoded", &status);
  EXPECT_EQ(status, proxy::FilterStatus::kContinue);
  EXPECT_FALSE(callbacks_.on_ready);
  // The feature's path and method with any content type: the body is read.
  filter = Head("/checkout/pay", "multipart/form-data; boundary=x", &status);
  EXPECT_EQ(status, proxy::FilterStatus::kStop);
  EXPECT_TRUE(callbacks_.on_ready);
}

}  // namespace
}  // namespace tidegate::maintenance

// ---- issue 14: body rules fail closed (on_undecided), multipart, key case,
// ---- decode_slashes, reopened windows, hide features ----
namespace tidegate::maintenance {
namespace {

constexpr char kForm[] = "application/x-www-form-urlencoded";

std::string Multipart(const std::string& name, const std::string& value) {
  return "--XyZ\r\nContent-Disposition: form-data; name=\"cart\"\r\n\r\n7\r\n"
         "--XyZ\r\nContent-Disposition: form-data; name=\"" +
         name + "\"\r\n\r\n" + value + "\r\n--XyZ--\r\n";
}

TEST_F(BodyGateTest, MultipartFieldIsTheSameField) {
  config_.maintenance.max_body_bytes = 4096;
  Build();
  SetMaintenance("invoice", "x");
  EXPECT_TRUE(
      Post("/checkout/pay", "multipart/form-data; boundary=XyZ", Multipart("method", "invoice")));
  EXPECT_FALSE(
      Post("/checkout/pay", "multipart/form-data; boundary=XyZ", Multipart("method", "card")));
  EXPECT_EQ(gate_->undecided(0), 0u);
  // Malformed multipart (bare LF, or no boundary) cannot be read: undecided.
  EXPECT_TRUE(Post("/checkout/pay", "multipart/form-data; boundary=XyZ",
                   "--XyZ\nContent-Disposition: form-data; name=\"method\"\n\ncard\n--XyZ--\n"));
  EXPECT_TRUE(Post("/checkout/pay", "multipart/form-data", Multipart("method", "card")));
  EXPECT_EQ(gate_->undecided(0), 2u);
}

TEST_F(BodyGateTest, MissingOrTextPlainContentTypeIsUndecided) {
  config_.maintenance.max_body_bytes = 4096;
  Build();
  SetMaintenance("invoice", "x");
  EXPECT_TRUE(Post("/checkout/pay", "", "method=invoice"));
  EXPECT_TRUE(Post("/checkout/pay", "text/plain", "method=invoice"));
  EXPECT_TRUE(Post("/checkout/pay", "application/octet-stream", "method=card"));
  EXPECT_EQ(gate_->undecided(0), 3u);
  // A compressed body the origin may inflate is not readable either.
  extra_headers_ = {{"Content-Encoding", "gzip"}};
  EXPECT_TRUE(Post("/checkout/pay", kForm, "method=card"));
  extra_headers_.clear();
  EXPECT_EQ(gate_->undecided(0), 4u);
  // An empty body has no fields: decided, through.
  EXPECT_FALSE(Post("/checkout/pay", "", ""));
  EXPECT_EQ(gate_->undecided(0), 4u);
}

TEST_F(BodyGateTest, JsonTricksAreUndecidedOrMatched) {
  config_.maintenance.max_body_bytes = 4096;
  Build();
  SetMaintenance("paypal", "x");
  const std::string json = "application/json";
  EXPECT_TRUE(Post("/api/payments", json, R"({"payment":{"method":"paypal"}} trailing)"));
  EXPECT_TRUE(Post("/api/payments", json, R"({"payment":{"method":"paypal"}}{"x":1})"));
  EXPECT_TRUE(Post("/api/payments", json, R"({"payment":/* c */{"method":"paypal"}})"));
  EXPECT_TRUE(Post("/api/payments", json, "{\"payment\":{\"method\":\"paypal\",\"n\":\"\xff\"}}"));
  EXPECT_EQ(gate_->undecided(1), 4u);
  // Keys in another case are the same key (decided, matched).
  EXPECT_TRUE(Post("/api/payments", json, R"({"Payment":{"METHOD":"paypal"}})"));
  // A key given twice: either value counts.
  EXPECT_TRUE(Post("/api/payments", json, R"({"payment":{"method":"card","method":"paypal"}})"));
  EXPECT_EQ(gate_->undecided(1), 4u);
  EXPECT_FALSE(Post("/api/payments", json, R"({"payment":{"method":"card"}})"));
  EXPECT_FALSE(Post("/api/payments", json, R"({"payment":{"method":"PAYPAL"}})"));  // values exact
}

TEST_F(BodyGateTest, FormKeyCaseAndQueryString) {
  Build();
  SetMaintenance("invoice", "x");
  EXPECT_TRUE(Post("/checkout/pay", kForm, "Method=invoice"));
  EXPECT_TRUE(Post("/checkout/pay", kForm, "METHOD=invoice&cart=1"));
  EXPECT_FALSE(Post("/checkout/pay", kForm, "method=card"));
  // The field in the query string (merged by PHP's $_REQUEST, Rails): no body needed.
  EXPECT_TRUE(Post("/checkout/pay?method=invoice", kForm, "cart=1"));
  EXPECT_EQ(callbacks_.buffer_limit, 0u);  // decided on the head
}

TEST_F(BodyGateTest, FieldPastTheBoundIsUndecided) {
  Build();  // max_body_bytes = 32
  SetMaintenance("invoice", "x");
  std::string big = "note=" + std::string(64 * 1024, 'a') + "&method=invoice";
  EXPECT_TRUE(Post("/checkout/pay", kForm, big.substr(0, 32), /*complete=*/false));
  EXPECT_EQ(gate_->undecided(0), 1u);
  // Found within the bound: decided (matched) even though the body goes on.
  EXPECT_TRUE(Post("/checkout/pay", kForm, "method=invoice&note=aaaaaaaaaaaaaa", false));
  EXPECT_EQ(gate_->undecided(0), 1u);
}

TEST_F(BodyGateTest, OnUndecidedPassLetsThroughButCounts) {
  config_.features[0].on_undecided = config::UndecidedPolicy::kPass;
  Build();
  SetMaintenance("invoice", "x");
  EXPECT_FALSE(Post("/checkout/pay", "text/plain", "method=invoice"));
  EXPECT_EQ(callbacks_.continued, 1);
  EXPECT_EQ(gate_->undecided(0), 1u);
  EXPECT_TRUE(Post("/checkout/pay", kForm, "method=invoice"));  // decided: still the feature
}

TEST_F(BodyGateTest, BodyThatCannotBeBufferedIsUndecided) {
  Build();
  SetMaintenance("invoice", "x");
  callbacks_ = FakeCallbacks();
  callbacks_.refuse_buffer = true;
  auto filter = gate_->CreateFilter(callbacks_);
  ASSERT_TRUE(filter);
  head_ = proxy::RequestHead();
  head_.method = "POST";
  head_.target = "/checkout/pay";
  head_.framing = proxy::BodyFraming::kChunked;
  head_.headers.Add("Content-Type", kForm);
  EXPECT_EQ(filter->OnRequestHeaders(head_), proxy::FilterStatus::kStop);
  EXPECT_EQ(callbacks_.status, 503);
  EXPECT_EQ(gate_->undecided(0), 1u);
}

TEST_F(GateTest, DecodeSlashesSpellings) {
  config_.features.push_back(Feature("payments", "^/api/payments$"));
  Build();
  SetMaintenance("payments", "x");
  for (const char* target : {"/api/payments", "/api%2Fpayments", "/api%2fpayments",
                             "/api\\payments", "/api%5Cpayments", "/x%2F..%2Fapi%2Fpayments"}) {
    EXPECT_TRUE(Run(target)) << target;
  }
  EXPECT_FALSE(Run("/api%2Fpayments2"));
  config_.maintenance.decode_slashes = false;
  Build();
  EXPECT_TRUE(Run("/api/payments"));
  EXPECT_FALSE(Run("/api%2Fpayments"));
  EXPECT_FALSE(Run("/api\\payments"));
}

TEST_F(GateTest, ReopenedOverrideEndsAConfiguredWindow) {
  config_.features[0].maintenance =
      config::ConfigMaintenanceWindow{"planned", std::nullopt, kNow + hours(2)};
  Build();
  EXPECT_TRUE(Run("/checkout"));
  auto next = std::make_shared<state::RuntimeState>(*state_.Load());
  state::MaintenanceOverride reopened;
  reopened.reopened = true;
  reopened.until = kNow + hours(2);
  next->maintenance["checkout"] = reopened;
  next->version++;
  state_.Publish(next);
  EXPECT_FALSE(Run("/checkout"));
  // The reopening ends with the window; a later window would apply again.
  time_.SetWall(kNow + hours(3));
  EXPECT_FALSE(Run("/checkout"));
  // An operator's PUT replaces the reopening.
  SetMaintenance("checkout", "again");
  time_.SetWall(kNow);
  EXPECT_TRUE(Run("/checkout"));
}

TEST_F(GateTest, HideFeatureNeverAnswers) {
  config_.features[0].action = config::FeatureAction::kHide;
  config_.features[0].hide_selector = "#pay-invoice";
  Build();
  SetMaintenance("checkout", "x");
  EXPECT_FALSE(Run("/checkout"));
  SetMaintenance("search", "x");
  EXPECT_TRUE(Run("/search"));
}

}  // namespace
}  // namespace tidegate::maintenance
