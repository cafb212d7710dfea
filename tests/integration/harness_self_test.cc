// Self-tests of the harness (no tidegate needed): the reader, the scripted
// origin, raw connections, process control, /proc observation. If these
// fail, every other integration result is suspect.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/ports.h"
#include "tests/integration/harness/proc_stats.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/scripted_origin.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/test_certs.h"
#include "tests/integration/harness/tls_client.h"

namespace tidegate::itest {
namespace {

// True when one of PID's open descriptors refers to `path`.
bool ChildHoldsFile(pid_t pid, const std::string& path) {
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code link_ec;
    if (std::filesystem::read_symlink(entry.path(), link_ec) ==
        std::filesystem::weakly_canonical(path))
      return true;
  }
  return false;
}

TEST(HarnessSelfTest, PipelinedResponsesAreSplitExactly) {
  ScriptedOrigin origin([](OriginConnection& conn) {
    HttpMessage req = conn.ReadRequest();
    if (!req.ok) return;
    conn.Send(
        ResponseBytes(200, "first") +
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nsec\r\n3\r\nond\r\n0\r\n\r\n" +
        "HTTP/1.1 204 No Content\r\n\r\n" + "HTTP/1.0 200 OK\r\n\r\nuntil close");
    conn.Close();
  });
  auto conn = ConnectOrFail(origin.port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n"));
  HttpMessage r1 = ReadResponse(*conn);
  ASSERT_TRUE(r1.ok) << r1.error;
  EXPECT_EQ(r1.body, "first");
  HttpMessage r2 = ReadResponse(*conn);
  ASSERT_TRUE(r2.ok) << r2.error;
  EXPECT_EQ(r2.body, "second");
  EXPECT_TRUE(r2.chunked);
  HttpMessage r3 = ReadResponse(*conn);
  ASSERT_TRUE(r3.ok) << r3.error;
  EXPECT_EQ(r3.status, 204);
  HttpMessage r4 = ReadResponse(*conn);
  ASSERT_TRUE(r4.ok) << r4.error;
  EXPECT_EQ(r4.body, "until close");
  EXPECT_TRUE(r4.ended_by_close);
  EXPECT_EQ(origin.requests_seen(), 1);
  EXPECT_EQ(origin.Received(0), "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
}

TEST(HarnessSelfTest, HeadResponseHasNoBodyAndInterimIsSkipped) {
  ScriptedOrigin origin([](OriginConnection& conn) {
    conn.ReadRequest();
    conn.Send("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
    conn.WaitForClose(milliseconds(5000));
  });
  auto conn = ConnectOrFail(origin.port());
  ASSERT_TRUE(conn);
  conn->Send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
  ReadOptions options;
  options.head_request = true;
  HttpMessage r = ReadResponse(*conn, options);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-length"), "10");
  EXPECT_TRUE(r.body.empty());
  conn->Close();
  EXPECT_TRUE(origin.WaitPeerClosed(0, milliseconds(5000)));
}

TEST(HarnessSelfTest, TruncatedResponseIsAnErrorAndResetIsSeen) {
  ScriptedOrigin origin([](OriginConnection& conn) {
    conn.ReadRequest();
    conn.Send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    conn.Reset();
  });
  auto conn = ConnectOrFail(origin.port());
  ASSERT_TRUE(conn);
  conn->Send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  HttpMessage r = ReadResponse(*conn);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(conn->peer_closed());
}

TEST(HarnessSelfTest, TimeoutWhenNothingArrives) {
  ScriptedOrigin origin([](OriginConnection& conn) { conn.WaitForClose(milliseconds(10000)); });
  auto conn = ConnectOrFail(origin.port());
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->ReadMore(milliseconds(100)), ReadStatus::kTimeout);
  HttpMessage r = ReadResponse(*conn, Within(milliseconds(100)));
  EXPECT_FALSE(r.ok);
}

TEST(HarnessSelfTest, ProcessExitStatusSignalsAndProcStats) {
  TempDir dir;
  std::string error;
  ProcessOptions po;
  po.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  po.log_dir = dir.path();
  auto p = Process::Start(po, &error);
  ASSERT_TRUE(p) << error;
  EXPECT_EQ(p->WaitExit(milliseconds(10000)), 3);
  EXPECT_EQ(p->Stdout(), "out\n");
  EXPECT_EQ(p->Stderr(), "err\n");

  // A descriptor the test process holds without O_CLOEXEC must not reach the
  // child. (The child's exact count is not asserted: a CI runner may preload
  // a library that opens descriptors of its own.)
  const std::string canary_path = dir.path() + "/leak-canary";
  int canary = open(canary_path.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(canary, 0);
  po.argv = {"sleep", "30"};
  po.max_open_files = 64;
  auto s = Process::Start(po, &error);
  close(canary);
  ASSERT_TRUE(s) << error;
  auto stats = ReadProcStats(s->pid());
  ASSERT_TRUE(stats);
  EXPECT_GE(stats->open_fds, 3);
  EXPECT_FALSE(ChildHoldsFile(s->pid(), canary_path))
      << "inherited descriptor leaked into the child";
  EXPECT_GT(stats->vm_rss_kb, 0);
  EXPECT_GE(stats->cpu_seconds, 0);
  std::string limits = ReadFile("/proc/" + std::to_string(s->pid()) + "/limits");
  EXPECT_NE(limits.find("Max open files            64"), std::string::npos) << limits;
  EXPECT_TRUE(s->Signal(SIGTERM));
  EXPECT_EQ(s->WaitExit(milliseconds(10000)), 128 + SIGTERM);

  po.argv = {"/nonexistent/binary"};
  po.max_open_files.reset();
  EXPECT_FALSE(Process::Start(po, &error));
  EXPECT_NE(error.find("cannot exec"), std::string::npos) << error;
}

TEST(HarnessSelfTest, FreePortsAreDistinctAndBlackholeHangs) {
  uint16_t a = FreeLoopbackPort();
  uint16_t b = FreeLoopbackPort();
  EXPECT_NE(a, 0);
  EXPECT_NE(a, b);
  EXPECT_FALSE(PortAccepts(a));
  BlackholeOrigin hole;
  EXPECT_TRUE(hole.ok()) << "could not fill the accept queue; case 30 black-hole tests are void";
}

// TlsTest.Tls11IsRefused is only meaningful if our client really offers
// TLS 1.1: prove it against `openssl s_server` configured to accept it.
TEST(HarnessSelfTest, TlsClientCanSpeakTls11WhenAServerAllowsIt) {
  TempDir dir;
  CertFiles cert;
  std::string error;
  ASSERT_TRUE(MakeCertificate(dir, "legacy", "legacy.example", {"legacy.example"}, &cert, &error))
      << error;
  uint16_t port = FreeLoopbackPort();
  ProcessOptions po;
  po.argv = {"openssl",
             "s_server",
             "-accept",
             "127.0.0.1:" + std::to_string(port),
             "-cert",
             cert.cert,
             "-key",
             cert.key,
             "-tls1_1",
             "-cipher",
             "DEFAULT@SECLEVEL=0",
             "-naccept",
             "5",
             "-quiet"};
  po.log_dir = dir.path();
  po.name = "s_server";
  auto server = Process::Start(po, &error);
  ASSERT_TRUE(server) << error;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!PortAccepts(port) && std::chrono::steady_clock::now() < deadline) poll(nullptr, 0, 20);
  TlsClientOptions options;
  options.sni = "legacy.example";
  options.min_version = TLS1_1_VERSION;
  options.max_version = TLS1_1_VERSION;
  options.alpn.clear();
  auto conn = TlsConnection::Connect(port, options, &error);
  ASSERT_TRUE(conn) << error << "; s_server stderr: " << server->Stderr();
  EXPECT_EQ(conn->version(), TLS1_1_VERSION);
}

}  // namespace
}  // namespace tidegate::itest
