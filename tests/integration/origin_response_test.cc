// Reliability cases 15–17: origins that send too much, too little, or
// malformed framing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

class OriginResponseTest : public ProxyTest {};

// Connection 0 answers its first request with `first`; every other request
// (and connection) gets a normal 200 "ok:<url>".
ScriptedOrigin::Script FirstAnswer(std::string first) {
  return [first](OriginConnection& conn) {
    bool answered_special = conn.index() != 0;
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest();
      if (!req.ok) return;
      if (!answered_special) {
        answered_special = true;
        conn.Send(first);
        continue;
      }
      conn.Send(ResponseBytes(200, "ok:" + req.url));
    }
  };
}

TEST_F(OriginResponseTest, Case15_MoreBytesThanContentLength) {
  StartWithOrigin(FirstAnswer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" +
                              std::string("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nINJECTED")));
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/one")));
  HttpMessage r = ReadResponse(*conn);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.body, "hello");
  // The next request on the same client connection must not get the
  // origin's leftover bytes, and must go to a fresh origin connection.
  ASSERT_TRUE(conn->Send(Get("/two")));
  HttpMessage r2 = ReadResponse(*conn);
  ASSERT_TRUE(r2.ok) << r2.error;
  EXPECT_EQ(r2.body, "ok:/two") << "the leftover bytes were served as a response";
  EXPECT_EQ(origin_->accepted(), 2) << "the origin connection with leftover bytes was reused";
  EXPECT_TRUE(origin_->WaitPeerClosed(0, milliseconds(5000)))
      << "the proxy kept the dirty origin connection open";
}

TEST_F(OriginResponseTest, Case16_OriginClosesBeforeContentLength) {
  StartWithOrigin([](OriginConnection& conn) {
    if (!conn.ReadRequest().ok) return;
    conn.Send(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100\r\n\r\n"
        "<html><body>0123");
    conn.Close();
  });
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/truncated")));
  HttpMessage r = ReadResponse(*conn);
  if (r.ok) {
    // Only acceptable complete answer: a 502 made before any byte was sent.
    EXPECT_EQ(r.status, 502) << "a truncated response was completed: " << Printable(r.raw);
  } else {
    EXPECT_TRUE(conn->peer_closed()) << r.error;
    // Nothing appended after the origin's 16 body bytes.
    std::string raw = conn->buffer();
    size_t head_end = raw.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos) << Printable(raw);
    EXPECT_EQ(raw.substr(head_end + 4), "<html><body>0123") << Printable(raw);
  }
}

TEST_F(OriginResponseTest, Case16_OriginClosesMidChunkedBody) {
  StartWithOrigin([](OriginConnection& conn) {
    if (!conn.ReadRequest().ok) return;
    conn.Send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nshort");
    conn.Close();
  });
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/truncated")));
  HttpMessage r = ReadResponse(*conn);
  if (r.ok) {
    EXPECT_EQ(r.status, 502) << "a truncated chunked response was completed: " << Printable(r.raw);
  } else {
    EXPECT_TRUE(conn->peer_closed()) << r.error;
    EXPECT_EQ(conn->buffer().find("\r\n0\r\n\r\n"), std::string::npos)
        << "a last-chunk was appended: " << Printable(conn->buffer());
  }
}

TEST_F(OriginResponseTest, Case17_BadOriginFramingIs502) {
  const std::vector<std::string> bad = {
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: "
      "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: "
      "5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
      "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
      "garbage\r\n\r\n",
  };
  StartWithOrigin([&](OriginConnection& conn) {
    if (!conn.ReadRequest().ok) return;
    conn.Send(bad[static_cast<size_t>(conn.index()) % bad.size()]);
    conn.Close();
  });
  ASSERT_TRUE(Started());
  for (size_t which = 0; which < bad.size(); ++which) {
    SCOPED_TRACE("origin response: \"" + Printable(bad[which]) + "\"");
    EXPECT_EQ(origin_->accepted(), static_cast<int>(which))
        << "the proxy retried a bad response or opened extra origin connections";
    auto conn = Connect();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send(Get("/bad")));
    HttpMessage r = ReadResponse(*conn);
    if (r.ok) {
      EXPECT_EQ(r.status, 502) << Printable(r.raw);
      EXPECT_EQ(r.body.find("hello"), std::string::npos) << "origin body leaked into the 502";
    } else {
      // Headers may have been forwarded before the body turned out bad:
      // then the only correct move is to close the client connection.
      EXPECT_TRUE(conn->peer_closed()) << r.error;
    }
    // Wait for the origin connection to be done before the next round, so
    // accept order matches `which`.
    origin_->WaitPeerClosed(static_cast<int>(which), milliseconds(2000));
  }
}

}  // namespace
}  // namespace tidegate::itest
