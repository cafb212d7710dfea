// `tidegate ctl` end to end against a real AdminServer, plus its error paths.
#include "ctl/ctl.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/unit/ctl/admin_server_harness.h"
#include "tests/unit/ctl/loopback_listener.h"

namespace tidegate::ctl {
namespace {

using admin::testing::kOperatorToken;
using admin::testing::kViewerToken;
using Json = nlohmann::json;
using testing::AdminServerHarness;

struct Result {
  int code;
  std::string out, err;
};

Result RunTool(const std::vector<std::string>& args, CtlEnvironment env = {}) {
  std::ostringstream out, err;
  int code = RunCtlArgs(args, env, out, err);
  return {code, out.str(), err.str()};
}

CtlEnvironment WithToken(const char* token) {
  CtlEnvironment env;
  env.token = token;
  return env;
}

// A loopback port nothing listens on.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  socklen_t len = sizeof sin;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  close(fd);
  return ntohs(sin.sin_port);
}

TEST(CtlTest, DrivesEveryRoute) {
  AdminServerHarness h;
  ASSERT_TRUE(h.started()) << h.start_error();
  CtlEnvironment ops = WithToken(kOperatorToken);
  std::string admin = "--admin=" + h.url();

  Result r = RunTool(
      {admin, "maintenance", "on", "checkout", "--message", "Checkout is paused", "--until", "30m"},
      ops);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("applied (state version 1)"), std::string::npos) << r.out;

  r = RunTool({admin, "banner", "set", "--message", "High demand", "--severity", "warning",
               "--next-update", "15m"},
              ops);
  ASSERT_EQ(r.code, 0) << r.err;
  r = RunTool({admin, "room", "set", "shop", "mode=queue_all", "new_users_per_minute=60",
               "session_duration=10m"},
              ops);
  ASSERT_EQ(r.code, 0) << r.err;

  r = RunTool({admin, "state"}, WithToken(kViewerToken));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("MAINTENANCE (active)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("queue_all (runtime)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("High demand"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("live counters not available yet"), std::string::npos) << r.out;

  r = RunTool({admin, "--json", "state"}, WithToken(kViewerToken));
  ASSERT_EQ(r.code, 0) << r.err;
  Json state = Json::parse(r.out);
  EXPECT_EQ(state["features"]["checkout"]["under_maintenance"], true);
  EXPECT_EQ(state["banner"]["severity"], "warning");
  EXPECT_EQ(state["rooms"]["shop"]["new_users_per_minute"]["value"], 60);
  EXPECT_EQ(state["rooms"]["shop"]["session_duration"]["value"], "10m");

  r = RunTool({admin, "room", "set", "shop", "mode=config"}, ops);  // clears one override
  ASSERT_EQ(r.code, 0) << r.err;
  r = RunTool({admin, "room", "reset", "shop"}, ops);
  ASSERT_EQ(r.code, 0) << r.err;
  r = RunTool({admin, "banner", "clear"}, ops);
  ASSERT_EQ(r.code, 0) << r.err;
  r = RunTool({admin, "maintenance", "off", "checkout"}, ops);
  ASSERT_EQ(r.code, 0) << r.err;
  r = RunTool({admin, "maintenance", "off", "checkout"}, ops);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("nothing to change"), std::string::npos);

  r = RunTool({admin, "audit", "--limit", "3"}, WithToken(kViewerToken));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("/v1/features/checkout/maintenance"), std::string::npos) << r.out;
  r = RunTool({admin, "--json", "audit"}, WithToken(kViewerToken));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["records"].size(), 7u);

  r = RunTool({admin, "metrics"});  // no token: open on loopback
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("# TYPE tidegate_admin_changes_total counter"), std::string::npos);
  EXPECT_NE(r.out.find("tidegate_admin_changes_total 7"), std::string::npos) << r.out;
}

TEST(CtlTest, BypassWithoutASigningKeyIsRefusedClearly) {
  auto no_keys = std::make_shared<config::Config>(*admin::testing::TestConfig());
  no_keys->secrets.token_keys.clear();
  no_keys->rooms[0].mode = config::RoomMode::kOff;  // as a configuration that loads
  AdminServerHarness h({}, no_keys);
  ASSERT_TRUE(h.started()) << h.start_error();
  std::string admin = "--admin=" + h.url();
  Result r = RunTool({admin, "bypass", "--ttl", "30m"}, WithToken(kOperatorToken));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.err.find("409: no_signing_key"), std::string::npos) << r.err;
  r = RunTool({admin, "bypass"}, WithToken(kViewerToken));  // operators only
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("403"), std::string::npos) << r.err;
}

TEST(CtlTest, TokenFileAndEnvironment) {
  AdminServerHarness h;
  ASSERT_TRUE(h.started()) << h.start_error();
  std::string file = h.dir() + "/token";
  std::ofstream(file) << kOperatorToken << "\n";
  Result r = RunTool({"--admin", h.url(), "--token-file", file, "banner", "set", "--message", "x"});
  EXPECT_EQ(r.code, 0) << r.err;
  CtlEnvironment env;
  env.token_file = file;
  env.admin_url = h.url();
  r = RunTool({"banner", "clear"}, env);
  EXPECT_EQ(r.code, 0) << r.err;
  r = RunTool({"--admin", h.url(), "--token-file", h.dir() + "/missing", "state"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot read token file"), std::string::npos);
}

// A token file that is not one token alone is bad input: usage exit code,
// its name in the message, and nothing sent (the audit log stays empty).
TEST(CtlTest, TokenFileWithMoreThanTheTokenIsRefused) {
  AdminServerHarness h;
  ASSERT_TRUE(h.started()) << h.start_error();
  struct Case {
    std::string content, needle;
  };
  for (const Case& c :
       {Case{std::string(kOperatorToken) + "\r\nX-Injected: yes\r\n", "more than one line"},
        Case{std::string(kOperatorToken) + "\nsecond\n", "more than one line"},
        Case{std::string(kOperatorToken) + "\x01", "control character"},
        Case{std::string("\t") + kOperatorToken, "control character"}, Case{"\n\n", "is empty"}}) {
    std::string file = h.dir() + "/bad_token";
    std::ofstream(file, std::ios::binary | std::ios::trunc) << c.content;
    Result r = RunTool(
        {"--admin", h.url(), "--token-file", file, "banner", "set", "--message", "injected"});
    EXPECT_EQ(r.code, 2) << c.needle << " " << r.err;
    EXPECT_NE(r.err.find("token file '" + file + "'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
  }
  CtlEnvironment env;
  env.token = "abc\r\nX-Injected: yes";
  Result r = RunTool({"--admin", h.url(), "state"}, env);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("$TIDEGATE_ADMIN_TOKEN: more than one line"), std::string::npos) << r.err;

  r = RunTool({"--admin", h.url(), "--token-file", h.dir(), "state"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("token file '" + h.dir() + "' is a directory"), std::string::npos) << r.err;

  // Nothing reached the server: no banner was set.
  r = RunTool({"--admin", h.url(), "--json", "state"}, WithToken(kViewerToken));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("injected"), std::string::npos) << r.out;
}

TEST(CtlTest, WrongTokenIsReportedOnce) {
  AdminServerHarness h;
  ASSERT_TRUE(h.started()) << h.start_error();
  Result r = RunTool({"--admin", h.url(), "state"}, WithToken("wrong"));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "tidegate ctl: 401: token refused\n");
}

TEST(CtlTest, ClearErrors) {
  AdminServerHarness h;
  ASSERT_TRUE(h.started()) << h.start_error();
  std::string admin = "--admin=" + h.url();

  Result r = RunTool({admin, "state"}, WithToken("wrong"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("401: token refused"), std::string::npos) << r.err;

  r = RunTool({admin, "state"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no token given"), std::string::npos) << r.err;

  r = RunTool({admin, "banner", "set", "--message", "x"}, WithToken(kViewerToken));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("403"), std::string::npos) << r.err;

  r = RunTool({admin, "room", "set", "shop", "total_active_users=0"}, WithToken(kOperatorToken));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("422: validation_failed: total_active_users"), std::string::npos) << r.err;

  r = RunTool({admin, "maintenance", "on", "nope", "--message", "x"}, WithToken(kOperatorToken));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("404"), std::string::npos) << r.err;

  std::string closed = "http://127.0.0.1:" + std::to_string(ClosedPort());
  r = RunTool({"--admin", closed, "state"}, WithToken(kOperatorToken));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot reach the admin endpoint at " + closed), std::string::npos) << r.err;
}

// A loopback server that reads one request's head and closes without an
// answer, as an admin endpoint lost (or killed) after the request went out.
class HangUpServer {
 public:
  HangUpServer() {
    fd_ = ListenOnLoopback(&port_);
    thread_ = std::thread([this] {
      int conn = accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      std::string got;
      char buf[4096];
      while (got.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = recv(conn, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
      }
      close(conn);
    });
  }
  ~HangUpServer() {
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

// Audit 20 F3: a change whose answer never came was reported "failed"
// (exit 1) though it may be in force. Now its own exit code and message;
// a read-only command keeps exit 1 and its message.
TEST(CtlTest, AChangeWithoutAnAnswerHasAnUnknownOutcome) {
  for (const std::vector<std::string>& change :
       {std::vector<std::string>{"maintenance", "on", "checkout", "--message", "x"},
        std::vector<std::string>{"banner", "clear"},
        std::vector<std::string>{"room", "set", "shop", "mode=queue_all"},
        std::vector<std::string>{"incident", "resolve", "inc-1", "--message", "done"}}) {
    HangUpServer server;
    std::vector<std::string> args = {"--admin", server.url()};
    args.insert(args.end(), change.begin(), change.end());
    Result r = RunTool(args, WithToken(kOperatorToken));
    EXPECT_EQ(r.code, kExitUnknown) << change[0] << ": " << r.err;
    EXPECT_EQ(kExitUnknown, 3);
    EXPECT_NE(r.err.find("the outcome is unknown: the change may have been applied; check "
                         "`tidegate ctl state`"),
              std::string::npos)
        << r.err;
  }
  for (const std::vector<std::string>& read :
       {std::vector<std::string>{"state"}, std::vector<std::string>{"incident", "list"}}) {
    HangUpServer server;
    std::vector<std::string> args = {"--admin", server.url()};
    args.insert(args.end(), read.begin(), read.end());
    Result r = RunTool(args, WithToken(kOperatorToken));
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("connection closed before the response was complete"), std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("may have been applied"), std::string::npos) << r.err;
  }
}

TEST(CtlTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{},
        {"frobnicate"},
        {"maintenance", "on", "checkout"},
        {"maintenance", "on"},
        {"banner", "set"},
        {"room", "set", "shop"},
        {"room", "set", "shop", "novalue"},
        {"--bogus", "state"},
        {"state", "--admin"},
        {"--admin", "ftp://x", "state"},
        {"--admin", "http://127.0.0.1:1", "--cacert", "/nonexistent", "state"},  // no TLS
        {"--admin", "unix:/run/x.sock", "--cacert", "/nonexistent", "state"},
        {"maintenance", "on", "c", "--message", "m", "--until", "soon"},
        {"audit", "--limit", "x"},
        {"audit", "--limit", "0"},
        {"audit", "--limit", "-1"},
        {"audit", "--limit=5x"},
        {"audit", "--limit", "99999999999999999999"},
        {"bypass", "--ttl", "soon"},
        {"room", "set", "shop", "total_active_users=many"},
        {"room", "set", "shop", "new_users_per_minute=-5"}}) {
    Result r = RunTool(args, WithToken(kOperatorToken));
    EXPECT_EQ(r.code, 2) << ::testing::PrintToString(args) << " " << r.err;
    EXPECT_NE(r.err.find("usage:"), std::string::npos);
  }
  EXPECT_EQ(RunTool({"--help"}).code, 0);
}

}  // namespace
}  // namespace tidegate::ctl

namespace tidegate::ctl {
namespace {

TEST(CtlUnixSocketTest, AdminOverAUnixSocket) {
  evthread_use_pthreads();
  char dir_template[] = "/tmp/tidegate_unix_XXXXXX";
  std::string dir = mkdtemp(dir_template);
  config::AdminConfig admin_config = admin::testing::TestAdminConfig();
  admin_config.listen = {};
  admin_config.listen.unix_path = dir + "/admin.sock";
  admin_config.listen.text = "unix:" + admin_config.listen.unix_path;
  event_base* base = event_base_new();
  admin::LocalStore store;
  std::string error;
  auto audit = admin::AuditLog::Open(dir + "/audit.log", &error);
  admin::AdminApi::Deps deps;
  deps.config = [] { return admin::testing::TestConfig(); };
  deps.store = &store;
  deps.audit = audit.get();
  mode_t old_umask = ::umask(0);  // even a permissive umask gives an owner-only socket
  auto server = admin::AdminServer::Start(base, admin_config, deps, {}, &error);
  mode_t left = ::umask(old_umask);
  EXPECT_EQ(left, 0u);  // the server restored the umask it found
  ASSERT_TRUE(server) << error;
  struct stat st {};
  ASSERT_EQ(::stat(admin_config.listen.unix_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  std::thread loop([&] { event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY); });

  std::string url = "unix:" + admin_config.listen.unix_path;
  Result r = RunTool({"--admin", url, "maintenance", "on", "search", "--message", "Search is slow"},
                     WithToken(kOperatorToken));
  EXPECT_EQ(r.code, 0) << r.err;
  r = RunTool({"--admin", url, "metrics"});  // a unix socket client is local: no token needed
  EXPECT_EQ(r.code, 0) << r.err;
  r = RunTool({"--admin", url, "--json", "audit"}, WithToken(kViewerToken));
  ASSERT_EQ(r.code, 0) << r.err;
  Json records = Json::parse(r.out)["records"];
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["client"], url);

  event_base_loopexit(base, nullptr);
  loop.join();
  server.reset();
  event_base_free(base);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tidegate::ctl
