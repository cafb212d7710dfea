// AdminRuntime with a configuration from the real loader: default loopback
// listener, audit path, reload keeps overrides, state publication callback.
#include "admin/admin_runtime.h"

#include <gtest/gtest.h>

#include <future>

#include "config/loader.h"
#include "tests/unit/ctl/admin_server_harness.h"

namespace tidegate::ctl {
namespace {

using Json = nlohmann::json;

constexpr char kBase[] = R"(
[server]
listen = ["127.0.0.1:8080"]
[upstream]
servers = ["127.0.0.1:9"]
)";

std::shared_ptr<const config::Config> Load(const std::string& dir, const std::string& extra) {
  auto result = config::LoadConfigFromStrings({{dir + "/tidegate.toml", kBase + extra}});
  std::string errors;
  for (const auto& e : result.errors) errors += config::FormatError(e) + "\n";
  EXPECT_TRUE(result.ok()) << errors;
  return result.config;
}

// The configuration refuses port 0 (docs/configuration.md); the test binds
// its admin listener where the kernel picks and reads the port back.
std::shared_ptr<const config::Config> WithEphemeralAdminPort(
    std::shared_ptr<const config::Config> loaded) {
  if (!loaded) return loaded;
  auto copy = std::make_shared<config::Config>(*loaded);
  copy->admin.listen = config::Address{"127.0.0.1", 0, "", "127.0.0.1:0"};
  return copy;
}

TEST(AdminRuntimeTest, Case47DefaultListenerIsLoopback) {
  auto config = Load("/tmp", "");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->admin.listen.text, "127.0.0.1:9901");
  EXPECT_TRUE(admin::IsLoopbackListen(config->admin.listen));
  EXPECT_EQ(admin::DefaultAuditLogPath(*config), "/tmp/audit.log");
}

TEST(AdminRuntimeTest, StartsServesReloadsAndPublishes) {
  evthread_use_pthreads();
  char dir_template[] = "/tmp/tidegate_runtime_XXXXXX";
  std::string dir = mkdtemp(dir_template);
  std::string tokens = std::string(R"(
[admin]
listen = "127.0.0.1:9"
tokens = [{ name = "ops", token_sha256 = ")") +
                       admin::Sha256Hex(admin::testing::kOperatorToken) +
                       R"(", role = "operator" }]
[rooms.shop]
match = ["^/"]
total_active_users = 500
mode = "off"
)";
  auto config = WithEphemeralAdminPort(Load(dir, tokens));
  ASSERT_TRUE(config);
  event_base* base = event_base_new();
  testing::NoMetrics metrics;
  std::string error;
  auto runtime = admin::AdminRuntime::Start(base, config, admin::DefaultAuditLogPath(*config),
                                            &metrics, nullptr, &error);
  ASSERT_TRUE(runtime) << error;
  int published = 0;
  runtime->SetStateCallback([&](std::shared_ptr<const state::RuntimeState> s) {
    ++published;
    EXPECT_EQ(s, runtime->state());
  });
  std::thread loop([&] { event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY); });

  HttpTarget target;
  ASSERT_TRUE(ParseAdminUrl("http://127.0.0.1:" + std::to_string(runtime->server().port()), &target,
                            &error));
  auto send = [&](const std::string& method, const std::string& path,
                  std::optional<std::string> body) {
    HttpRequestSpec spec{method, path, std::string(admin::testing::kOperatorToken), body};
    HttpResponse response;
    HttpError kind;
    std::string send_error;
    EXPECT_TRUE(SendRequest(target, spec, &response, &kind, &send_error)) << send_error;
    return response;
  };
  EXPECT_EQ(send("PATCH", "/v1/rooms/shop", R"({"total_active_users": 42})").status, 200);

  // Reload on the control thread (as SIGHUP does) with new config values.
  auto reloaded = WithEphemeralAdminPort(Load(dir, tokens + "new_users_per_minute = 7\n"));
  ASSERT_TRUE(reloaded);
  struct Ctx {
    admin::AdminRuntime* runtime;
    std::shared_ptr<const config::Config> config;
    bool ok = false;
    std::promise<void> done;
  } ctx{runtime.get(), reloaded};
  event_base_once(
      base, -1, EV_TIMEOUT,
      [](evutil_socket_t, short, void* arg) {
        auto* c = static_cast<Ctx*>(arg);
        std::string e;
        c->ok = c->runtime->Reconfigure(c->config, &e);
        c->done.set_value();
      },
      &ctx, nullptr);
  ctx.done.get_future().wait();
  Json state = Json::parse(send("GET", "/v1/state", std::nullopt).body);  // after the reload
  EXPECT_EQ(state["rooms"]["shop"]["total_active_users"]["value"], 42);
  EXPECT_EQ(state["rooms"]["shop"]["total_active_users"]["source"], "runtime");
  EXPECT_EQ(state["rooms"]["shop"]["new_users_per_minute"]["value"], 7);

  event_base_loopexit(base, nullptr);
  loop.join();
  EXPECT_TRUE(ctx.ok);
  EXPECT_EQ(published, 1);
  std::vector<Json> records;
  runtime.reset();
  std::string audit_path = dir + "/audit.log";
  auto audit = admin::AuditLog::Open(audit_path, &error);
  ASSERT_TRUE(audit->ReadLast(10, &records, &error));
  EXPECT_EQ(records.size(), 1u);
  event_base_free(base);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tidegate::ctl
