// Reliability cases 23–26: slowloris, dripped headers, slow bodies, slow
// readers. Deadlines in these configs are short (1–2 s); bounds asserted
// are generous multiples so sanitizer builds on 2 busy cores pass, while a
// proxy without the deadline (connections kept forever) always fails.
#include <arpa/inet.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/admin_metrics.h"
#include "tests/integration/harness/proc_stats.h"
#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class SlowClientsTest : public ProxyTest {};

TEST_F(SlowClientsTest, Case23_ThousandSlowlorisConnectionsWhileShoppersAreServed) {
  StartWithOrigin(ServeOkForever(), {{"header_timeout", "\"1s\""}});
  ASSERT_TRUE(Started());
  const int kSlow = 1000;
  int fds_before = CountOpenFds(tidegate_->pid());
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < kSlow; ++i) {
    auto conn = Connect();
    ASSERT_TRUE(conn) << "connection " << i;
    conn->Send("GET / HTTP/1.1\r\nHost: shop.test\r\n");
    slow.push_back(std::move(conn));
  }
  auto start = Clock::now();
  int open = kSlow;
  int served = 0;
  int failed = 0;
  std::string first_failure;
  // Drip one header line per connection every ~200 ms (far below any idle
  // timeout), and serve a normal shopper in between, until every slow
  // connection has been closed by the proxy or 15 s have passed.
  while (open > 0 && SecondsSince(start) < 15) {
    for (auto& conn : slow) {
      if (!conn || conn->peer_closed()) continue;
      ReadStatus s = conn->ReadMore(milliseconds(0));
      while (s == ReadStatus::kData) s = conn->ReadMore(milliseconds(0));  // e.g. a 408
      if (conn->peer_closed() || !conn->Send("X-Drip: a\r\n")) {
        conn.reset();
        --open;
      }
    }
    HttpMessage r = RoundTrip(Get("/shopper"), Within(milliseconds(3000)));
    if (r.ok && r.status == 200) {
      ++served;
    } else {
      ++failed;
      if (first_failure.empty()) first_failure = r.ok ? Printable(r.raw) : r.error;
    }
    struct pollfd none;
    poll(&none, 0, 200);
  }
  double elapsed = SecondsSince(start);
  EXPECT_EQ(open, 0) << open << " slowloris connections still open after " << elapsed
                     << " s with header_timeout = 1s";
  EXPECT_EQ(failed, 0) << "shoppers failed while under slowloris; first: " << first_failure;
  EXPECT_GT(served, 0);
  slow.clear();
  // Descriptors return to the baseline (the proxy leaked nothing).
  auto deadline = Clock::now() + std::chrono::seconds(10);
  int fds_after = CountOpenFds(tidegate_->pid());
  while (fds_after > fds_before + 2 && Clock::now() < deadline) {
    poll(nullptr, 0, 50);
    fds_after = CountOpenFds(tidegate_->pid());
  }
  EXPECT_LE(fds_after, fds_before + 2) << "fds before " << fds_before << ", after " << fds_after;
}

TEST_F(SlowClientsTest, Case24_HeadersDrippedUnderIdleTimeoutAreCutAtTotalDeadline) {
  StartWithOrigin(ServeOkForever(), {{"header_timeout", "\"1500ms\""}});
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  auto start = Clock::now();
  conn->Send("G");
  const std::string rest = "ET / HTTP/1.1\r\nHost: shop.test\r\nX-Long: " + std::string(200, 'a');
  size_t sent = 0;
  // One byte every 100 ms: always active, never finishing (200+ bytes = 20 s).
  while (!conn->peer_closed() && sent < rest.size() && SecondsSince(start) < 15) {
    if (!conn->Send(rest.substr(sent++, 1))) break;
    conn->ReadMore(milliseconds(100));
  }
  if (!conn->peer_closed()) conn->ReadUntilClose(milliseconds(3000));
  double elapsed = SecondsSince(start);
  EXPECT_TRUE(conn->peer_closed()) << "still open after " << elapsed << " s";
  EXPECT_LT(sent, rest.size()) << "the proxy waited for all dripped headers";
  EXPECT_GE(elapsed, 1.4) << "cut before the header deadline";
  EXPECT_LT(elapsed, 6.0) << "header_timeout 1.5 s is not an absolute deadline";
  if (!conn->buffer().empty()) {
    EXPECT_EQ(conn->buffer().rfind("HTTP/1.1 408", 0), 0u) << Printable(conn->buffer());
  }
  EXPECT_EQ(origin_->requests_seen(), 0);
}

// Audit 18 MEDIUM-1: the admin listener (evhttp) only had a 30 s idle
// timeout, which a drip resets: 300 dripping admin connections pinned the
// descriptors the shop shares. Its requests now have the same deadline.
TEST_F(SlowClientsTest, Case24_OnTheAdminListenerDrippedHeadersAreCutAtTheDeadline) {
  StartWithOrigin(ServeOkForever(), {{"header_timeout", "\"1500ms\""}});
  ASSERT_TRUE(Started());
  // drip(conn): one header line every 200 ms until the connection is closed
  // or 15 s pass; returns the seconds it stayed open.
  auto drip = [](RawConnection& conn) {
    auto start = Clock::now();
    while (!conn.peer_closed() && SecondsSince(start) < 15) {
      if (!conn.Send("X-Drip: a\r\n")) break;
      conn.ReadMore(milliseconds(200));
    }
    return SecondsSince(start);
  };
  auto fresh = ConnectOrFail(tidegate_->admin_port());
  ASSERT_TRUE(fresh);
  ASSERT_TRUE(fresh->Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  double open_for = drip(*fresh);
  EXPECT_TRUE(fresh->peer_closed()) << "a dripping admin request still open after 15 s";
  EXPECT_GE(open_for, 1.3) << "cut before the deadline";
  EXPECT_LT(open_for, 6.0) << "header_timeout 1.5 s does not bound an admin request";
  EXPECT_EQ(fresh->buffer(), "") << Printable(fresh->buffer());
  // The second request of a kept-alive connection has its own deadline.
  auto kept = ConnectOrFail(tidegate_->admin_port());
  ASSERT_TRUE(kept);
  ASSERT_TRUE(kept->Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  HttpMessage first = ReadResponse(*kept, Within(milliseconds(3000)));
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.status, 200);
  std::this_thread::sleep_for(milliseconds(2000));  // longer than the deadline, idle
  ASSERT_TRUE(kept->Send("GET /metrics HTTP/1.1\r\n"));
  open_for = drip(*kept);
  EXPECT_TRUE(kept->peer_closed()) << "the second dripping request still open after 15 s";
  EXPECT_LT(open_for, 6.0);
  // A request sent at an ordinary pace is answered.
  EXPECT_GE(Metric("connections_active"), 0);
}

// The admin deadline follows [server].header_timeout through a reload
// (SIGHUP), as the shop listeners' does: it was read once at the start.
TEST_F(SlowClientsTest, TheAdminDeadlineFollowsAReloadedHeaderTimeout) {
  StartWithOrigin(ServeOkForever(), {{"header_timeout", "\"30s\""}});
  ASSERT_TRUE(Started());
  std::string config = ReadFile(tidegate_->config_path());
  const std::string before = "header_timeout = \"30s\"";
  size_t at = config.find(before);
  ASSERT_NE(at, std::string::npos) << config;
  config.replace(at, before.size(), "header_timeout = \"1500ms\"");
  ASSERT_TRUE(tidegate_->RewriteConfig(config));
  ASSERT_TRUE(tidegate_->Reload());
  long reloads = 0;
  for (int i = 0; i < 250 && reloads < 1; ++i) {
    reloads = static_cast<long>(
        ReadMetric(tidegate_->admin_port(), "tidegate_config_reloads_total{result=\"ok\"}")
            .value_or(0));
    if (reloads < 1) std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_EQ(reloads, 1) << tidegate_->Stderr();

  auto conn = ConnectOrFail(tidegate_->admin_port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  auto start = Clock::now();
  while (!conn->peer_closed() && SecondsSince(start) < 12) {
    if (!conn->Send("X-Drip: a\r\n")) break;
    conn->ReadMore(milliseconds(200));
  }
  double open_for = SecondsSince(start);
  EXPECT_TRUE(conn->peer_closed()) << "a dripping admin request still open after 12 s";
  EXPECT_LT(open_for, 6.0) << "the reloaded header_timeout (1.5 s) does not bound it";
}

TEST_F(SlowClientsTest, HeaderTimeoutAfterPartialHeadAnswers408ThenCloses) {
  StartWithOrigin(ServeOkForever(), {{"header_timeout", "\"1s\""}});
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send("GET / HTTP/1.1\r\nHost: shop.test\r\n"));
  EXPECT_EQ(conn->ReadUntilClose(milliseconds(6000)), ReadStatus::kClosed);
  const std::string& got = conn->buffer();
  EXPECT_EQ(got.rfind("HTTP/1.1 408", 0), 0u) << Printable(got);
  EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << Printable(got);
  EXPECT_EQ(origin_->requests_seen(), 0);
  // The same on a keep-alive connection: one answered request, then part of
  // the next head.
  auto conn2 = Connect();
  ASSERT_TRUE(conn2);
  ASSERT_TRUE(conn2->Send(Get("/first")));
  HttpMessage r = ReadResponse(*conn2, Within(milliseconds(3000)));
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_TRUE(conn2->Send("GET /second HTTP/1.1\r\n"));
  EXPECT_EQ(conn2->ReadUntilClose(milliseconds(6000)), ReadStatus::kClosed);
  EXPECT_EQ(conn2->buffer().rfind("HTTP/1.1 408", 0), 0u) << Printable(conn2->buffer());
}

TEST_F(SlowClientsTest, HeaderTimeoutWithoutAnyRequestByteClosesSilently) {
  StartWithOrigin(ServeOkForever(),
                  {{"header_timeout", "\"1s\""}, {"keepalive_timeout", "\"1s\""}});
  ASSERT_TRUE(Started());
  // A new connection that never sends a byte.
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ReadStatus s = conn->ReadUntilClose(milliseconds(6000));
  EXPECT_TRUE(s == ReadStatus::kClosed || s == ReadStatus::kReset) << ToString(s);
  EXPECT_EQ(conn->buffer(), "") << Printable(conn->buffer());
  // A keep-alive connection idle after a response.
  auto conn2 = Connect();
  ASSERT_TRUE(conn2);
  ASSERT_TRUE(conn2->Send(Get("/first")));
  HttpMessage r = ReadResponse(*conn2, Within(milliseconds(3000)));
  ASSERT_TRUE(r.ok) << r.error;
  s = conn2->ReadUntilClose(milliseconds(6000));
  EXPECT_TRUE(s == ReadStatus::kClosed || s == ReadStatus::kReset) << ToString(s);
  EXPECT_EQ(conn2->buffer(), "") << Printable(conn2->buffer());
}

// An origin that answers "ok:<target>" to each request, and after a request
// it could not read (cut by the proxy) waits for the proxy to close.
void AnswerUrlsUntilClosed(OriginConnection& conn) {
  while (!conn.stopping()) {
    HttpMessage req = conn.ReadRequest(milliseconds(30000));
    if (!req.ok) {
      conn.WaitForClose(milliseconds(30000));
      return;
    }
    conn.Send(ResponseBytes(200, "ok:" + req.url));
  }
}

TEST_F(SlowClientsTest, Case25_SlowBodyHitsBodyDeadlineAndReleasesOrigin) {
  StartWithOrigin(AnswerUrlsUntilClosed, {{"body_timeout", "\"1s\""}});
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  auto start = Clock::now();
  conn->Send("POST /slow-body HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 1000\r\n\r\n");
  int sent = 0;
  while (!conn->peer_closed() && sent < 1000 && SecondsSince(start) < 15) {
    if (!conn->Send("x")) break;
    ++sent;
    conn->ReadMore(milliseconds(100));
  }
  if (!conn->peer_closed()) conn->ReadUntilClose(milliseconds(3000));
  double elapsed = SecondsSince(start);
  EXPECT_TRUE(conn->peer_closed()) << "still open after " << elapsed << " s";
  EXPECT_LT(sent, 1000);
  EXPECT_LT(elapsed, 6.0) << "body_timeout 1 s is not an absolute deadline";
  if (!conn->buffer().empty()) {
    EXPECT_EQ(conn->buffer().rfind("HTTP/1.1 408", 0), 0u) << Printable(conn->buffer());
  }
  // If the request had been forwarded, the origin connection must be closed
  // (a half-sent body can never be completed or reused).
  if (origin_->accepted() > 0) {
    EXPECT_TRUE(origin_->WaitPeerClosed(0, milliseconds(5000)))
        << "the origin connection of the timed-out request was not released";
  }
  ExpectServes("/after");
}

// Audit 11: a phone uploading a photo over a weak uplink (2.5 MB at 35 KB/s)
// was cut by the absolute body_timeout although every second brought data.
// A body that keeps coming at [server].body_min_rate (8 KB/s by default)
// or faster is not cut; the drip above still is.
TEST_F(SlowClientsTest, ASteadySlowUploadOutlastsBodyTimeout) {
  StartWithOrigin(
      [](OriginConnection& conn) {
        while (!conn.stopping()) {
          HttpMessage req = conn.ReadRequest(milliseconds(30000));
          if (!req.ok) return;
          conn.Send(ResponseBytes(200, "ok:" + std::to_string(req.body.size())));
        }
      },
      {{"body_timeout", "\"1s\""}});
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  const int kPieces = 30, kPiece = 5000;  // 150 KB over 3 s: 50 KB/s
  ASSERT_TRUE(conn->Send("POST /upload HTTP/1.1\r\nHost: shop.test\r\nContent-Length: " +
                         std::to_string(kPieces * kPiece) + "\r\n\r\n"));
  for (int i = 0; i < kPieces && !conn->peer_closed(); ++i) {
    if (!conn->Send(std::string(kPiece, 'p'))) break;
    conn->ReadMore(milliseconds(100));  // pacing; a 408 would land here
  }
  HttpMessage r = ReadResponse(*conn, Within(milliseconds(5000)));
  ASSERT_TRUE(r.ok) << r.error << " " << Printable(conn->buffer());
  EXPECT_EQ(r.status, 200) << Printable(r.raw);
  EXPECT_EQ(r.body, "ok:" + std::to_string(kPieces * kPiece));
}

// Audit 12: body_min_rate's credit piled up. 2 MB sent at once bought
// 256 s at 8 KB/s; a client that then stopped held its connection and the
// origin's for that long (the 16 MB limit: 35 minutes). A body that stops is
// cut body_timeout after its last bytes, whatever came before.
TEST_F(SlowClientsTest, ABodyThatStopsAfterAFastStartIsCutAtBodyTimeout) {
  StartWithOrigin(AnswerUrlsUntilClosed, {{"body_timeout", "\"1s\""}});
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  const size_t kSent = 2u << 20;  // 256 s of credit at 8 KB/s without the cap
  ASSERT_TRUE(conn->Send("POST /stalls HTTP/1.1\r\nHost: shop.test\r\nContent-Length: " +
                         std::to_string(kSent + 1000) + "\r\n\r\n"));
  ASSERT_TRUE(conn->Send(std::string(kSent, 'b')));
  auto stalled = Clock::now();
  ReadStatus s = conn->ReadUntilClose(milliseconds(8000));
  double elapsed = SecondsSince(stalled);
  EXPECT_TRUE(s == ReadStatus::kClosed || s == ReadStatus::kReset)
      << ToString(s) << " after " << elapsed << " s";
  EXPECT_LT(elapsed, 6.0) << "a stalled body kept its connection";
  if (!conn->buffer().empty()) {
    EXPECT_EQ(conn->buffer().rfind("HTTP/1.1 408", 0), 0u) << Printable(conn->buffer());
  }
  if (origin_->accepted() > 0) {
    EXPECT_TRUE(origin_->WaitPeerClosed(0, milliseconds(5000)))
        << "the origin connection of the stalled request was not released";
  }
  ExpectServes("/after");
}

TEST_F(SlowClientsTest, Case26_SlowReaderBackpressureAndSendDeadline) {
  std::atomic<uint64_t> origin_sent{0};
  const uint64_t kTotal = 200ull << 20;  // 200 MiB: never fits in buffers
  StartWithOrigin(
      [&](OriginConnection& conn) {
        HttpMessage req = conn.ReadRequest();
        if (!req.ok) return;
        if (req.url != "/huge") {
          conn.Send(ResponseBytes(200, "ok:" + req.url));
          conn.WaitForClose(milliseconds(30000));
          return;
        }
        if (!conn.Send("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                       "Content-Length: " +
                       std::to_string(kTotal) + "\r\n\r\n")) {
          return;
        }
        const std::string piece(65536, 'z');
        while (origin_sent < kTotal && !conn.stopping()) {
          if (!conn.Send(piece)) return;  // blocked > 10 s, or closed by the proxy
          origin_sent += piece.size();
        }
      },
      {{"send_timeout", "\"2s\""}}, {{"read_timeout", "\"30s\""}});
  ASSERT_TRUE(Started());
  long rss_before = ReadProcStats(tidegate_->pid())->vm_rss_kb;
  // A client with a small receive buffer that reads the head, then stops.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int small = 16384;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  RawConnection conn(fd);
  ASSERT_TRUE(conn.Send(Get("/huge")));
  ASSERT_TRUE(conn.ReadUntilContains("\r\n\r\n", milliseconds(5000))) << Printable(conn.buffer());
  // Stop reading. Watch the proxy's memory until it gives up on us (the
  // send deadline closes the client and releases the origin connection).
  long rss_peak = rss_before;
  auto start = Clock::now();
  bool released = false;
  while (SecondsSince(start) < 20) {
    if (auto stats = ReadProcStats(tidegate_->pid()))
      rss_peak = std::max(rss_peak, stats->vm_rss_kb);
    if (origin_->WaitPeerClosed(0, milliseconds(200))) {
      released = true;
      break;
    }
  }
  EXPECT_TRUE(released) << "the origin connection was never closed: no send deadline";
  EXPECT_LT(origin_sent.load(), 64ull << 20)
      << "the proxy kept reading from the origin without backpressure";
  EXPECT_LT(rss_peak - rss_before, 32 * 1024)
      << "proxy RSS grew from " << rss_before << " kB to " << rss_peak << " kB";
  // Now read: the client connection must have been closed by the proxy.
  ReadStatus s = conn.ReadUntilClose(milliseconds(10000));
  EXPECT_TRUE(s == ReadStatus::kClosed || s == ReadStatus::kReset) << ToString(s);
  EXPECT_LT(conn.bytes_received(), kTotal);
  ExpectServes("/after");
}

TEST_F(SlowClientsTest, IdleKeepAliveConnectionClosedAfterKeepaliveTimeout) {
  StartWithOrigin(ServeOkForever(), {{"keepalive_timeout", "\"1s\""}});
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/once")));
  HttpMessage r = ReadResponse(*conn);
  ASSERT_TRUE(r.ok) << r.error;
  auto start = Clock::now();
  ReadStatus s = conn->ReadUntilClose(milliseconds(8000));
  double elapsed = SecondsSince(start);
  EXPECT_TRUE(s == ReadStatus::kClosed || s == ReadStatus::kReset)
      << "an idle keep-alive connection was kept " << elapsed << " s (keepalive_timeout 1s)";
  EXPECT_GE(elapsed, 0.9);
  EXPECT_EQ(conn->buffer(), "") << "bytes sent on an idle connection: "
                                << Printable(conn->buffer());
}

}  // namespace
}  // namespace tidegate::itest
