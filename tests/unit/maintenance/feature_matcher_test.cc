// maintenance/feature_matcher: every rule kind, the RE2::Set, and the path
// normalisation against bypass attempts (case 44).
#include "maintenance/feature_matcher.h"

#include <gtest/gtest.h>

#include "proxy/path_normalizer.h"

namespace tidegate::maintenance {
namespace {

config::FeatureConfig Feature(std::string name, std::vector<config::FeatureMatchRule> rules) {
  config::FeatureConfig f;
  f.name = std::move(name);
  f.match = std::move(rules);
  return f;
}

config::FeatureMatchRule PathRule(std::string path) {
  config::FeatureMatchRule r;
  r.path = std::move(path);
  return r;
}

struct Req {
  std::string method = "GET";
  std::string target = "/";
  std::string host = "shop.example";
  proxy::HeaderList headers;
};

class MatcherTest : public ::testing::Test {
 protected:
  void Build(std::vector<config::FeatureConfig> features) {
    features_ = std::move(features);
    std::string error;
    matcher_ = FeatureMatcher::Build(features_, &error);
    ASSERT_TRUE(matcher_) << error;
  }
  std::vector<size_t> Match(const Req& req, const std::vector<bool>* wanted = nullptr) {
    std::string path = proxy::NormalizePath(req.target);
    std::vector<size_t> out;
    matcher_->Match(MatchInput{req.method, path, req.target, req.host, &req.headers}, wanted, &out);
    return out;
  }
  bool Matches(const std::string& target) {
    Req r;
    r.target = target;
    return !Match(r).empty();
  }
  std::vector<config::FeatureConfig> features_;
  std::unique_ptr<FeatureMatcher> matcher_;
};

using Indices = std::vector<size_t>;

TEST_F(MatcherTest, PathIsNormalisedBeforeMatching) {
  Build({Feature("checkout", {PathRule("^/checkout")})});
  EXPECT_TRUE(Matches("/checkout"));
  EXPECT_TRUE(Matches("/checkout/step2?x=1"));
  // Case 44: every spelling of /checkout is gated like /checkout.
  EXPECT_TRUE(Matches("/Checkout"));
  EXPECT_TRUE(Matches("/CHECKOUT"));
  EXPECT_TRUE(Matches("//checkout"));
  EXPECT_TRUE(Matches("///checkout"));
  EXPECT_TRUE(Matches("/checkout;x=1"));
  EXPECT_TRUE(Matches("/checkout;jsessionid=abc/step2"));
  EXPECT_TRUE(Matches("/%63heckout"));
  EXPECT_TRUE(Matches("/%43HECKOUT"));
  EXPECT_TRUE(Matches("/a/../checkout"));
  EXPECT_TRUE(Matches("/./checkout"));
  EXPECT_TRUE(Matches("/../../checkout"));
  EXPECT_TRUE(Matches("/a/b/../../checkout"));
  // Not checkout.
  EXPECT_FALSE(Matches("/"));
  EXPECT_FALSE(Matches("/cart"));
  EXPECT_FALSE(Matches("/shop/checkout"));  // the merchant anchored with ^
  EXPECT_FALSE(Matches("/check%2Fout"));    // an encoded slash is not a separator
  EXPECT_FALSE(Matches("/?next=/checkout"));
}

TEST_F(MatcherTest, UnanchoredPatternsMatchAnywhereLikeRe2PartialMatch) {
  Build({Feature("search", {PathRule("search")}), Feature("exact", {PathRule("^/about$")})});
  Req r;
  r.target = "/api/v2/search/items";
  EXPECT_EQ(Match(r), Indices{0});
  r.target = "/about";
  EXPECT_EQ(Match(r), Indices{1});
  r.target = "/about/team";
  EXPECT_EQ(Match(r), Indices{});
}

TEST_F(MatcherTest, MethodsHostQueryHeaderCookie) {
  config::FeatureMatchRule methods = PathRule("^/api/orders");
  methods.methods = {"POST", "PUT"};
  config::FeatureMatchRule host;
  host.host = "m.shop.example";
  config::FeatureMatchRule query = PathRule("^/api/payments");
  query.query = {{"method", "paypal"}};
  config::FeatureMatchRule header;
  header.header = {{"x-client", "app"}};
  config::FeatureMatchRule cookie = PathRule("^/shipping");
  cookie.cookie = {{"ship", "express"}};
  Build({Feature("orders", {methods}), Feature("mobile", {host}), Feature("paypal", {query}),
         Feature("app", {header}), Feature("express", {cookie})});

  Req r;
  r.target = "/api/orders";
  EXPECT_EQ(Match(r), Indices{});
  r.method = "POST";
  EXPECT_EQ(Match(r), Indices{0});
  r.method = "PUT";
  EXPECT_EQ(Match(r), Indices{0});

  Req h;
  h.host = "m.shop.example:8443";  // the port is ignored
  EXPECT_EQ(Match(h), Indices{1});
  h.host = "m.shop.example.";  // one trailing dot: the same fully qualified name
  EXPECT_EQ(Match(h), Indices{1});
  h.host = "m.shop.example.:8443";
  EXPECT_EQ(Match(h), Indices{1});
  h.host = "shop.example";
  EXPECT_EQ(Match(h), Indices{});

  Req q;
  q.target = "/api/payments?amount=3&method=paypal";
  EXPECT_EQ(Match(q), Indices{2});
  q.target = "/api/payments?method=pay%70al";  // decoded before comparing
  EXPECT_EQ(Match(q), Indices{2});
  q.target = "/api/payments?method=paypal2";
  EXPECT_EQ(Match(q), Indices{});
  q.target = "/api/payments?xmethod=paypal";
  EXPECT_EQ(Match(q), Indices{});
  q.target = "/api/payments?method=card&method=paypal";  // any occurrence
  EXPECT_EQ(Match(q), Indices{2});

  Req a;
  a.headers.Add("X-Client", "app");  // name case-insensitive
  EXPECT_EQ(Match(a), Indices{3});
  Req b;
  b.headers.Add("X-Client", "web");
  EXPECT_EQ(Match(b), Indices{});

  Req c;
  c.target = "/shipping/options";
  c.headers.Add("Cookie", "session=1; ship=express; theme=dark");
  EXPECT_EQ(Match(c), Indices{4});
  Req d;
  d.target = "/shipping/options";
  d.headers.Add("Cookie", "ship=standard");
  EXPECT_EQ(Match(d), Indices{});
  d.headers.Add("Cookie", "ship=\"express\"");  // a second Cookie header, quoted value
  EXPECT_EQ(Match(d), Indices{4});
  Req e;
  e.headers.Add("Cookie", "ship=express");  // the right cookie, the wrong path
  EXPECT_EQ(Match(e), Indices{});
}

TEST_F(MatcherTest, AllFieldsOfARuleMustMatchAnyRuleOfAFeature) {
  config::FeatureMatchRule both = PathRule("^/api/pay");
  both.methods = {"POST"};
  both.header = {{"x-provider", "klarna"}};
  Build({Feature("klarna", {both, PathRule("^/klarna")})});
  Req r;
  r.target = "/api/pay";
  r.method = "POST";
  EXPECT_EQ(Match(r), Indices{});  // header missing
  r.headers.Add("X-Provider", "klarna");
  EXPECT_EQ(Match(r), Indices{0});
  r.method = "GET";
  EXPECT_EQ(Match(r), Indices{});
  Req other;
  other.target = "/Klarna/return";  // the second rule
  EXPECT_EQ(Match(other), Indices{0});
}

TEST_F(MatcherTest, WantedLimitsTheFeaturesExamined) {
  Build({Feature("a", {PathRule("^/x")}), Feature("b", {PathRule("^/x")}),
         Feature("c", {PathRule("^/x")})});
  Req r;
  r.target = "/x";
  EXPECT_EQ(Match(r), (Indices{0, 1, 2}));
  std::vector<bool> wanted = {false, true, false};
  EXPECT_EQ(Match(r, &wanted), Indices{1});
}

TEST_F(MatcherTest, TwoHundredFeaturesThousandPatternsInOneSet) {
  std::vector<config::FeatureConfig> features;
  for (int f = 0; f < 200; ++f) {
    std::vector<config::FeatureMatchRule> rules;
    for (int p = 0; p < 5; ++p) {
      rules.push_back(PathRule("^/f" + std::to_string(f) + "/p" + std::to_string(p) + "(/|$)"));
    }
    features.push_back(Feature("f" + std::to_string(f), rules));
  }
  Build(features);
  EXPECT_EQ(matcher_->pattern_count(), 1000u);
  Req r;
  r.target = "/f137/p4/item";
  EXPECT_EQ(Match(r), Indices{137});
  r.target = "/F199/P0";
  EXPECT_EQ(Match(r), Indices{199});
  r.target = "/f137/p5";
  EXPECT_EQ(Match(r), Indices{});
  r.target = "/bench/1k.html";
  EXPECT_EQ(Match(r), Indices{});
}

TEST_F(MatcherTest, NoFeaturesMatchesNothing) {
  Build({});
  Req r;
  EXPECT_EQ(Match(r), Indices{});
}

TEST_F(MatcherTest, BodyRulesNeedTheBodyThenAreDecidedOrUndecided) {
  config::FeatureMatchRule rule = PathRule("^/pay");
  rule.methods = {"POST"};
  rule.form = {{"method", "invoice"}};
  Build({Feature("invoice", {rule}), Feature("pay_page", {PathRule("^/pay$")})});
  auto run = [&](const std::string& target, const BodyFields* body, Indices* needs,
                 Indices* undecided) {
    std::string path = proxy::NormalizePath(target);
    proxy::HeaderList headers;
    Indices out;
    matcher_->Match(MatchInput{"POST", path, target, "shop.example", &headers, body}, nullptr, &out,
                    needs, undecided);
    return out;
  };
  Indices needs;
  EXPECT_EQ(run("/pay", nullptr, &needs, nullptr), Indices{1});
  EXPECT_EQ(needs, Indices{0});
  needs.clear();
  // The field in the query string decides without the body.
  EXPECT_EQ(run("/pay?method=invoice", nullptr, &needs, nullptr), (Indices{0, 1}));
  EXPECT_TRUE(needs.empty());

  Indices undecided;
  BodyFields whole(BodyKind::kForm, "method=card", true);
  EXPECT_EQ(run("/pay", &whole, nullptr, &undecided), Indices{1});
  EXPECT_TRUE(undecided.empty());
  BodyFields cut(BodyKind::kForm, "method=card&x=1", false);
  EXPECT_EQ(run("/pay", &cut, nullptr, &undecided), Indices{1});
  EXPECT_EQ(undecided, Indices{0});
  undecided.clear();
  BodyFields plain(BodyKind::kUnknown, "method=invoice", true);
  run("/pay", &plain, nullptr, &undecided);
  EXPECT_EQ(undecided, Indices{0});
  undecided.clear();
  BodyFields found(BodyKind::kForm, "method=invoice&x=", false);  // found before the cut
  EXPECT_EQ(run("/pay", &found, nullptr, &undecided), (Indices{0, 1}));
  EXPECT_TRUE(undecided.empty());
}

// Audit 5: PHP readings of names, the query's name case for form rules, and
// JSON paths in bracket notation (and back).
TEST_F(MatcherTest, FieldNamesAreReadAsPhpAndRailsReadThem) {
  config::FeatureMatchRule form = PathRule("^/ship");
  form.form = {{"shipping_method", "express"}};
  config::FeatureMatchRule json = PathRule("^/pay");
  json.json = {{"payment.method", "paypal"}};
  config::FeatureMatchRule nested = PathRule("^/order");
  nested.form = {{"payment[method]", "invoice"}};
  Build({Feature("ship", {form}), Feature("paypal", {json}), Feature("invoice", {nested})});
  auto run = [&](const std::string& target, const BodyFields* body, Indices* undecided = nullptr) {
    std::string path = proxy::NormalizePath(target);
    proxy::HeaderList headers;
    Indices out;
    Indices needs;
    matcher_->Match(MatchInput{"POST", path, target, "shop.example", &headers, body}, nullptr, &out,
                    &needs, undecided);
    return out;
  };
  EXPECT_EQ(run("/ship?SHIPPING_METHOD=express", nullptr), Indices{0});
  EXPECT_EQ(run("/ship?shipping.method=express", nullptr), Indices{0});
  EXPECT_EQ(run("/ship?+shipping_method=express", nullptr), Indices{0});
  BodyFields php(BodyKind::kForm, "shipping.method=express", true);
  EXPECT_EQ(run("/ship", &php), Indices{0});

  // A JSON path is also its bracket name in a form body or the query.
  EXPECT_EQ(run("/pay?payment[method]=paypal", nullptr), Indices{1});
  EXPECT_EQ(run("/pay?Payment%5BMethod%5D=paypal", nullptr), Indices{1});
  BodyFields bracket(BodyKind::kForm, "payment[method]=paypal", true);
  EXPECT_EQ(run("/pay", &bracket), Indices{1});
  BodyFields php_bracket(BodyKind::kForm, "payment[ method]=paypal", true);
  EXPECT_EQ(run("/pay", &php_bracket), Indices{1});
  BodyFields other(BodyKind::kForm, "payment[method]=card", true);
  Indices undecided;
  EXPECT_TRUE(run("/pay", &other, &undecided).empty());
  EXPECT_TRUE(undecided.empty());  // a readable, whole form body decides
  BodyFields as_json(BodyKind::kJson, R"({"payment": {"method": "paypal"}})", true);
  EXPECT_EQ(run("/pay", &as_json), Indices{1});

  // A form rule's bracket name is also the JSON body's nested key.
  BodyFields nested_json(BodyKind::kJson, R"({"payment": {"method": "invoice"}})", true);
  EXPECT_EQ(run("/order", &nested_json), Indices{2});
  BodyFields nested_form(BodyKind::kForm, "payment[method]=invoice", true);
  EXPECT_EQ(run("/order", &nested_form), Indices{2});
  BodyFields flat(BodyKind::kForm, "method=invoice", true);
  EXPECT_TRUE(run("/order", &flat).empty());  // a bracket name is not its last key
}

}  // namespace
}  // namespace tidegate::maintenance

namespace tidegate::maintenance {
namespace {

// Audit 15: a rule on some methods gates the request that asks, through a
// method override, to be run as one of them (maintenance/method_override.h).
TEST_F(MatcherTest, MethodOverridesAreJudgedLikeTheMethodTheyName) {
  config::FeatureMatchRule rule = PathRule("^/api/returns/");
  rule.methods = {"DELETE", "PUT"};
  Build({Feature("returns", {rule})});
  auto match = [&](const std::string& method, const std::string& target,
                   std::vector<std::pair<std::string, std::string>> fields,
                   const BodyFields* body = nullptr, std::vector<size_t>* needs_body = nullptr) {
    Req r;
    r.method = method;
    r.target = target;
    for (auto& [n, v] : fields) r.headers.Add(n, v);
    std::string path = proxy::NormalizePath(r.target);
    std::vector<size_t> out;
    matcher_->Match(MatchInput{r.method, path, r.target, r.host, &r.headers, body}, nullptr, &out,
                    needs_body);
    return out;
  };
  EXPECT_EQ(match("DELETE", "/api/returns/7", {}), Indices{0});
  EXPECT_EQ(match("POST", "/api/returns/7", {}), Indices{});
  for (const char* name : {"X-HTTP-Method-Override", "x-http-method", "X-Method-Override"}) {
    EXPECT_EQ(match("POST", "/api/returns/7", {{name, " delete "}}), Indices{0}) << name;
    EXPECT_EQ(match("GET", "/api/returns/7", {{name, "PUT"}}), Indices{0}) << name;
    EXPECT_EQ(match("POST", "/api/returns/7", {{name, "PATCH"}}), Indices{}) << name;
  }
  EXPECT_EQ(match("POST", "/api/returns/7?_method=DELETE", {}), Indices{0});
  EXPECT_EQ(match("POST", "/api/returns/7?a=1&_method=%70ut", {}), Indices{0});
  EXPECT_EQ(match("POST", "/api/returns/7?_method=GET", {}), Indices{});

  // A form's _method is read once the body is: until then the body is asked for.
  std::vector<size_t> needs;
  EXPECT_EQ(match("POST", "/api/returns/7", {{"Content-Length", "15"}}, nullptr, &needs),
            Indices{});
  EXPECT_EQ(needs, Indices{0});
  BodyFields form(BodyKind::kForm, "_method=delete&x=1", true);
  EXPECT_EQ(match("POST", "/api/returns/7", {{"Content-Length", "18"}}, &form), Indices{0});
  BodyFields other(BodyKind::kForm, "_method=patch&x=1", true);
  EXPECT_EQ(match("POST", "/api/returns/7", {{"Content-Length", "17"}}, &other), Indices{});
  // No body, no form to read.
  needs.clear();
  EXPECT_EQ(match("POST", "/api/returns/7", {}, nullptr, &needs), Indices{});
  EXPECT_TRUE(needs.empty());
}

}  // namespace
}  // namespace tidegate::maintenance
