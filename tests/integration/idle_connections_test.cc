// Idle keep-alive connections hold no buffers, parser or stream once the
// worker holds more than Worker::kCompactIdleAbove (256) connections
// (proxy/client_connection.h, "Idle compaction"): counted in
// tidegate_connections_compacted_total, and a compacted connection serves
// its next requests (plain, pipelined, with a body) as if nothing happened,
// closes at keepalive_timeout, and is closed cleanly on SIGTERM (TearDown).
// Below the threshold nothing is compacted.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/proc_stats.h"
#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

using Clock = std::chrono::steady_clock;

class IdleConnectionsTest : public ProxyTest {
 protected:
  long Compacted() { return Metric("connections_compacted_total"); }

  // Waits (at most 10 s) until at least `n` connections were compacted.
  bool WaitCompacted(long n) {
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      if (Compacted() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // Opens `n` connections that send nothing (they count towards the
  // worker's connections, new ones are never compacted).
  // Waits (at most 10 s) until the proxy accepted them all.
  void OpenFillers(int n) {
    for (int i = 0; i < n; ++i) {
      auto conn = Connect();
      ASSERT_TRUE(conn);
      fillers_.push_back(std::move(conn));
    }
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Metric("connections_active") < n && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_GE(Metric("connections_active"), n);
  }

  void ExpectOk(RawConnection& conn, const std::string& path) {
    HttpMessage r = ReadResponse(conn, Within(milliseconds(5000)));
    ASSERT_TRUE(r.ok) << path << ": " << r.error;
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "ok:" + path);
  }

  // > Worker::kCompactIdleAbove on the one worker; they send nothing (the
  // tests raise header_timeout so that they stay open).
  static constexpr int kFillers = 260;
  std::vector<std::unique_ptr<RawConnection>> fillers_;
};

TEST_F(IdleConnectionsTest, FewConnectionsAreNotCompacted) {
  StartWithOrigin(ServeOkForever(), {{"header_timeout", "\"60s\""}});
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  for (const char* path : {"/a", "/b"}) {
    ASSERT_TRUE(conn->Send(Get(path)));
    ExpectOk(*conn, path);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Compacted(), 0);
}

TEST_F(IdleConnectionsTest, IdleConnectionsAreCompactedAndServeTheirNextRequests) {
  StartWithOrigin(ServeOkForever(), {{"header_timeout", "\"60s\""}});
  ASSERT_TRUE(Started());
  OpenFillers(kFillers);
  constexpr int kConnections = 20;
  std::vector<std::unique_ptr<RawConnection>> conns;
  for (int i = 0; i < kConnections; ++i) {
    auto conn = Connect();
    ASSERT_TRUE(conn);
    std::string path = "/first/" + std::to_string(i);
    ASSERT_TRUE(conn->Send(Get(path)));
    ExpectOk(*conn, path);
    conns.push_back(std::move(conn));
  }
  // Every one of them went idle with nothing buffered: all compacted.
  ASSERT_TRUE(WaitCompacted(kConnections)) << "compacted: " << Compacted();

  // A plain request on each: the connection takes a bufferevent, a parser
  // and a stream again.
  for (int i = 0; i < kConnections; ++i) {
    std::string path = "/again/" + std::to_string(i);
    ASSERT_TRUE(conns[i]->Send(Get(path)));
    ExpectOk(*conns[i], path);
  }
  // Two pipelined requests in one packet, and a request head split in two
  // writes, on compacted connections.
  ASSERT_TRUE(WaitCompacted(2 * kConnections));
  ASSERT_TRUE(conns[0]->Send(Get("/p1") + Get("/p2")));
  ExpectOk(*conns[0], "/p1");
  ExpectOk(*conns[0], "/p2");
  std::string split = Get("/split");
  ASSERT_TRUE(conns[1]->Send(split.substr(0, 10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(conns[1]->Send(split.substr(10)));
  ExpectOk(*conns[1], "/split");
  // A request with a body.
  ASSERT_TRUE(
      conns[2]->Send("POST /post HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5\r\n\r\nhello"));
  ExpectOk(*conns[2], "/post");
  // The rest stay open, compacted, until TearDown's SIGTERM drains them.
}

TEST_F(IdleConnectionsTest, CompactedConnectionClosesAtKeepaliveTimeout) {
  StartWithOrigin(ServeOkForever(),
                  {{"header_timeout", "\"60s\""}, {"keepalive_timeout", "\"2s\""}});
  ASSERT_TRUE(Started());
  OpenFillers(kFillers);
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/one")));
  ExpectOk(*conn, "/one");
  ASSERT_TRUE(WaitCompacted(1));
  auto start = Clock::now();
  EXPECT_EQ(conn->ReadUntilClose(milliseconds(10000)), ReadStatus::kClosed);
  EXPECT_EQ(conn->buffer(), "");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(9));
  // No descriptor is left behind by the closed, compacted connection.
  ExpectServes("/ok");
}

TEST_F(IdleConnectionsTest, ClientClosingACompactedConnectionLeaksNothing) {
  StartWithOrigin(ServeOkForever(), {{"header_timeout", "\"60s\""}});
  ASSERT_TRUE(Started());
  OpenFillers(kFillers);
  int fds_before = CountOpenFds(tidegate_->pid());
  for (int round = 0; round < 3; ++round) {
    std::vector<std::unique_ptr<RawConnection>> conns;
    for (int i = 0; i < 10; ++i) {
      auto conn = Connect();
      ASSERT_TRUE(conn);
      ASSERT_TRUE(conn->Send(Get("/x")));
      ExpectOk(*conn, "/x");
      conns.push_back(std::move(conn));
    }
    ASSERT_TRUE(WaitCompacted(10 * (round + 1)));
    conns.clear();  // the clients close their compacted connections
  }
  // The proxy closes its side of every one (bounded wait).
  auto deadline = Clock::now() + std::chrono::seconds(10);
  int fds = CountOpenFds(tidegate_->pid());
  while (fds > fds_before + 2 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    fds = CountOpenFds(tidegate_->pid());
  }
  EXPECT_LE(fds, fds_before + 2) << "before " << fds_before;
  ExpectServes("/ok");
}

}  // namespace
}  // namespace tidegate::itest
