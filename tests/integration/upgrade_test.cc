// Binary upgrade on SIGUSR2 (issue 16): the listening sockets (shop and
// admin) go to a new process started from the same path; the old one drains
// once the new one serves. Under wrk load nothing may fail (wrk's own socket
// error and non-2xx counts); a new binary that cannot start leaves the old
// process serving, with the reason logged.
//
// tidegate runs from a copy in the test's temp dir, so the test can replace
// "the binary on disk" the way a deploy does (rename over it).
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "tests/integration/harness/proxy_fixture.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/test_certs.h"
#include "tests/integration/harness/tls_client.h"

namespace tidegate::itest {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// What wrk printed, and the counts read from it.
struct WrkResult {
  std::string output;
  long requests = -1;
  long connect_errors = 0, read_errors = 0, write_errors = 0, timeouts = 0;
  long non_2xx_3xx = 0;
};

WrkResult RunWrk(uint16_t port, int seconds_to_run) {
  WrkResult r;
  std::string cmd = "wrk -t2 -c16 -d" + std::to_string(seconds_to_run) +
                    "s --timeout 10s http://127.0.0.1:" + std::to_string(port) + "/ 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  pclose(p);
  std::smatch m;
  if (std::regex_search(r.output, m, std::regex(R"((\d+) requests in )"))) {
    r.requests = std::stol(m[1]);
  }
  // Printed by wrk only when not all zero.
  if (std::regex_search(r.output, m,
                        std::regex(R"(Socket errors: connect (\d+), read (\d+), write (\d+), )"
                                   R"(timeout (\d+))"))) {
    r.connect_errors = std::stol(m[1]);
    r.read_errors = std::stol(m[2]);
    r.write_errors = std::stol(m[3]);
    r.timeouts = std::stol(m[4]);
  }
  if (std::regex_search(r.output, m, std::regex(R"(Non-2xx or 3xx responses: (\d+))"))) {
    r.non_2xx_3xx = std::stol(m[1]);
  }
  return r;
}

// Inodes of the sockets `pid` holds ("socket:[N]" → N).
std::set<std::string> SocketInodes(pid_t pid) {
  std::set<std::string> out;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    char target[256];
    ssize_t n = readlink((dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    std::string link(target, static_cast<size_t>(n));
    if (link.rfind("socket:[", 0) == 0) out.insert(link.substr(8, link.size() - 9));
  }
  closedir(d);
  return out;
}

// Inodes of every listening TCP socket on the host (/proc/net/tcp{,6}).
std::set<std::string> ListeningInodes() {
  std::set<std::string> out;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream lines(ReadFile(file));
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      f >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (state == "0A") out.insert(inode);
    }
  }
  return out;
}

bool CopyExecutable(const std::string& from, const std::string& to) {
  std::string tmp = to + ".tmp";
  std::string data = ReadFile(from);
  FILE* f = fopen(tmp.c_str(), "wb");
  if (f == nullptr || data.empty()) return false;
  bool ok = fwrite(data.data(), 1, data.size(), f) == data.size();
  ok = fclose(f) == 0 && ok;
  return ok && chmod(tmp.c_str(), 0755) == 0 && rename(tmp.c_str(), to.c_str()) == 0;
}

bool WriteScript(const std::string& path, const std::string& body) {
  std::string tmp = path + ".tmp";
  FILE* f = fopen(tmp.c_str(), "wb");
  if (f == nullptr) return false;
  std::string text = "#!/bin/sh\n" + body;
  bool ok = fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = fclose(f) == 0 && ok;
  return ok && chmod(tmp.c_str(), 0755) == 0 && rename(tmp.c_str(), path.c_str()) == 0;
}

// GET `path` over the unix socket at `socket_path`; the status or -1.
int UnixStatus(const std::string& socket_path, const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (fd < 0 || socket_path.size() >= sizeof(sun.sun_path)) return -1;
  memcpy(sun.sun_path, socket_path.data(), socket_path.size());
  if (connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
    close(fd);
    return -1;
  }
  RawConnection conn(fd);
  conn.Send(Get(path));
  HttpMessage r = ReadResponse(conn, Within(milliseconds(10000)));
  return r.ok ? r.status : -1;
}

class UpgradeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The successor outlives its parent: be its reaper, so that it can be
    // waited for (and never left behind).
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    shop_ = StartDemoShopOrFail(dir_);
    binary_ = dir_.File("tidegate");
    ASSERT_TRUE(CopyExecutable(TidegateBinary(), binary_));
  }

  void TearDown() override {
    if (successor_ > 0) {
      kill(successor_, SIGTERM);
      if (!Reaped(successor_, seconds(15))) {
        ADD_FAILURE() << "the new process did not exit on SIGTERM";
        kill(successor_, SIGKILL);
        Reaped(successor_, seconds(5));
      } else {
        // It named itself in the pid file, so it removed it at exit.
        EXPECT_EQ(PidInFile(), -1);
      }
    }
  }

  pid_t PidInFile() const {
    std::string text = ReadFile(dir_.File("tidegate.pid"));
    return text.empty() ? -1 : static_cast<pid_t>(std::stol(text));
  }

  static bool Reaped(pid_t pid, milliseconds within) {
    auto deadline = Clock::now() + within;
    int status = 0;
    while (Clock::now() < deadline) {
      if (waitpid(pid, &status, WNOHANG) == pid) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }

  void Start(const KeyValues& server_keys = {{"workers", "2"}}, const std::string& tail = "",
             const std::string& admin_listen = "") {
    TidegateOptions options;
    options.config = ProxyConfig(shop_->port(), server_keys, {}, tail);
    if (!admin_listen.empty()) {
      std::string tcp = "listen = \"127.0.0.1:${ADMIN_PORT}\"";
      options.config.replace(options.config.find(tcp), tcp.size(),
                             "listen = \"" + admin_listen + "\"");
    }
    options.binary = binary_;
    options.extra_args = {"--pid-file", dir_.File("tidegate.pid")};
    tg_ = StartTidegateOrFail(dir_, options);
  }

  // Waits (bounded) until tidegate's stderr contains `text` `times` times.
  bool StderrShows(const std::string& text, int times = 1,
                   milliseconds within = milliseconds(20000)) {
    auto deadline = Clock::now() + within;
    while (Clock::now() < deadline) {
      if (CountOccurrences(tg_->Stderr(), text) >= times) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  // The successor's pid from "upgrade.done: new process pid N serves".
  pid_t SuccessorPid() {
    std::smatch m;
    std::string err = tg_->Stderr();
    if (!std::regex_search(err, m, std::regex(R"(new process pid (\d+) serves)"))) return -1;
    return static_cast<pid_t>(std::stol(m[1]));
  }

  int Status(uint16_t port, const std::string& path = "/") {
    std::string error;
    auto conn = RawConnection::Connect(port, &error);
    if (!conn) return -1;
    // 127.0.0.1: the admin port answers only its own names (Host check).
    conn->Send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    HttpMessage r = ReadResponse(*conn, Within(milliseconds(10000)));
    return r.ok ? r.status : -1;
  }

  TempDir dir_;
  std::unique_ptr<DemoShop> shop_;
  std::string binary_;
  std::unique_ptr<TidegateProcess> tg_;
  pid_t successor_ = -1;
};

TEST_F(UpgradeTest, UpgradeUnderWrkLoadLosesNothing) {
  Start();
  ASSERT_TRUE(tg_);
  ASSERT_TRUE(shop_);
  // Written once serving, a moment after the port accepts.
  auto deadline = Clock::now() + seconds(10);
  while (PidInFile() != tg_->pid() && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(PidInFile(), tg_->pid());
  std::future<WrkResult> wrk =
      std::async(std::launch::async, [&] { return RunWrk(tg_->port(), 6); });
  // The new process runs one worker: it must serve both handed-over
  // SO_REUSEPORT sockets (a socket nobody accepts from would hang the
  // connections the kernel queues on it).
  std::string config = ReadFile(tg_->config_path());
  config.replace(config.find("workers = 2"), 11, "workers = 1");
  ASSERT_TRUE(tg_->RewriteConfig(config));
  std::this_thread::sleep_for(seconds(2));
  std::set<std::string> old_sockets = SocketInodes(tg_->pid());  // listeners, clients, origin
  ASSERT_TRUE(tg_->process().Signal(SIGUSR2));
  ASSERT_TRUE(StderrShows("upgrade.done")) << tg_->Stderr();
  successor_ = SuccessorPid();
  ASSERT_GT(successor_, 0) << tg_->Stderr();
  EXPECT_NE(successor_, tg_->pid());
  // The new process shares the listening sockets only: an inherited client
  // or origin connection would never be closed by the old process.
  std::set<std::string> listening = ListeningInodes();
  for (const std::string& inode : SocketInodes(successor_)) {
    EXPECT_FALSE(old_sockets.count(inode) > 0 && listening.count(inode) == 0)
        << "the new process holds the old process's connection socket:[" << inode << "]";
  }
  // The old process drains and exits 0 (drain_timeout is 5 s).
  std::optional<int> status = tg_->process().WaitExit(milliseconds(20000));
  ASSERT_TRUE(status.has_value()) << "the old process did not exit";
  EXPECT_EQ(*status, 0);
  EXPECT_EQ(PidInFile(), successor_);  // written by the new one, kept by the old one

  WrkResult r = wrk.get();
  ASSERT_GT(r.requests, 0) << r.output;
  EXPECT_EQ(r.connect_errors, 0) << r.output;
  EXPECT_EQ(r.read_errors, 0) << r.output;
  EXPECT_EQ(r.write_errors, 0) << r.output;
  EXPECT_EQ(r.timeouts, 0) << r.output;
  EXPECT_EQ(r.non_2xx_3xx, 0) << r.output;
  printf("wrk during the upgrade:\n%s\n", r.output.c_str());

  // The new process serves the shop port and the admin port alone now.
  EXPECT_EQ(kill(successor_, 0), 0);
  EXPECT_EQ(Status(tg_->port()), 200);
  EXPECT_EQ(Status(tg_->admin_port(), "/metrics"), 200);
  EXPECT_NE(tg_->Stderr().find("upgrade.serving"), std::string::npos);
}

TEST_F(UpgradeTest, FailingNewBinaryLeavesTheOldOneServingAndItCanBeAskedAgain) {
  Start();
  ASSERT_TRUE(tg_);
  ASSERT_TRUE(shop_);
  ASSERT_EQ(Status(tg_->port()), 200);
  std::string real = dir_.File("tidegate.real");
  ASSERT_TRUE(CopyExecutable(TidegateBinary(), real));

  // 1. The binary on disk is now one that cannot start.
  ASSERT_TRUE(WriteScript(binary_, "echo 'broken build: missing library' >&2\nexit 1\n"));
  ASSERT_TRUE(tg_->process().Signal(SIGUSR2));
  ASSERT_TRUE(StderrShows("upgrade.failed")) << tg_->Stderr();
  std::string err = tg_->Stderr();
  EXPECT_NE(err.find("exited with status 1 before serving"), std::string::npos) << err;
  EXPECT_NE(err.find("broken build: missing library"), std::string::npos) << err;
  EXPECT_NE(err.find("this process keeps serving"), std::string::npos) << err;
  EXPECT_TRUE(tg_->process().Running());
  EXPECT_EQ(Status(tg_->port()), 200);
  EXPECT_EQ(Status(tg_->admin_port(), "/metrics"), 200);

  // 2. A configuration broken since the start: the new process refuses it.
  std::string config = ReadFile(tg_->config_path());
  ASSERT_TRUE(WriteScript(binary_, "exec " + real + " \"$@\"\n"));
  std::string broken = config;
  broken.replace(broken.find("[server]\n"), 9, "[server]\nbogus_key = 1\n");
  ASSERT_TRUE(tg_->RewriteConfig(broken));
  ASSERT_TRUE(tg_->process().Signal(SIGUSR2));
  ASSERT_TRUE(StderrShows("exited with status 1 before serving", 2)) << tg_->Stderr();
  EXPECT_NE(tg_->Stderr().find("bogus_key"), std::string::npos) << tg_->Stderr();
  EXPECT_TRUE(tg_->process().Running());
  EXPECT_EQ(Status(tg_->port()), 200);

  // 3. Fixed, but slow to start: a second SIGUSR2 meanwhile is refused, the
  // first one completes.
  ASSERT_TRUE(tg_->RewriteConfig(config));
  ASSERT_TRUE(WriteScript(binary_, "sleep 2\nexec " + real + " \"$@\"\n"));
  ASSERT_TRUE(tg_->process().Signal(SIGUSR2));
  ASSERT_TRUE(StderrShows("upgrade.start: SIGUSR2: started", 3));
  std::this_thread::sleep_for(milliseconds(500));
  ASSERT_TRUE(tg_->process().Signal(SIGUSR2));
  ASSERT_TRUE(StderrShows("SIGUSR2 ignored: an upgrade is already in progress")) << tg_->Stderr();
  ASSERT_TRUE(StderrShows("upgrade.done")) << tg_->Stderr();
  EXPECT_EQ(CountOccurrences(tg_->Stderr(), "upgrade.start: SIGUSR2: started"), 3);
  successor_ = SuccessorPid();
  ASSERT_GT(successor_, 0);
  std::optional<int> status = tg_->process().WaitExit(milliseconds(20000));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
  EXPECT_EQ(Status(tg_->port()), 200);
}

TEST_F(UpgradeTest, TlsListenerUnixAdminSocketAndANewAddressAfterTheUpgrade) {
  CertFiles certs;
  std::string error;
  ASSERT_TRUE(MakeCertificate(dir_, "shop", "shop.example", {"shop.example"}, &certs, &error))
      << error;
  const std::string tls_tail =
      "\n[server.tls]\nlisten = [\"127.0.0.1:${TLS_PORT}\"]\n"
      "certificates = [{ cert = \"" +
      certs.cert + "\", key = \"" + certs.key + "\" }]\n";
  Start({{"workers", "2"}}, tls_tail, "unix:${DIR}/admin.sock");
  ASSERT_TRUE(tg_);
  ASSERT_TRUE(shop_);
  const std::string admin_socket = dir_.File("admin.sock");
  ASSERT_EQ(UnixStatus(admin_socket, "/metrics"), 200);
  auto tls_get = [&] {
    TlsClientOptions options;
    options.sni = "shop.example";
    std::string e;
    auto conn = TlsConnection::Connect(tg_->tls_port(), options, &e);
    if (!conn) return -1;
    conn->Send(Get("/"));
    HttpMessage r = ReadResponse(*conn, Within(milliseconds(10000)));
    return r.ok ? r.status : -1;
  };
  ASSERT_EQ(tls_get(), 200);

  // The new process's configuration adds a plain address: it binds that one
  // and adopts the others.
  uint16_t extra = FreeLoopbackPort();
  std::string config = ReadFile(tg_->config_path());
  std::string listen = "listen = [\"127.0.0.1:" + std::to_string(tg_->port()) + "\"]";
  ASSERT_NE(config.find(listen), std::string::npos);
  config.replace(config.find(listen), listen.size(),
                 "listen = [\"127.0.0.1:" + std::to_string(tg_->port()) +
                     "\", \"127.0.0.1:" + std::to_string(extra) + "\"]");
  ASSERT_TRUE(tg_->RewriteConfig(config));

  ASSERT_TRUE(tg_->process().Signal(SIGUSR2));
  ASSERT_TRUE(StderrShows("upgrade.done")) << tg_->Stderr();
  successor_ = SuccessorPid();
  ASSERT_GT(successor_, 0);
  // 2 workers x (plain + TLS) + the admin socket.
  EXPECT_NE(tg_->Stderr().find("with 5 listening socket(s)"), std::string::npos) << tg_->Stderr();
  std::optional<int> status = tg_->process().WaitExit(milliseconds(20000));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);

  EXPECT_EQ(tls_get(), 200);
  EXPECT_EQ(Status(tg_->port()), 200);
  EXPECT_EQ(Status(extra), 200);
  EXPECT_EQ(UnixStatus(admin_socket, "/metrics"), 200);  // the socket file stayed
}

// With the local backend, what an operator switched on before SIGUSR2 is in
// force in the new process (it reads the state file the old one keeps), and
// the old process, once it handed over, writes nothing more there.
TEST_F(UpgradeTest, LocalOperatorSwitchesCarryOverTheUpgrade) {
  const std::string token = "upgrade-operator-token-0123456789abcdef";
  Start({{"workers", "1"}}, "tokens = [{ name = \"ops\", token_sha256 = \"" + Sha256Hex(token) +
                                "\", role = \"operator\" }]\n"
                                "\n[features.checkout]\nmatch = [{ path = \"^/checkout\" }]\n");
  ASSERT_TRUE(tg_);
  auto admin = [&](const std::string& method, const std::string& path, const std::string& body) {
    std::string error;
    auto conn = RawConnection::Connect(tg_->admin_port(), &error);
    if (!conn) return -1;
    std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                          "Authorization: Bearer " + token + "\r\n";
    if (!body.empty()) {
      request +=
          "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n";
    }
    conn->Send(request + "Connection: close\r\n\r\n" + body);
    HttpMessage r = ReadResponse(*conn, Within(milliseconds(10000)));
    return r.ok ? r.status : -1;
  };
  ASSERT_EQ(admin("PUT", "/v1/features/checkout/maintenance", R"({"message": "Paused"})"), 200);
  ASSERT_EQ(Status(tg_->port(), "/checkout"), 503);

  ASSERT_TRUE(tg_->process().Signal(SIGUSR2));
  ASSERT_TRUE(StderrShows("upgrade.done")) << tg_->Stderr();
  successor_ = SuccessorPid();
  ASSERT_GT(successor_, 0) << tg_->Stderr();
  std::optional<int> status = tg_->process().WaitExit(milliseconds(20000));
  ASSERT_TRUE(status.has_value()) << "the old process did not exit";
  EXPECT_EQ(*status, 0);

  // Only the new process serves now: the switch is still on there.
  EXPECT_EQ(Status(tg_->port(), "/checkout"), 503);
  EXPECT_EQ(Status(tg_->port(), "/"), 200);
  // And the operator can end it on the new process, which saves it.
  EXPECT_EQ(admin("DELETE", "/v1/features/checkout/maintenance", ""), 200);
  EXPECT_NE(Status(tg_->port(), "/checkout"), 503);
  std::string saved = ReadFile(dir_.File("state/runtime_state.json"));
  EXPECT_EQ(saved.find("Paused"), std::string::npos) << saved;
}

}  // namespace
}  // namespace tidegate::itest
