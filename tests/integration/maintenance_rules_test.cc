// Issue 14 maintenance rules through the real tidegate binary in front of the
// demo shop: a multipart (or text/plain) POST to a blocked feature gets the
// maintenance page, a passed long body is forwarded whole, an encoded slash
// is gated like a slash, an operator's DELETE reopens a feature whose window
// comes from the configuration, and the `hide` action injects its CSS into a
// real origin page only while the feature is on.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/rfc3339.h"
#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using std::chrono::seconds;

constexpr char kToken[] = "rules-operator-token-0123456789abcdef0123";
constexpr char kHideCss[] =
    "<style id=\"tidegate-hide\">#pay-invoice{display:none!important}</style>";

class MaintenanceRulesTest : public ::testing::Test {
 protected:
  // `features`: [features.X] tables (the window line may use ${UNTIL}).
  void Start(const std::string& features) {
    shop_ = StartDemoShopOrFail(dir_);
    if (!shop_) return;
    TidegateOptions options;
    options.config =
        "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 2\ndrain_timeout = \"5s\"\n"
        "\n[upstream]\nservers = [\"127.0.0.1:" +
        std::to_string(shop_->port()) +
        "\"]\nconnect_timeout = \"1s\"\nresponse_timeout = \"5s\"\n"
        "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\naudit_log = \"${DIR}/audit.jsonl\"\n"
        "tokens = [{ name = \"ops\", token_sha256 = \"" +
        Sha256Hex(kToken) +
        "\", role = \"operator\" }]\n"
        "\n[maintenance]\nmax_body_bytes = \"1KB\"\napi_prefixes = [\"/api/\"]\n" +
        features;
    tidegate_ = StartTidegateOrFail(dir_, options);
  }

  void TearDown() override {
    if (!tidegate_) return;
    ASSERT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
    EXPECT_EQ(tidegate_->Stop(seconds(10)), 0) << tidegate_->Stderr();
  }

  HttpMessage Send(const std::string& request, uint16_t port = 0) {
    auto conn = ConnectOrFail(port != 0 ? port : tidegate_->port());
    if (!conn) return HttpMessage{};
    EXPECT_TRUE(conn->Send(request));
    HttpMessage m = ReadResponse(*conn);
    EXPECT_TRUE(m.ok) << m.error;
    return m;
  }

  HttpMessage Get(const std::string& target) {
    return Send("GET " + target + " HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n");
  }

  HttpMessage Post(const std::string& target, const std::string& content_type,
                   const std::string& body) {
    std::string head = "POST " + target +
                       " HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\nAccept: "
                       "application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n";
    if (!content_type.empty()) head += "Content-Type: " + content_type + "\r\n";
    return Send(head + "\r\n" + body);
  }

  HttpMessage Admin(const std::string& method, const std::string& target,
                    const std::string& body = "") {
    std::string request = method + " " + target +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + kToken +
                          "\r\nConnection: close\r\n";
    if (method == "PUT") {
      request +=
          "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n";
    }
    return Send(request + "\r\n" + body, tidegate_->admin_port());
  }

  Json State() {
    HttpMessage r = Admin("GET", "/v1/state");
    EXPECT_EQ(r.status, 200) << r.body;
    return Json::parse(r.body, nullptr, false);
  }

  TempDir dir_;
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<TidegateProcess> tidegate_;
};

constexpr char kInvoice[] =
    "\n[features.invoice]\n"
    "match = [{ path = \"^/echo\", methods = [\"POST\"], form = { method = \"invoice\" } }]\n";

std::string Multipart(const std::string& method) {
  return "--b0undary\r\nContent-Disposition: form-data; name=\"cart\"\r\n\r\n7\r\n"
         "--b0undary\r\nContent-Disposition: form-data; name=\"method\"\r\n\r\n" +
         method + "\r\n--b0undary--\r\n";
}

bool EndsWith(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() &&
         text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

TEST_F(MaintenanceRulesTest, MultipartAndTextPlainPostsGetTheMaintenancePage) {
  Start(kInvoice);
  ASSERT_TRUE(tidegate_);
  ASSERT_EQ(
      Admin("PUT", "/v1/features/invoice/maintenance", R"({"message": "Invoices paused"})").status,
      200);
  const std::string multipart = "multipart/form-data; boundary=b0undary";
  HttpMessage blocked = Post("/echo", multipart, Multipart("invoice"));
  EXPECT_EQ(blocked.status, 503) << blocked.body;
  EXPECT_EQ(Json::parse(blocked.body, nullptr, false)["feature"], "invoice") << blocked.body;

  HttpMessage card = Post("/echo", multipart, Multipart("card"));
  EXPECT_EQ(card.status, 200) << card.body;
  EXPECT_TRUE(EndsWith(card.body, Multipart("card"))) << card.body;  // body unchanged

  // Undecided: the same field without a form content type.
  EXPECT_EQ(Post("/echo", "text/plain", "method=invoice").status, 503);
  EXPECT_EQ(Post("/echo", "", "method=invoice").status, 503);
  EXPECT_EQ(Post("/echo", "application/json", R"({"method":"invoice"} x)").status, 503);

  Json state = State();
  EXPECT_EQ(state["features"]["invoice"]["undecided_total"], 3) << state.dump();
  HttpMessage metrics = Admin("GET", "/metrics");
  EXPECT_NE(metrics.body.find("tidegate_maintenance_undecided_total{feature=\"invoice\"} 3"),
            std::string::npos)
      << metrics.body;
}

TEST_F(MaintenanceRulesTest, OnUndecidedPassForwardsALongBodyWhole) {
  Start(std::string(kInvoice) + "on_undecided = \"pass\"\n");
  ASSERT_TRUE(tidegate_);
  ASSERT_EQ(Admin("PUT", "/v1/features/invoice/maintenance", R"({"message": "x"})").status, 200);
  std::string body = "method=card&pad=" + std::string(200 * 1024, 'p') + "&method=invoice";
  HttpMessage ok = Post("/echo", "application/x-www-form-urlencoded", body);
  EXPECT_EQ(ok.status, 200);
  EXPECT_TRUE(EndsWith(ok.body, "\r\n\r\n" + body)) << "body of " << ok.body.size() << " bytes";
  EXPECT_EQ(State()["features"]["invoice"]["undecided_total"], 1);
  // Decided in the prefix: still the feature.
  EXPECT_EQ(Post("/echo", "application/x-www-form-urlencoded", "method=invoice").status, 503);
}

// Audit 15: a rule on some methods also gates a request that asks, through
// a method override (the frameworks' X-HTTP-Method-Override and `_method`),
// to be run as one of them; other requests still reach the origin.
TEST_F(MaintenanceRulesTest, MethodOverridesOfAGatedMethodAreGated) {
  Start("\n[features.returns]\nmatch = [{ path = \"^/echo\", methods = [\"DELETE\", \"PUT\"] }]\n");
  ASSERT_TRUE(tidegate_);
  ASSERT_EQ(Admin("PUT", "/v1/features/returns/maintenance", R"({"message": "x"})").status, 200);
  auto send = [&](const std::string& method, const std::string& target, const std::string& extra,
                  const std::string& body) {
    return Send(method + " " + target +
                " HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body);
  };
  EXPECT_EQ(send("DELETE", "/echo", "", "").status, 503);
  EXPECT_EQ(send("POST", "/echo", "X-HTTP-Method-Override: DELETE\r\n", "").status, 503);
  EXPECT_EQ(send("POST", "/echo", "X-Method-Override: put\r\n", "").status, 503);
  EXPECT_EQ(send("POST", "/echo?_method=DELETE", "", "").status, 503);
  const std::string form = "Content-Type: application/x-www-form-urlencoded\r\n";
  EXPECT_EQ(send("POST", "/echo", form, "_method=delete&id=7").status, 503);
  HttpMessage plain = send("POST", "/echo", form, "id=7");
  EXPECT_EQ(plain.status, 200) << plain.body;
  EXPECT_TRUE(EndsWith(plain.body, "id=7")) << plain.body;
  EXPECT_EQ(send("POST", "/echo", "X-HTTP-Method-Override: PATCH\r\n", "").status, 200);
  EXPECT_EQ(Get("/echo").status, 200);
}

TEST_F(MaintenanceRulesTest, EncodedSlashesAreGatedLikeSlashes) {
  Start("\n[features.cart_api]\nmatch = [{ path = \"^/api/cart$\" }]\n");
  ASSERT_TRUE(tidegate_);
  ASSERT_EQ(Admin("PUT", "/v1/features/cart_api/maintenance", R"({"message": "x"})").status, 200);
  for (const char* target : {"/api/cart", "/api%2Fcart", "/api%2fcart", "/api\\cart"}) {
    EXPECT_EQ(Get(target).status, 503) << target;
  }
  EXPECT_NE(Get("/api%2Fcarts").status, 503);
}

// A feature for one host cannot be walked past with a Host the origin's
// server would read as that host: a Host shaped against the grammar
// ("shop.example:80:80", "shop.example..") is a 400 and never forwarded;
// every valid spelling of the host is gated. A query split at ';' (as Rack
// reads it) names the parameter too.
TEST_F(MaintenanceRulesTest, HostAndQuerySpellingsCannotWalkPastAFeature) {
  Start(
      "\n[features.hosted]\nmatch = [{ path = \"^/echo\", host = \"shop.example\" }]\n"
      "\n[features.invoice]\nmatch = [{ path = \"^/echo\", query = { method = \"invoice\" } }]\n");
  ASSERT_TRUE(tidegate_);
  ASSERT_EQ(Admin("PUT", "/v1/features/hosted/maintenance", R"({"message": "x"})").status, 200);
  ASSERT_EQ(Admin("PUT", "/v1/features/invoice/maintenance", R"({"message": "x"})").status, 200);
  auto get = [&](const std::string& host, const std::string& target = "/echo") {
    return Send("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
  };
  for (const char* host : {"shop.example", "SHOP.example", "shop.example:8080", "shop.example.",
                           "shop.example.:443"}) {
    EXPECT_EQ(get(host).status, 503) << host;
  }
  for (const char* host : {"shop.example:80:80", "shop.example:x:1", "shop.example..",
                           "shop.example..:80", "shop.example:99999", "[shop.example"}) {
    HttpMessage r = get(host);
    EXPECT_EQ(r.status, 400) << host << ": " << r.body.substr(0, 200);
  }
  EXPECT_EQ(get("other.example").status, 200);  // another host: not the feature

  EXPECT_EQ(Get("/echo?x=1;method=invoice").status, 503);
  EXPECT_EQ(Get("/echo?method=invoice").status, 503);
  EXPECT_EQ(Get("/echo?x=1;method=card").status, 200);
}

TEST_F(MaintenanceRulesTest, DeleteReopensAFeatureWhoseWindowComesFromTheConfiguration) {
  auto until = std::chrono::system_clock::now() + std::chrono::hours(1);
  Start(
      "\n[features.checkout]\nmatch = [{ path = \"^/checkout\" }]\n"
      "maintenance = { message = \"Planned\", until = \"" +
      common::FormatRfc3339(until) + "\" }\n");
  ASSERT_TRUE(tidegate_);
  EXPECT_EQ(Get("/checkout").status, 503);
  EXPECT_EQ(State()["features"]["checkout"]["under_maintenance"], true);

  HttpMessage del = Admin("DELETE", "/v1/features/checkout/maintenance");
  ASSERT_EQ(del.status, 200) << del.body;
  Json answer = Json::parse(del.body, nullptr, false);
  EXPECT_EQ(answer["applied"], true) << del.body;
  EXPECT_EQ(answer["after"]["reopened"], true) << del.body;
  EXPECT_EQ(Get("/checkout").status, 200);

  Json state = State();
  const Json& checkout = state["features"]["checkout"];
  EXPECT_EQ(checkout["under_maintenance"], false) << state.dump();
  EXPECT_EQ(checkout["maintenance"]["reopened"], true) << state.dump();
  EXPECT_EQ(checkout["maintenance"]["until"], common::FormatRfc3339(until)) << state.dump();
  EXPECT_EQ(checkout["window"]["phase"], "active") << state.dump();
  // Audited like every change.
  std::string audit = ReadFile(dir_.File("audit.jsonl"));
  EXPECT_NE(audit.find("\"reopened\":true"), std::string::npos) << audit;
  // A second DELETE changes nothing; a PUT puts it under maintenance again.
  EXPECT_EQ(Json::parse(Admin("DELETE", "/v1/features/checkout/maintenance").body, nullptr,
                        false)["applied"],
            false);
  ASSERT_EQ(Admin("PUT", "/v1/features/checkout/maintenance", R"({"message": "again"})").status,
            200);
  EXPECT_EQ(Get("/checkout").status, 503);
}

TEST_F(MaintenanceRulesTest, HideInjectsCssIntoOriginPagesOnlyWhileOn) {
  Start(
      "\n[features.invoice_button]\naction = \"hide\"\nhide_selector = \"#pay-invoice\"\n"
      "\n[features.checkout]\nmatch = [{ path = \"^/checkout\" }]\n");
  ASSERT_TRUE(tidegate_);
  HttpMessage before = Get("/");
  ASSERT_EQ(before.status, 200);
  EXPECT_EQ(before.body.find("tidegate-hide"), std::string::npos);

  ASSERT_EQ(Admin("PUT", "/v1/features/invoice_button/maintenance", R"({"message": "x"})").status,
            200);
  HttpMessage hidden = Get("/");
  ASSERT_EQ(hidden.status, 200);
  size_t body_tag = hidden.body.find("<body");
  size_t css = hidden.body.find(kHideCss);
  ASSERT_NE(css, std::string::npos) << hidden.body.substr(0, 600);
  EXPECT_LT(body_tag, css);
  EXPECT_EQ(hidden.body.find("<", hidden.body.find('>', body_tag) + 1), css);  // right after
  EXPECT_EQ(Get("/checkout").status, 200);  // a hide feature never answers 503
  EXPECT_EQ(State()["features"]["invoice_button"]["under_maintenance"], true);

  ASSERT_EQ(Admin("DELETE", "/v1/features/invoice_button/maintenance").status, 200);
  HttpMessage after = Get("/");
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.body.find("tidegate-hide"), std::string::npos);
}

}  // namespace
}  // namespace tidegate::itest
