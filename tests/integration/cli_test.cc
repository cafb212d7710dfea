// The command line: --version, --check (valid, typo with file:line:col and
// key path, directory), usage errors.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>

#include "tests/integration/harness/process.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
};

RunResult RunTidegate(const TempDir& dir, std::vector<std::string> args) {
  static int counter = 0;
  ProcessOptions po;
  po.argv = {TidegateBinary()};
  po.argv.insert(po.argv.end(), args.begin(), args.end());
  po.log_dir = dir.path();
  po.name = "cli" + std::to_string(counter++);
  std::string error;
  auto proc = Process::Start(po, &error);
  RunResult result;
  if (!proc) {
    result.err = error;
    return result;
  }
  result.status = proc->WaitExit(std::chrono::seconds(20)).value_or(-1);
  result.out = proc->Stdout();
  result.err = proc->Stderr();
  return result;
}

TEST(CliTest, VersionPrintsTheProjectVersion) {
  TempDir dir;
  RunResult r = RunTidegate(dir, {"--version"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE((r.out + r.err).find(TIDEGATE_VERSION), std::string::npos) << r.out << r.err;
}

TEST(CliTest, CheckAcceptsAValidConfig) {
  TempDir dir;
  // --check does not bind: literal ports are fine here.
  std::string text = ProxyConfig(9);
  for (const char* key : {"${PORT}", "${ADMIN_PORT}"}) {
    for (size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key)) {
      text.replace(pos, strlen(key), key[2] == 'P' ? "18080" : "19901");
    }
  }
  std::string path = dir.Write("ok.toml", text);
  RunResult r = RunTidegate(dir, {"-c", path, "--check"});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST(CliTest, CheckReportsATypoWithFileLineColumnAndKey) {
  TempDir dir;
  std::string path = dir.Write("typo.toml",
                               "[server]\n"
                               "listen = [\"127.0.0.1:18080\"]\n"
                               "  header_timeot = \"1s\"\n"
                               "\n"
                               "[upstream]\n"
                               "servers = [\"127.0.0.1:18081\"]\n");
  RunResult r = RunTidegate(dir, {"-c", path, "--check"});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("typo.toml:3:3"), std::string::npos) << "stderr: " << r.err;
  EXPECT_NE(r.err.find("server.header_timeot"), std::string::npos) << "stderr: " << r.err;
}

TEST(CliTest, CheckReportsEveryErrorOfADirectory) {
  TempDir dir;
  std::filesystem::create_directory(dir.File("conf.d"));
  dir.Write("conf.d/00-server.toml", "[server]\nlisten = [\"127.0.0.1:18080\"]\nworkrs = 1\n");
  dir.Write("conf.d/10-upstream.toml",
            "[upstream]\nservers = [\"127.0.0.1:18081\"]\nconnect_timeout = \"soon\"\n");
  RunResult r = RunTidegate(dir, {"-c", dir.File("conf.d"), "--check"});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("00-server.toml:3:1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("server.workrs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("10-upstream.toml:3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("upstream.connect_timeout"), std::string::npos) << r.err;
}

// Mistakes that used to pass --check and fail later (port 0 at start) or
// silently never match (a rule's host with a port, an unknown method).
// (The admin listener alone may take port 0: not an error.)
TEST(CliTest, CheckRefusesPortZeroHostWithPortAndUnknownMethods) {
  TempDir dir;
  std::string path = dir.Write("late.toml",
                               "[server]\n"
                               "listen = [\"127.0.0.1:0\"]\n"
                               "[upstream]\n"
                               "servers = [\"127.0.0.1:18081\"]\n"
                               "[admin]\n"
                               "listen = \"127.0.0.1:0\"\n"
                               "[features.hport]\n"
                               "match = [{ path = \"^/x\", host = \"shop.example:8443\" }]\n"
                               "[features.pots]\n"
                               "match = [{ path = \"^/pots\", methods = [\"POTS\"] }]\n");
  RunResult r = RunTidegate(dir, {"-c", path, "--check"});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  for (const char* needle :
       {"late.toml:2:", "server.listen[0]: \"127.0.0.1:0\": port 0 is not supported",
        "late.toml:8:",
        "features.hport.match[0].host: \"shop.example:8443\": host takes no port: rules compare "
        "the Host header without its port",
        "late.toml:10:", "features.pots.match[0].methods[0]: \"POTS\" is not a method"}) {
    EXPECT_NE(r.err.find(needle), std::string::npos) << needle << "\nstderr: " << r.err;
  }
  EXPECT_EQ(r.err.find("admin.listen"), std::string::npos) << r.err;
}

// Audit F7: a room whose every match is taken first by an earlier room (in
// name order) is never used. A warning naming both rooms and their places;
// the configuration still loads (exit 0). A regex the check cannot judge
// for certain is left alone.
TEST(CliTest, CheckWarnsOfARoomShadowedByAnEarlierRoom) {
  TempDir dir;
  dir.Write("k1", "cli-test-signing-key-0123456789abcdef0123\n");
  std::filesystem::create_directory(dir.File("conf.d"));
  dir.Write("conf.d/00-server.toml",
            "[server]\nlisten = [\"127.0.0.1:18080\"]\n"
            "[upstream]\nservers = [\"127.0.0.1:18081\"]\n"
            "[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"../k1\" }]\n");
  dir.Write("conf.d/20-rooms.toml",
            "[rooms.b]\n"
            "match = [\"^/Sale\", \"^/sale-2\"]\n"
            "[rooms.a]\n"
            "match = [\"^/\"]\n"
            "[rooms.c]\n"
            "match = [\"^/promo$\"]\n");
  RunResult r = RunTidegate(dir, {"-c", dir.File("conf.d"), "--check"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("configuration ok"), std::string::npos) << r.out;
  for (const char* needle : {"20-rooms.toml:2:9 rooms.b.match: warning: room 'b' is never used",
                             "\"^/Sale\" by room 'a' (\"^/\" at ", "20-rooms.toml:4:10)"}) {
    EXPECT_NE(r.err.find(needle), std::string::npos) << needle << "\nstderr: " << r.err;
  }
  EXPECT_EQ(r.err.find("room 'c'"), std::string::npos) << r.err;
}

// Audit 20 F8: a file named *.TOML was ignored and --check said only
// "configuration ok". It is still not read (exit 0), and named in a warning.
TEST(CliTest, CheckWarnsOfAFileNamedTomlInAnotherCase) {
  TempDir dir;
  std::filesystem::create_directory(dir.File("conf.d"));
  dir.Write("conf.d/00-server.toml",
            "[server]\nlisten = [\"127.0.0.1:18080\"]\n"
            "[upstream]\nservers = [\"127.0.0.1:18081\"]\n");
  dir.Write("conf.d/25-sale.TOML",
            "[features.sale]\nmatch = [{ path = \"^/sale\" }]\n"
            "maintenance = { starts_at = \"2030-01-01T00:00:00Z\", until = "
            "\"2030-01-02T00:00:00Z\", message = \"x\" }\n");
  dir.Write("conf.d/30-x.tml", "[server]\nworkers = 3\n");
  RunResult r = RunTidegate(dir, {"-c", dir.File("conf.d"), "--check"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("configuration ok"), std::string::npos) << r.out;
  for (const char* file : {"conf.d/25-sale.TOML", "conf.d/30-x.tml"}) {
    EXPECT_NE(r.err.find(dir.File(file) + ": warning: not read: only *.toml files are"),
              std::string::npos)
        << file << "\nstderr: " << r.err;
  }
}

TEST(CliTest, ShippedConfDirectoryChecksClean) {
  TempDir dir;
  RunResult r = RunTidegate(dir, {"-c", std::string(TIDEGATE_SOURCE_DIR) + "/conf.d", "--check"});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST(CliTest, MissingConfigAndUsageErrorsExitNonZero) {
  TempDir dir;
  RunResult missing = RunTidegate(dir, {"-c", dir.File("nope.toml"), "--check"});
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.err.find("nope.toml"), std::string::npos) << missing.err;
  RunResult bad = RunTidegate(dir, {"--no-such-flag"});
  EXPECT_NE(bad.status, 0);
  EXPECT_FALSE(bad.err.empty());
  // A bad config without --check: refuses to start.
  std::string path = dir.Write("bad.toml", "[server]\nlisten = 5\n");
  RunResult start = RunTidegate(dir, {"-c", path});
  EXPECT_NE(start.status, 0);
  EXPECT_NE(start.err.find("bad.toml:2"), std::string::npos) << start.err;
}

// ProxyConfig with literal ports (--check binds nothing).
std::string CheckConfig(const KeyValues& server_keys = {}, const std::string& tail = "") {
  std::string text = ProxyConfig(9, server_keys, {}, tail);
  for (const char* key : {"${PORT}", "${ADMIN_PORT}"}) {
    for (size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key)) {
      text.replace(pos, strlen(key), key[2] == 'P' ? "18080" : "19901");
    }
  }
  return text;
}

// Audit 10 F2: --check passed what start-up then refused — a template that
// does not parse, a garbage certificate, a log file in a missing folder, a
// state "folder" that is a file. --check runs the same checks (no socket),
// each error with the key's file:line:col (a template: its own line:col),
// and exits 1; start-up refuses with the same line.
TEST(CliTest, CheckRefusesWhatStartUpRefuses) {
  struct Case {
    const char* name;
    KeyValues server_keys;
    std::string tail;
    std::string expected;  // in --check's stderr
  };
  std::vector<Case> cases = {
      {"template",
       {},
       "\n[site]\ntemplates_dir = \"templates\"\n",
       "/templates/maintenance.html:1:17: Unclosed tag"},
      {"tls certificate",
       {},
       "\n[server.tls]\nlisten = [\"127.0.0.1:18443\"]\n"
       "certificates = [{ cert = \"junk.pem\", key = \"junk.key\" }]\n",
       "ok.toml:21:26 server.tls.certificates[0].cert: tls certificate"},
      {"admin tls certificate",
       {},
       "\n[admin.tls]\ncert = \"junk.pem\"\nkey = \"junk.key\"\n",
       "ok.toml:20:8 admin.tls.cert: tls certificate"},
      {"access_log", {{"access_log", "\"nodir/a.log\""}}, "", "server.access_log: cannot create"},
      {"error_log", {{"error_log", "\"nodir/e.log\""}}, "", "server.error_log: cannot create"},
      {"audit_log", {}, "audit_log = \"nodir/audit.log\"\n", "admin.audit_log: cannot create"},
      {"state path", {}, "\n[state]\npath = \"statefile\"\n", "state.path: state folder: \""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    std::filesystem::create_directories(dir.File("templates"));
    dir.Write("templates/maintenance.html", "{{#x}} unclosed {{");
    dir.Write("junk.pem", "junk\n");
    dir.Write("junk.key", "junk\n");
    dir.Write("statefile", "");
    std::string path = dir.Write("ok.toml", CheckConfig(c.server_keys, c.tail));
    RunResult check = RunTidegate(dir, {"-c", path, "--check"});
    EXPECT_EQ(check.status, 1) << check.out << check.err;
    EXPECT_NE(check.err.find(c.expected), std::string::npos) << check.err;
    EXPECT_FALSE(std::filesystem::exists(dir.File("nodir"))) << "--check created a folder";
    RunResult start = RunTidegate(dir, {"-c", path});
    EXPECT_EQ(start.status, 1) << start.err;
    EXPECT_NE(start.err.find(c.expected), std::string::npos) << start.err;
  }
}

// The log checks create and truncate nothing: an absent log file in an
// existing folder passes and stays absent; an existing one keeps its bytes.
TEST(CliTest, CheckOpensNoLogFileForWriting) {
  TempDir dir;
  std::filesystem::create_directories(dir.File("logs"));
  dir.Write("logs/error.log", "earlier line\n");
  std::string path = dir.Write("ok.toml", CheckConfig({{"access_log", "\"logs/access.log\""},
                                                       {"error_log", "\"logs/error.log\""}},
                                                      "audit_log = \"logs/audit.log\"\n"));
  RunResult check = RunTidegate(dir, {"-c", path, "--check"});
  EXPECT_EQ(check.status, 0) << check.err;
  EXPECT_FALSE(std::filesystem::exists(dir.File("logs/access.log")));
  EXPECT_FALSE(std::filesystem::exists(dir.File("logs/audit.log")));
  EXPECT_EQ(ReadFile(dir.File("logs/error.log")), "earlier line\n");
  EXPECT_FALSE(std::filesystem::exists(dir.File("state"))) << "--check created the state folder";
}

}  // namespace
}  // namespace tidegate::itest
