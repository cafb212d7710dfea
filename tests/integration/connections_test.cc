// Reliability cases 29–31: half-close and reset by the client, unreachable
// and slow origins, origin-side connection reuse and retries.
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/harness/ports.h"
#include "tests/integration/harness/proc_stats.h"
#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class ConnectionsTest : public ProxyTest {};

TEST_F(ConnectionsTest, Case29_HalfCloseAfterFullRequestStillGetsResponse) {
  StartWithDemoShop();
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/slow?ms=300")));
  conn->ShutdownWrite();
  HttpMessage r = ReadResponse(*conn);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  // And with a body, on a plain origin.
  auto conn2 = Connect();
  ASSERT_TRUE(conn2);
  ASSERT_TRUE(
      conn2->Send("POST /echo HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 4\r\n\r\nbody"));
  conn2->ShutdownWrite();
  HttpMessage r2 = ReadResponse(*conn2);
  ASSERT_TRUE(r2.ok) << r2.error;
  EXPECT_EQ(r2.status, 200);
  EXPECT_NE(r2.body.find("\r\n\r\nbody"), std::string::npos) << Printable(r2.body);
}

TEST_F(ConnectionsTest, Case29_HalfCloseAfterPipelinedRequestsAnswersEveryOneInOrder) {
  StartWithOrigin(ServeOkForever());
  ASSERT_TRUE(Started());
  // Three complete requests, then FIN (printf '...' | nc): all three answered.
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/a") + Get("/b") + Get("/c")));
  conn->ShutdownWrite();
  for (const char* path : {"/a", "/b", "/c"}) {
    HttpMessage r = ReadResponse(*conn, Within(milliseconds(5000)));
    ASSERT_TRUE(r.ok) << path << ": " << r.error << " " << Printable(conn->buffer());
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, std::string("ok:") + path);
  }
  EXPECT_EQ(conn->ReadUntilClose(milliseconds(5000)), ReadStatus::kClosed);
  EXPECT_EQ(conn->buffer(), "") << Printable(conn->buffer());
  // A partial request at the FIN is dropped: the complete ones are answered,
  // then the connection closes.
  auto conn2 = Connect();
  ASSERT_TRUE(conn2);
  ASSERT_TRUE(conn2->Send(Get("/d") + Get("/e") + "GET /partial HTTP/1.1\r\nHost: sh"));
  conn2->ShutdownWrite();
  for (const char* path : {"/d", "/e"}) {
    HttpMessage r = ReadResponse(*conn2, Within(milliseconds(5000)));
    ASSERT_TRUE(r.ok) << path << ": " << r.error << " " << Printable(conn2->buffer());
    EXPECT_EQ(r.body, std::string("ok:") + path);
  }
  EXPECT_EQ(conn2->ReadUntilClose(milliseconds(5000)), ReadStatus::kClosed);
  EXPECT_EQ(conn2->buffer(), "") << Printable(conn2->buffer());
}

TEST_F(ConnectionsTest, Case29_ClientResetMidResponseClosesOriginNoLeak) {
  std::atomic<int> streams{0};
  std::atomic<int> streams_closed{0};
  StartWithOrigin([&](OriginConnection& conn) {
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest();
      if (!req.ok) return;
      if (req.url != "/stream") {
        conn.Send(ResponseBytes(200, "ok:" + req.url));
        continue;
      }
      ++streams;
      conn.Send("HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n");
      const std::string piece(16384, 'r');
      for (int i = 0; i < 8; ++i) {
        if (!conn.Send(piece)) break;
      }
      // Then stall mid-body: the proxy must notice the client is gone anyway.
      if (conn.WaitForClose(milliseconds(30000))) ++streams_closed;
      return;
    }
  });
  ASSERT_TRUE(Started());
  ExpectServes("/warm");  // a pooled origin connection may now exist
  int fds_before = CountOpenFds(tidegate_->pid());
  for (int round = 0; round < 5; ++round) {
    auto conn = Connect();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send(Get("/stream")));
    ASSERT_TRUE(conn->ReadAtLeast(50000, milliseconds(5000))) << "got " << conn->buffer().size();
    conn->Reset();
  }
  // Every origin connection of a reset client is closed by the proxy.
  auto closed_deadline = Clock::now() + std::chrono::seconds(10);
  while (streams_closed < 5 && Clock::now() < closed_deadline) poll(nullptr, 0, 20);
  EXPECT_EQ(streams.load(), 5);
  EXPECT_EQ(streams_closed.load(), 5) << "origin connections still open after their clients reset";
  auto deadline = Clock::now() + std::chrono::seconds(5);
  int fds_after = CountOpenFds(tidegate_->pid());
  while (fds_after > fds_before && Clock::now() < deadline) {
    poll(nullptr, 0, 50);
    fds_after = CountOpenFds(tidegate_->pid());
  }
  EXPECT_LE(fds_after, fds_before) << "descriptors leaked";
  ExpectServes("/after");
}

TEST_F(ConnectionsTest, Case30_OriginRefusesIsFast502) {
  StartProxy(FreeLoopbackPort(), {}, {{"connect_timeout", "\"5s\""}});
  ASSERT_TRUE(Started());
  auto start = Clock::now();
  HttpMessage r = RoundTrip(Get("/x"));
  double elapsed = SecondsSince(start);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 502);
  EXPECT_LT(elapsed, 2.0) << "a refused connect must not wait for connect_timeout (5 s)";
  EXPECT_NE(r.body.find("/.tidegate/status"), std::string::npos)
      << "the error page should link the status page: " << Printable(r.body);
  HttpMessage json = RoundTrip(Get("/x", "Accept: application/json\r\n"));
  ASSERT_TRUE(json.ok) << json.error;
  EXPECT_EQ(json.status, 502);
  EXPECT_NE(json.Header("Content-Type").value_or("").find("json"), std::string::npos);
}

TEST_F(ConnectionsTest, Case30_OriginBlackholeIs504AtConnectTimeout) {
  BlackholeOrigin hole;
  ASSERT_TRUE(hole.ok()) << "could not build a black-hole origin";
  StartProxy(hole.port(), {}, {{"connect_timeout", "\"1s\""}});
  ASSERT_TRUE(Started());
  auto start = Clock::now();
  HttpMessage r = RoundTrip(Get("/x"), Within(milliseconds(10000)));
  double elapsed = SecondsSince(start);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 504);
  EXPECT_GE(elapsed, 0.9);
  EXPECT_LT(elapsed, 5.0) << "connect_timeout 1 s was not enforced";
}

TEST_F(ConnectionsTest, Case30_SlowOriginHeadersIs504) {
  StartWithOrigin(
      [](OriginConnection& conn) {
        if (!conn.ReadRequest().ok) return;
        conn.Send("HTTP/1.1 200 OK\r\n");  // part of a head, then silence
        conn.WaitForClose(milliseconds(30000));
      },
      {}, {{"response_timeout", "\"1s\""}});
  ASSERT_TRUE(Started());
  auto start = Clock::now();
  HttpMessage r = RoundTrip(Get("/slow-head"), Within(milliseconds(10000)));
  double elapsed = SecondsSince(start);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 504);
  EXPECT_LT(elapsed, 5.0) << "response_timeout 1 s was not enforced";
  EXPECT_TRUE(origin_->WaitPeerClosed(0, milliseconds(5000)))
      << "the timed-out origin connection was not closed";
}

TEST_F(ConnectionsTest, Case31_OriginConnectionCloseIsNotReused) {
  StartWithOrigin([](OriginConnection& conn) {
    // Says "Connection: close" but keeps the socket open.
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest();
      if (!req.ok) return;
      conn.Send(ResponseBytes(200, "ok:" + req.url, "Connection: close\r\n"));
    }
  });
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  for (const char* path : {"/1", "/2", "/3"}) {
    ASSERT_TRUE(conn->Send(Get(path)));
    HttpMessage r = ReadResponse(*conn);
    ASSERT_TRUE(r.ok) << path << ": " << r.error;
    EXPECT_EQ(r.body, std::string("ok:") + path);
    if (!r.keep_alive) {  // the proxy may pass the close on; then reconnect
      conn = Connect();
      ASSERT_TRUE(conn);
    }
  }
  EXPECT_EQ(origin_->accepted(), 3) << "a Connection: close origin connection was reused";
  EXPECT_TRUE(origin_->WaitPeerClosed(0, milliseconds(5000)));
}

// Connection 0: answers the first request, then reads the second and closes
// without a byte (a pooled connection gone stale). Others: normal.
ScriptedOrigin::Script StaleSecondRequest() {
  return [](OriginConnection& conn) {
    if (conn.index() == 0) {
      if (!conn.ReadRequest().ok) return;
      conn.Send(ResponseBytes(200, "first"));
      conn.ReadRequest();
      conn.Close();
      return;
    }
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest();
      if (!req.ok) return;
      conn.Send(ResponseBytes(200, "ok:" + req.method + " " + req.url));
    }
  };
}

TEST_F(ConnectionsTest, Case31_StalePooledConnectionRetriedOnceForIdempotent) {
  StartWithOrigin(StaleSecondRequest());
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/one")));
  HttpMessage r1 = ReadResponse(*conn);
  ASSERT_TRUE(r1.ok) << r1.error;
  EXPECT_EQ(r1.body, "first");
  ASSERT_TRUE(conn->Send(Get("/two")));
  HttpMessage r2 = ReadResponse(*conn);
  ASSERT_TRUE(r2.ok) << r2.error;
  EXPECT_EQ(r2.status, 200) << "GET on a stale pooled connection was not retried";
  EXPECT_EQ(r2.body, "ok:GET /two");
  EXPECT_EQ(origin_->accepted(), 2);
}

TEST_F(ConnectionsTest, Case31_StalePooledConnectionNotRetriedForPost) {
  StartWithOrigin(StaleSecondRequest());
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/one")));
  HttpMessage r1 = ReadResponse(*conn);
  ASSERT_TRUE(r1.ok) << r1.error;
  ASSERT_TRUE(
      conn->Send("POST /pay HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 6\r\n\r\namount"));
  HttpMessage r2 = ReadResponse(*conn);
  ASSERT_TRUE(r2.ok) << r2.error;
  EXPECT_EQ(r2.status, 502) << "a POST must not be retried: " << Printable(r2.raw);
  std::vector<std::string> seen = origin_->requests();
  int posts = 0;
  for (const std::string& s : seen) posts += s == "POST /pay";
  EXPECT_EQ(posts, 1) << "the POST reached the origin " << posts << " times";
}

}  // namespace
}  // namespace tidegate::itest
