// Reliability cases 11–14: pipelining, bodies on GET/HEAD, Expect:
// 100-continue, hop-by-hop headers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

class MessageFlowTest : public ProxyTest {
 protected:
  void SetUp() override {
    StartWithOrigin(ServeOkForever(), {{"max_body_bytes", "1048576"}});
    ASSERT_TRUE(Started());
  }
};

TEST_F(MessageFlowTest, Case11_TwoPipelinedRequestsInOnePacket) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/first") + Get("/second")));
  HttpMessage r1 = ReadResponse(*conn);
  ASSERT_TRUE(r1.ok) << r1.error;
  HttpMessage r2 = ReadResponse(*conn);
  ASSERT_TRUE(r2.ok) << r2.error;
  EXPECT_EQ(r1.body, "ok:/first");
  EXPECT_EQ(r2.body, "ok:/second");
  // Three more, one of them a POST with a body, all in one write.
  ASSERT_TRUE(conn->Send(Get("/a") +
                         "POST /b HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 3\r\n\r\nxyz" +
                         Get("/c")));
  for (const char* want : {"ok:/a", "ok:/b", "ok:/c"}) {
    HttpMessage r = ReadResponse(*conn);
    ASSERT_TRUE(r.ok) << want << ": " << r.error;
    EXPECT_EQ(r.body, want);
  }
}

TEST_F(MessageFlowTest, Case11_ConnectionCloseThenExtraBytes) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  conn->Send(Get("/only", "Connection: close\r\n") + Get("/smuggled"));
  HttpMessage r = ReadResponse(*conn);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.body, "ok:/only");
  ReadStatus s = conn->ReadUntilClose(milliseconds(5000));
  EXPECT_TRUE(s == ReadStatus::kClosed || s == ReadStatus::kReset) << ToString(s);
  EXPECT_EQ(conn->buffer(), "") << "a second response: " << Printable(conn->buffer());
  ExpectOriginNeverSaw("/smuggled");
}

TEST_F(MessageFlowTest, Case12_GetAndHeadBodiesAreConsumedExactly) {
  const std::string inner = Get("/smuggled");
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send("GET /a HTTP/1.1\r\nHost: shop.test\r\nContent-Length: " +
                         std::to_string(inner.size()) + "\r\n\r\n" + inner + Get("/b")));
  HttpMessage ra = ReadResponse(*conn);
  ASSERT_TRUE(ra.ok) << ra.error;
  EXPECT_EQ(ra.body, "ok:/a");
  HttpMessage rb = ReadResponse(*conn);
  ASSERT_TRUE(rb.ok) << rb.error;
  EXPECT_EQ(rb.body, "ok:/b");

  ASSERT_TRUE(conn->Send("HEAD /h HTTP/1.1\r\nHost: shop.test\r\nContent-Length: " +
                         std::to_string(inner.size()) + "\r\n\r\n" + inner + Get("/c")));
  ReadOptions head;
  head.head_request = true;
  HttpMessage rh = ReadResponse(*conn, head);
  ASSERT_TRUE(rh.ok) << rh.error;
  EXPECT_EQ(rh.status, 200);
  HttpMessage rc = ReadResponse(*conn);
  ASSERT_TRUE(rc.ok) << rc.error;
  EXPECT_EQ(rc.body, "ok:/c");
  EXPECT_EQ(conn->ReadMore(milliseconds(300)), ReadStatus::kTimeout)
      << "an extra response: " << Printable(conn->buffer());
  std::vector<std::string> expected = {"GET /a", "GET /b", "HEAD /h", "GET /c"};
  EXPECT_EQ(origin_->requests(), expected) << "the body became a request";
}

TEST_F(MessageFlowTest, Case13_ContinueOnlyWhenTheBodyWillBeRead) {
  // Forwarded request: 100 first, then the final response.
  {
    auto conn = Connect();
    ASSERT_TRUE(conn);
    conn->Send(
        "POST /up HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 4\r\n"
        "Expect: 100-continue\r\n\r\n");
    ASSERT_TRUE(conn->ReadUntilContains("\r\n\r\n", milliseconds(5000)))
        << "no interim response: " << Printable(conn->buffer());
    EXPECT_EQ(conn->buffer().rfind("HTTP/1.1 100 ", 0), 0u) << Printable(conn->buffer());
    conn->Send("data");
    HttpMessage r = ReadResponse(*conn);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.body, "ok:/up");
  }
  // Answered early by the proxy (built-in route, body too large): the final
  // response without a 100, then close.
  for (const std::string& head :
       {std::string("POST /.tidegate/nope HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 10\r\n"
                    "Expect: 100-continue\r\n\r\n"),
        std::string("POST /big HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5000000\r\n"
                    "Expect: 100-continue\r\n\r\n")}) {
    SCOPED_TRACE(Printable(head));
    auto conn = Connect();
    ASSERT_TRUE(conn);
    conn->Send(head);
    HttpMessage r = ReadResponse(*conn, KeepInterim());
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_GE(r.status, 400) << "got " << Printable(r.raw);
    ReadStatus s = conn->ReadUntilClose(milliseconds(5000));
    EXPECT_TRUE(s == ReadStatus::kClosed || s == ReadStatus::kReset) << ToString(s);
  }
  std::vector<std::string> expected = {"POST /up"};
  EXPECT_EQ(origin_->requests(), expected);
}

TEST_F(MessageFlowTest, Case14_HopByHopHeadersRemoved) {
  HttpMessage r = RoundTrip(
      "GET /hop HTTP/1.1\r\nHost: shop.test\r\n"
      "Connection: Upgrade, HTTP2-Settings, X-Private\r\n"
      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n"
      "X-Private: secret-hop\r\nKeep-Alive: timeout=99\r\nProxy-Connection: keep-alive\r\n"
      "TE: trailers\r\nTrailer: X-T\r\nProxy-Authorization: Basic cHJveHk6cHc=\r\n"
      "X-Kept: end-to-end\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200) << "Upgrade must be stripped, not refused: " << Printable(r.raw);
  std::string got = origin_->Received(0);
  SCOPED_TRACE("origin received: \"" + Printable(got) + "\"");
  for (const char* name :
       {"Upgrade", "h2c", "HTTP2-Settings", "X-Private", "secret-hop", "Keep-Alive",
        "Proxy-Connection", "TE:", "Trailer:", "Proxy-Authorization", "cHJveHk6cHc="}) {
    EXPECT_EQ(got.find(name), std::string::npos) << name;
  }
  EXPECT_NE(got.find("X-Kept: end-to-end\r\n"), std::string::npos);
  // Nor does the proxy switch protocols.
  EXPECT_NE(r.status, 101);
}

}  // namespace
}  // namespace tidegate::itest
