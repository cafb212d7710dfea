#include "config/loader.h"

#include <gtest/gtest.h>

#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::InTestData;
using testing::LoadWithMinimal;

TEST(LoaderTest, MinimalConfigGetsDefaults) {
  LoadResult result = LoadWithMinimal("");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  const Config& config = *result.config;
  ASSERT_EQ(config.server.listen.size(), 1u);
  EXPECT_EQ(config.server.listen[0].host, "127.0.0.1");
  EXPECT_EQ(config.server.listen[0].port, 8080);
  EXPECT_EQ(config.server.workers, 0);
  EXPECT_FALSE(config.server.tls.has_value());
  EXPECT_EQ(config.server.max_body_bytes, 16u << 20);
  EXPECT_EQ(config.server.header_timeout, Duration(10'000));
  EXPECT_EQ(config.server.error_log, "-");
  EXPECT_EQ(config.server.log_level, "info");
  ASSERT_EQ(config.upstream.servers.size(), 1u);
  EXPECT_EQ(config.upstream.servers[0].port, 9000);
  EXPECT_EQ(config.upstream.connect_timeout, Duration(3'000));
  EXPECT_EQ(config.state.backend, StateBackend::kLocal);
  EXPECT_EQ(config.state.on_failure, StoreFailureMode::kLocal);
  EXPECT_EQ(config.admin.listen.host, "127.0.0.1");
  EXPECT_EQ(config.admin.listen.port, 9901);
  EXPECT_TRUE(config.admin.tokens.empty());
  EXPECT_TRUE(config.secrets.token_keys.empty());
  EXPECT_TRUE(config.rooms.empty());
  EXPECT_TRUE(config.features.empty());
  EXPECT_FALSE(config.banner.enabled);
  EXPECT_EQ(config.banner.severity, "info");
  EXPECT_EQ(config.source_files, std::vector<std::string>{InTestData("main.toml")});
}

TEST(LoaderTest, EveryKeyIsReadAndConverted) {
  LoadResult result = LoadConfigFromStrings({{InTestData("full.toml"), R"(
[server]
listen = ["127.0.0.1:8080", "[::1]:8081"]
workers = 4
max_connections = 2000
max_request_line = "16KB"
max_header_bytes = 65536
max_headers = 50
max_body_bytes = "1MB"
header_timeout = "5s"
body_timeout = "30s"
keepalive_timeout = "1m"
send_timeout = "45s"
drain_timeout = "10s"
access_log = "logs/access.jsonl"
error_log = "-"
log_level = "debug"

[server.tls]
listen = ["127.0.0.1:8443"]
certificates = [{ cert = "tls/shop.pem", key = "tls/shop.key" }]

[upstream]
servers = ["127.0.0.1:9000", "127.0.0.2:9000"]
connect_timeout = "1s"
response_timeout = "20s"
read_timeout = "40s"
keepalive = 8
keepalive_timeout = "30s"
max_fails = 5
fail_timeout = "15s"

[state]
backend = "redis"
redis = "unix:/run/redis/redis.sock"
on_failure = "closed"
redis_timeout = "100ms"
resync_interval = "2s"

[admin]
listen = "127.0.0.1:9902"
tokens = [{ name = "ops", token_sha256 = "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", role = "operator" },
          { name = "dash", token_sha256 = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", role = "viewer" }]

[secrets]
token_keys = [{ id = "k1", secret_file = "keys/good" }]

[rooms.shop]
match = ["^/"]
total_active_users = 300
new_users_per_minute = 60
session_duration = "10m"
queueing_method = "random"
mode = "queue_all"
enabled = true
enforced = false
queued_status = 503

[features.checkout]
enabled = true
enforced = false

[[features.checkout.match]]
path = "^/checkout"

[[features.checkout.match]]
path = "^/api/payments"
methods = ["post"]
host = "Shop.Example."  # one trailing dot is dropped
query = { method = "paypal" }
header = { "X-Client" = "app" }
cookie = { beta = "1" }
form = { pay = "card" }
json = { "payment.method" = "klarna" }

[banner]
enabled = true
message = "High demand. Next update at 14:30."
severity = "warning"
)"}});
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.server.listen[1].host, "::1");
  EXPECT_EQ(c.server.workers, 4);
  EXPECT_EQ(c.server.max_connections, 2000u);
  EXPECT_EQ(c.server.max_request_line, 16u << 10);
  EXPECT_EQ(c.server.max_header_bytes, 65536u);
  EXPECT_EQ(c.server.max_headers, 50u);
  EXPECT_EQ(c.server.max_body_bytes, 1u << 20);
  EXPECT_EQ(c.server.header_timeout, Duration(5'000));
  EXPECT_EQ(c.server.keepalive_timeout, Duration(60'000));
  EXPECT_EQ(c.server.drain_timeout, Duration(10'000));
  EXPECT_EQ(c.server.access_log, InTestData("logs/access.jsonl"));
  EXPECT_EQ(c.server.log_level, "debug");
  ASSERT_TRUE(c.server.tls);
  EXPECT_EQ(c.server.tls->listen[0].port, 8443);
  ASSERT_EQ(c.server.tls->certificates.size(), 1u);
  EXPECT_EQ(c.server.tls->certificates[0].cert_file, InTestData("tls/shop.pem"));
  EXPECT_EQ(c.server.tls->certificates[0].key_file, InTestData("tls/shop.key"));
  EXPECT_EQ(c.upstream.servers.size(), 2u);
  EXPECT_EQ(c.upstream.keepalive, 8u);
  EXPECT_EQ(c.upstream.max_fails, 5u);
  EXPECT_EQ(c.upstream.fail_timeout, Duration(15'000));
  EXPECT_EQ(c.state.backend, StateBackend::kRedis);
  ASSERT_TRUE(c.state.redis);
  EXPECT_EQ(c.state.redis->unix_path, "/run/redis/redis.sock");
  EXPECT_EQ(c.state.on_failure, StoreFailureMode::kClosed);
  EXPECT_EQ(c.state.redis_timeout, Duration(100));
  EXPECT_EQ(c.admin.listen.port, 9902);
  ASSERT_EQ(c.admin.tokens.size(), 2u);
  EXPECT_EQ(c.admin.tokens[0].token_sha256,
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  EXPECT_EQ(c.admin.tokens[0].role, AdminRole::kOperator);
  EXPECT_EQ(c.admin.tokens[1].role, AdminRole::kViewer);
  ASSERT_EQ(c.secrets.token_keys.size(), 1u);
  EXPECT_EQ(c.secrets.token_keys[0].secret, "this-is-a-test-only-secret-of-48-bytes-abcdefgh");
  ASSERT_EQ(c.rooms.size(), 1u);
  const RoomConfig& room = c.rooms[0];
  EXPECT_EQ(room.name, "shop");
  EXPECT_EQ(room.match, std::vector<std::string>{"^/"});
  EXPECT_EQ(room.total_active_users, 300u);
  EXPECT_EQ(room.new_users_per_minute, 60u);
  EXPECT_EQ(room.session_duration, Duration(600'000));
  EXPECT_EQ(room.queueing_method, QueueingMethod::kRandom);
  EXPECT_EQ(room.mode, RoomMode::kQueueAll);
  EXPECT_FALSE(room.enforced);
  EXPECT_EQ(room.queued_status, 503);
  ASSERT_EQ(c.features.size(), 1u);
  const FeatureConfig& feature = c.features[0];
  EXPECT_EQ(feature.name, "checkout");
  EXPECT_FALSE(feature.enforced);
  ASSERT_EQ(feature.match.size(), 2u);
  EXPECT_EQ(feature.match[0].path, "^/checkout");
  const FeatureMatchRule& rule = feature.match[1];
  EXPECT_EQ(rule.methods, std::vector<std::string>{"POST"});
  EXPECT_EQ(rule.host, "shop.example");  // lower-cased, trailing dot dropped
  EXPECT_EQ(rule.query.at("method"), "paypal");
  EXPECT_EQ(rule.header.at("x-client"), "app");
  EXPECT_EQ(rule.cookie.at("beta"), "1");
  EXPECT_EQ(rule.form.at("pay"), "card");
  EXPECT_EQ(rule.json.at("payment.method"), "klarna");
  EXPECT_TRUE(c.banner.enabled);
  EXPECT_EQ(c.banner.severity, "warning");
}

TEST(LoaderTest, UnknownKeyNamesFileLineColumnAndKeyPath) {
  LoadResult result = LoadConfigFromStrings({{"shop.toml",
                                              "[server]\nlistn = [\"127.0.0.1:8080\"]\n"
                                              "listen = [\"127.0.0.1:8080\"]\n"
                                              "[upstream]\nservers = [\"127.0.0.1:9000\"]\n"}});
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 1u) << AllErrors(result);
  const ConfigError& error = result.errors[0];
  EXPECT_EQ(error.file, "shop.toml");
  EXPECT_EQ(error.line, 2);
  EXPECT_EQ(error.column, 1);
  EXPECT_EQ(error.key, "server.listn");
  EXPECT_EQ(FormatError(error),
            "shop.toml:2:1 server.listn: unknown key (did you mean \"listen\"?)");
}

TEST(LoaderTest, UnknownKeysAtEveryDepth) {
  LoadResult result = LoadWithMinimal(R"(
[bannr]
enabled = true
[rooms.shop]
match = ["^/"]
mode = "off"
new_users_per_minit = 5
[features.checkout]
match = [{ path = "^/checkout", methdos = ["POST"] }]
)");
  EXPECT_TRUE(HasError(result, "bannr", "unknown key")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "rooms.shop.new_users_per_minit", "unknown key"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "features.checkout.match[0].methdos", "unknown key"))
      << AllErrors(result);
  EXPECT_EQ(result.errors.size(), 3u) << AllErrors(result);
}

TEST(LoaderTest, TypeErrorsSayWhatWasExpected) {
  LoadResult result = LoadConfigFromStrings({{"t.toml", R"(
[server]
listen = "127.0.0.1:8080"
workers = "4"
max_body_bytes = true
header_timeout = 10
[upstream]
servers = [9000]
[banner]
enabled = "yes"
)"}});
  EXPECT_TRUE(HasError(result, "server.listen", "expected an array, got a string"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "server.workers", "expected an integer, got a string"));
  EXPECT_TRUE(HasError(result, "server.max_body_bytes", "expected a size"));
  EXPECT_TRUE(HasError(result, "server.header_timeout", "a bare number has no unit"));
  EXPECT_TRUE(HasError(result, "upstream.servers[0]", "expected an address string"));
  EXPECT_TRUE(HasError(result, "banner.enabled", "expected true or false"));
}

TEST(LoaderTest, RangesAreChecked) {
  LoadResult result = LoadConfigFromStrings({{"r.toml", R"(
[server]
listen = ["127.0.0.1:8080"]
workers = -1
max_headers = 0
header_timeout = "2h"
[upstream]
servers = ["127.0.0.1:9000"]
[rooms.shop]
match = ["^/"]
mode = "off"
total_active_users = 0
session_duration = "5s"
queued_status = 404
)"}});
  EXPECT_TRUE(HasError(result, "server.workers", "out of range")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "server.max_headers", "out of range"));
  EXPECT_TRUE(HasError(result, "server.header_timeout", "out of range"));
  EXPECT_TRUE(HasError(result, "rooms.shop.total_active_users", "out of range"));
  EXPECT_TRUE(HasError(result, "rooms.shop.session_duration", "out of range"));
  EXPECT_TRUE(HasError(result, "rooms.shop.queued_status", "not one of 200, 202, 429, 503"));
}

struct EnumCase {
  const char* section;  // TOML appended to the minimal config, with %s for the value
  const char* key;
  std::vector<const char*> good;
};

TEST(LoaderTest, EveryEnumAcceptsItsValuesAndRejectsOthers) {
  const std::vector<EnumCase> cases = {
      {"[state]\nbackend = \"%s\"\nredis = \"127.0.0.1:6379\"\n",
       "state.backend",
       {"local", "redis"}},
      {"[state]\non_failure = \"%s\"\n", "state.on_failure", {"local", "open", "closed"}},
      {"[admin]\ntokens=[{name=\"a\",token_sha256="
       "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",role=\"%s\"}]\n",
       "admin.tokens[0].role",
       {"viewer", "operator"}},
      {"[rooms.shop]\nmatch=[\"^/\"]\nmode=\"off\"\nqueueing_method = \"%s\"\n",
       "rooms.shop.queueing_method",
       {"fifo", "random", "passthrough", "reject"}},
      {"[secrets]\ntoken_keys=[{id=\"k1\",secret_file=\"keys/good\"}]\n[rooms.shop]\nmatch=[\"^/"
       "\"]\nmode = \"%s\"\n",
       "rooms.shop.mode",
       {"off", "auto", "queue_all"}},
      {"[banner]\nseverity = \"%s\"\n", "banner.severity", {"info", "warning", "critical"}},
  };
  auto with = [](const char* pattern, const std::string& value) {
    std::string text = pattern;
    text.replace(text.find("%s"), 2, value);
    return text;
  };
  for (const EnumCase& c : cases) {
    for (const char* good : c.good) {
      LoadResult result = LoadWithMinimal(with(c.section, good));
      EXPECT_TRUE(result.ok()) << c.key << " = " << good << "\n" << AllErrors(result);
    }
    for (const char* bad : {"Bogus", ""}) {
      LoadResult result = LoadWithMinimal(with(c.section, bad));
      EXPECT_TRUE(HasError(result, c.key, "is not one of")) << c.key << "\n" << AllErrors(result);
    }
  }
  for (const char* level : {"debug", "info", "warn", "error"}) {
    LoadResult ok = LoadConfigFromStrings(
        {{"l.toml", std::string("[server]\nlisten=[\"127.0.0.1:8080\"]\nlog_level=\"") + level +
                        "\"\n[upstream]\nservers=[\"127.0.0.1:9000\"]\n"}});
    EXPECT_TRUE(ok.ok()) << level << AllErrors(ok);
  }
  LoadResult bad =
      LoadConfigFromStrings({{"l.toml",
                              "[server]\nlisten=[\"127.0.0.1:8080\"]\nlog_level=\"verbose\"\n["
                              "upstream]\nservers=[\"127.0.0.1:9000\"]\n"}});
  EXPECT_TRUE(HasError(bad, "server.log_level", "is not one of"));
}

TEST(LoaderTest, MissingRequiredSections) {
  LoadResult result = LoadConfigFromStrings({{"empty.toml", "# nothing\n"}});
  EXPECT_TRUE(HasError(result, "server.listen", "is required")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "upstream.servers", "is required"));
  for (const ConfigError& error : result.errors) EXPECT_EQ(error.file, "empty.toml");
}

TEST(LoaderTest, CollectsAllErrorsInFileOrder) {
  LoadResult result = LoadConfigFromStrings({{"many.toml", R"(
[server]
listen = ["localhost:8080"]
[upstream]
servers = ["127.0.0.1:9000"]
connect_timeout = "3 s"
[state]
backend = "memcached"
[features.checkout]
match = [{ path = "^/checkout(" }]
)"}});
  ASSERT_EQ(result.errors.size(), 4u) << AllErrors(result);
  EXPECT_EQ(result.errors[0].key, "server.listen[0]");
  EXPECT_EQ(result.errors[0].line, 3);
  EXPECT_EQ(result.errors[1].key, "upstream.connect_timeout");
  EXPECT_EQ(result.errors[1].line, 6);
  EXPECT_EQ(result.errors[2].key, "state.backend");
  EXPECT_EQ(result.errors[3].key, "features.checkout.match[0].path");
  EXPECT_NE(result.errors[3].message.find("missing )"), std::string::npos)
      << result.errors[3].message;
  EXPECT_FALSE(result.config);
}

TEST(LoaderTest, SyntaxErrorHasPosition) {
  LoadResult result =
      LoadConfigFromStrings({{"bad.toml", "[server]\nlisten = [\"127.0.0.1:8080\"\n"}});
  ASSERT_EQ(result.errors.size(), 1u) << AllErrors(result);
  EXPECT_EQ(result.errors[0].file, "bad.toml");
  EXPECT_GE(result.errors[0].line, 2);
  EXPECT_GT(result.errors[0].column, 0);
}

TEST(LoaderTest, BadRegexInRoomReportsRe2Error) {
  LoadResult result =
      LoadWithMinimal("[rooms.shop]\nmatch = [\"^/\", \"[unclosed\"]\nmode = \"off\"\n");
  EXPECT_TRUE(HasError(result, "rooms.shop.match[1]", "missing ]")) << AllErrors(result);
}

TEST(LoaderTest, SecretFileProblems) {
  LoadResult missing =
      LoadWithMinimal("[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"keys/nope\" }]\n");
  EXPECT_TRUE(HasError(missing, "secrets.token_keys[0].secret_file", "does not exist"))
      << AllErrors(missing);
  LoadResult short_key =
      LoadWithMinimal("[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"keys/short\" }]\n");
  EXPECT_TRUE(HasError(short_key, "secrets.token_keys[0].secret_file", "at least 32"))
      << AllErrors(short_key);
  LoadResult duplicate = LoadWithMinimal(
      "[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"keys/good\" }, { id = \"k1\", "
      "secret_file = \"keys/good\" }]\n");
  EXPECT_TRUE(HasError(duplicate, "secrets.token_keys[1].id", "used by another key"))
      << AllErrors(duplicate);
}

TEST(LoaderTest, ActiveRoomNeedsTokenKeys) {
  LoadResult active = LoadWithMinimal("[rooms.shop]\nmatch = [\"^/\"]\n");
  EXPECT_TRUE(HasError(active, "rooms.shop", "token_keys")) << AllErrors(active);
  EXPECT_TRUE(LoadWithMinimal("[rooms.shop]\nmatch = [\"^/\"]\nmode = \"off\"\n").ok());
  EXPECT_TRUE(LoadWithMinimal("[rooms.shop]\nmatch = [\"^/\"]\nenabled = false\n").ok());
  // A mistyped mode is one error, not two.
  LoadResult typo = LoadWithMinimal("[rooms.shop]\nmatch = [\"^/\"]\nmode = \"of\"\n");
  ASSERT_EQ(typo.errors.size(), 1u) << AllErrors(typo);
  EXPECT_EQ(typo.errors[0].key, "rooms.shop.mode");
}

TEST(LoaderTest, AdminTokenChecks) {
  LoadResult result = LoadWithMinimal(R"(
[admin]
listen = "unix:/run/tidegate/admin.sock"
tokens = [{ name = "ops", token_sha256 = "abc", role = "operator" },
          { name = "ops", token_sha256 = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", role = "root" },
          { name = "x" }]
)");
  EXPECT_TRUE(HasError(result, "admin.tokens[0].token_sha256", "64 hexadecimal"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "admin.tokens[1].name", "used by another token"));
  EXPECT_TRUE(HasError(result, "admin.tokens[1].token_sha256", "64 hexadecimal"));
  EXPECT_TRUE(HasError(result, "admin.tokens[1].role", "is not one of"));
  EXPECT_TRUE(HasError(result, "admin.tokens[2].token_sha256", "is required"));
  EXPECT_TRUE(HasError(result, "admin.tokens[2].role", "is required"));
}

TEST(LoaderTest, RedisRequiredForRedisBackend) {
  LoadResult result = LoadWithMinimal("[state]\nbackend = \"redis\"\n");
  EXPECT_TRUE(HasError(result, "state.redis", "is required when backend")) << AllErrors(result);
  EXPECT_TRUE(HasError(LoadWithMinimal("[state]\nredis = \"redis.local:6379\"\n"), "state.redis",
                       "not an IP address"));
}

TEST(LoaderTest, TlsFilesMustExist) {
  LoadResult result = LoadWithMinimal(R"(
[server.tls]
listen = ["127.0.0.1:8443"]
certificates = [{ cert = "tls/missing.pem", key = "tls/shop.key" }]
)");
  EXPECT_TRUE(HasError(result, "server.tls.certificates[0].cert", "does not exist"))
      << AllErrors(result);
  EXPECT_EQ(result.errors.size(), 1u) << AllErrors(result);
}

TEST(LoaderTest, TlsOnlyServerNeedsNoPlainListener) {
  LoadResult result = LoadConfigFromStrings({{InTestData("tls.toml"), R"(
[server.tls]
listen = ["127.0.0.1:8443"]
certificates = [{ cert = "tls/shop.pem", key = "tls/shop.key" }]
[upstream]
servers = ["127.0.0.1:9000"]
)"}});
  EXPECT_TRUE(result.ok()) << AllErrors(result);
}

TEST(LoaderTest, FeatureRuleChecks) {
  LoadResult result = LoadWithMinimal(R"(
[features.empty_rule]
match = [{}]
[features.no_match]
enabled = true
[features.bad_method]
match = [{ methods = ["PO ST"] }]
[features.bad_json]
match = [{ json = { "a..b" = "x" } }]
[features.twice]
match = [{ header = { "X-Client" = "a", "x-client" = "b" } }]
[features."bad name"]
match = [{ path = "^/" }]
)");
  EXPECT_TRUE(HasError(result, "features.empty_rule.match[0]", "match every request"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "features.no_match.match", "is required"));
  EXPECT_TRUE(HasError(result, "features.bad_method.match[0].methods[0]", "not an HTTP method"));
  EXPECT_TRUE(HasError(result, "features.bad_json.match[0].json", "dotted JSON path"));
  EXPECT_TRUE(HasError(result, "features.bad name", "feature names"));
  EXPECT_TRUE(HasError(result, "features.twice.match[0].header", "given twice"));
}

TEST(LoaderTest, FeatureMaintenanceWindowFromConfig) {
  LoadResult result = LoadWithMinimal(R"(
[features.search]
match = [{ path = "^/search" }]
maintenance = { message = "Search is being upgraded.", starts_at = 2026-11-24T02:00:00Z, until = "2026-11-24T04:30:00+01:00" }
[features.always]
match = [{ path = "^/gift" }]
maintenance = {}
)");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  const auto& features = result.config->features;
  ASSERT_EQ(features.size(), 2u);
  EXPECT_EQ(features[0].name, "always");
  ASSERT_TRUE(features[0].maintenance.has_value());
  EXPECT_FALSE(features[0].maintenance->until.has_value());
  const auto& window = *features[1].maintenance;
  EXPECT_EQ(window.message, "Search is being upgraded.");
  using std::chrono::seconds;
  EXPECT_EQ(window.starts_at->time_since_epoch(), seconds(1795485600));     // 2026-11-24T02:00:00Z
  EXPECT_EQ(window.until->time_since_epoch(), seconds(1795485600 + 5400));  // 03:30Z
}

TEST(LoaderTest, FeatureMaintenanceWindowChecks) {
  LoadResult result = LoadWithMinimal(R"(
[features.a]
match = [{ path = "^/a" }]
maintenance = { starts_at = 2026-11-24T02:00:00Z, until = 2026-11-24T01:00:00Z }
[features.b]
match = [{ path = "^/b" }]
maintenance = { until = 2026-11-24T01:00:00 }
[features.c]
match = [{ path = "^/c" }]
maintenance = { until = "tomorrow", mesage = "x" }
[features.d]
match = [{ path = "^/d" }]
maintenance = true
)");
  EXPECT_TRUE(HasError(result, "features.a.maintenance.until", "after starts_at"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "features.b.maintenance.until", "with an offset"));
  EXPECT_TRUE(HasError(result, "features.c.maintenance.until", "RFC 3339"));
  EXPECT_TRUE(HasError(result, "features.c.maintenance.mesage", "unknown key"));
  EXPECT_TRUE(HasError(result, "features.d.maintenance", "expected a table"));
}

TEST(LoaderTest, MaintenanceSection) {
  LoadResult ok = LoadWithMinimal(R"(
[maintenance]
api_prefixes = ["/api/"]
bypass_cidrs = ["10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1"]
bypass_cookie_max_ttl = "2h"
max_body_bytes = "16KB"
)");
  ASSERT_TRUE(ok.ok()) << AllErrors(ok);
  const MaintenanceConfig& m = ok.config->maintenance;
  EXPECT_EQ(m.api_prefixes, std::vector<std::string>{"/api/"});
  ASSERT_EQ(m.bypass_cidrs.size(), 4u);
  EXPECT_EQ(m.bypass_cidrs[0].prefix_len, 8);
  EXPECT_FALSE(m.bypass_cidrs[0].ipv6);
  EXPECT_EQ(m.bypass_cidrs[1].prefix_len, 32);
  EXPECT_TRUE(m.bypass_cidrs[2].ipv6);
  EXPECT_EQ(m.bypass_cidrs[3].prefix_len, 128);
  EXPECT_EQ(m.bypass_cookie_max_ttl, Duration(7'200'000));
  EXPECT_EQ(m.max_body_bytes, 16u * 1024);

  LoadResult bad = LoadWithMinimal(R"(
[maintenance]
api_prefixes = ["api/"]
bypass_cidrs = ["10.0.0.1/8", "shop.example", "10.0.0.0/33"]
bypass_cidr = []
)");
  EXPECT_TRUE(HasError(bad, "maintenance.api_prefixes[0]", "starting with '/'")) << AllErrors(bad);
  EXPECT_TRUE(HasError(bad, "maintenance.bypass_cidrs[0]",
                       "has host bits set after /8; did you mean \"10.0.0.0/8\"?"));
  EXPECT_TRUE(HasError(bad, "maintenance.bypass_cidrs[1]", "not an IP address"));
  EXPECT_TRUE(HasError(bad, "maintenance.bypass_cidrs[2]", "prefix length"));
  EXPECT_TRUE(HasError(bad, "maintenance.bypass_cidr", "unknown key"));
}

TEST(LoaderTest, DuplicateListenersAreRefused) {
  LoadResult result = LoadConfigFromStrings({{"d.toml", R"(
[server]
listen = ["127.0.0.1:8080", "127.0.0.1:8080"]
[upstream]
servers = ["127.0.0.1:9000"]
[admin]
listen = "127.0.0.1:8080"
)"}});
  EXPECT_TRUE(HasError(result, "server.listen[1]", "already used by server.listen[0]"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "admin.listen", "already used by server.listen[0]"));
  EXPECT_EQ(result.errors.size(), 2u) << AllErrors(result);
}

// Port 0 passed --check and then failed at start: refused at load, with line
// and key, on every address but the admin listener (the kernel picks its
// port and the start-up log names it: test harnesses use that).
TEST(LoaderTest, PortZeroIsRefusedOnEveryListener) {
  LoadResult result = LoadConfigFromStrings({{"p.toml", R"(
[server]
listen = ["127.0.0.1:8080", "127.0.0.1:0"]
[server.tls]
listen = ["[::1]:0"]
certificates = []
[upstream]
servers = ["127.0.0.1:0"]
[admin]
listen = "127.0.0.1:0"
[state]
redis = "127.0.0.1:0"
)"}});
  for (const char* key :
       {"server.listen[1]", "server.tls.listen[0]", "upstream.servers[0]", "state.redis"}) {
    EXPECT_TRUE(HasError(result, key, "port 0 is not supported")) << key << "\n"
                                                                  << AllErrors(result);
  }
  for (const ConfigError& error : result.errors) {
    EXPECT_NE(error.key, "admin.listen") << FormatError(error);
    if (error.key == "state.redis") {
      EXPECT_EQ(FormatError(error).rfind("p.toml:12:", 0), 0u) << FormatError(error);
    }
  }
}

TEST(LoaderTest, QuotedDottedKeyIsShownQuoted) {
  LoadResult result = LoadConfigFromStrings(
      {{"q.toml", std::string("\"server.workers\" = 2\n") + testing::kMinimal}});
  EXPECT_TRUE(HasError(result, "\"server.workers\"", "the quotes make \"server.workers\" one key"))
      << AllErrors(result);
  EXPECT_FALSE(HasError(result, "server.workers", "unknown key"));
}

TEST(LoaderTest, AllowedHostsRefuseWhatNoHostHeaderEquals) {
  LoadResult result = LoadWithMinimal(R"(
[admin]
allowed_hosts = ["Admin.Shop.Internal.", "admin.shop:9901", "a..b", "ops_1.internal"]
)");
  EXPECT_TRUE(HasError(result, "admin.allowed_hosts[1]", "host takes no port"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "admin.allowed_hosts[2]", "empty label"));
  EXPECT_EQ(result.errors.size(), 2u) << AllErrors(result);
}

TEST(LoaderTest, EmptyErrorLogIsRefused) {
  LoadResult result = LoadConfigFromStrings(
      {{"e.toml",
        "[server]\nlisten = [\"127.0.0.1:8080\"]\nerror_log = \"\"\n[upstream]\nservers = "
        "[\"127.0.0.1:9000\"]\n"}});
  EXPECT_TRUE(HasError(result, "server.error_log", "must not be empty")) << AllErrors(result);
}

TEST(LoaderTest, BannerNeedsMessageWhenEnabled) {
  EXPECT_TRUE(HasError(LoadWithMinimal("[banner]\nenabled = true\n"), "banner.message",
                       "required when enabled"));
}

TEST(FormatErrorTest, WithAndWithoutPosition) {
  EXPECT_EQ(FormatError({"a.toml", 3, 7, "server.workers", "bad"}),
            "a.toml:3:7 server.workers: bad");
  EXPECT_EQ(FormatError({"a.toml", 0, 0, "upstream.servers", "is required"}),
            "a.toml: upstream.servers: is required");
  EXPECT_EQ(FormatError({"a.toml", 2, 1, "", "syntax"}), "a.toml:2:1: syntax");
}

}  // namespace
}  // namespace tidegate::config
