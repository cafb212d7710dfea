// Reliability cases 7–10: trailers, header syntax, request targets, Host.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

class RequestHeadersTest : public ProxyTest {
 protected:
  void SetUp() override {
    StartWithOrigin(ServeOkForever());
    ASSERT_TRUE(Started());
  }
};

TEST_F(RequestHeadersTest, Case07_DangerousTrailersAreDropped) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(
      conn->Send("POST /t HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5\r\nhello\r\n0\r\n"
                 "Content-Length: 100\r\nHost: evil.example\r\nTransfer-Encoding: chunked\r\n"
                 "Authorization: Bearer trailer-secret\r\n\r\n"));
  HttpMessage r = ReadResponse(*conn);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok:/t");
  // The connection must still be in sync: the next request works.
  ASSERT_TRUE(conn->Send(Get("/next")));
  HttpMessage next = ReadResponse(*conn);
  ASSERT_TRUE(next.ok) << next.error;
  EXPECT_EQ(next.body, "ok:/next");
  std::string got = origin_->AllReceived();
  SCOPED_TRACE("origin received: \"" + Printable(got) + "\"");
  EXPECT_EQ(got.find("evil.example"), std::string::npos);
  EXPECT_EQ(got.find("trailer-secret"), std::string::npos);
  EXPECT_EQ(got.find("Content-Length: 100"), std::string::npos);
  std::vector<std::string> expected = {"POST /t", "GET /next"};
  EXPECT_EQ(origin_->requests(), expected);
}

TEST_F(RequestHeadersTest, Case08_BadHeaderSyntax) {
  for (const std::string& bytes : std::vector<std::string>{
           "GET / HTTP/1.1\r\nHost: shop.test\r\nBad[Name]: x\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: shop.test\r\nBad Name: x\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: shop.test\r\nBad\"Name: x\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: shop.test\r\n: no-name\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: shop.test\r\nNoColon\r\n\r\n",
           std::string("GET / HTTP/1.1\r\nHost: shop.test\r\nX-Nul: a\0b\r\n\r\n", 47),
           "GET / HTTP/1.1\r\nHost: shop.test\r\nX-Cr: a\rb\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: shop.test\r\nX-Lf: a\nb: c\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: shop.test\r\nX-Ctl: a\x01z\r\n\r\n",
           "GET / HTTP/1.1\r\n Host: shop.test\r\n\r\n",  // whitespace before the first header
           "GET / HTTP/1.1\r\n\tHost: shop.test\r\n\r\n",
       }) {
    ExpectRejectedAndClosed(bytes);
  }
  EXPECT_EQ(origin_->requests_seen(), 0);
}

TEST_F(RequestHeadersTest, Case09_BadRequestTargets) {
  ExpectRejectedAndClosed("GET admin HTTP/1.1\r\nHost: shop.test\r\n\r\n");
  ExpectRejectedAndClosed("GET * HTTP/1.1\r\nHost: shop.test\r\n\r\n");
  ExpectRejectedAndClosed("CONNECT shop.test:443 HTTP/1.1\r\nHost: shop.test:443\r\n\r\n",
                          {400, 405});
  EXPECT_EQ(origin_->requests_seen(), 0);

  // Absolute-form with a different Host: rejected, or normalised so the
  // origin sees one consistent authority (never Host: shop.test + another).
  auto conn = Connect();
  ASSERT_TRUE(conn);
  conn->Send("GET http://other.example/admin HTTP/1.1\r\nHost: shop.test\r\n\r\n");
  HttpMessage r = ReadResponse(*conn);
  ASSERT_TRUE(r.ok) << r.error;
  if (r.status != 400) {
    std::string got = origin_->AllReceived();
    EXPECT_NE(got.find("GET /admin HTTP/1.1\r\n"), std::string::npos)
        << "not normalised to origin-form: " << Printable(got);
    EXPECT_EQ(got.find("Host: shop.test"), std::string::npos) << Printable(got);
  }
}

TEST_F(RequestHeadersTest, Case09_AbsoluteFormWithSameHostIsNormalised) {
  HttpMessage r = RoundTrip("GET http://shop.test/p?q=1 HTTP/1.1\r\nHost: shop.test\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok:/p?q=1") << "the origin got a target that is not origin-form";
}

TEST_F(RequestHeadersTest, Case10_HostRequiredUniqueAndWithoutUserinfo) {
  ExpectRejectedAndClosed("GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n");
  ExpectRejectedAndClosed("GET / HTTP/1.1\r\nHost: shop.test\r\nHost: evil.example\r\n\r\n");
  ExpectRejectedAndClosed("GET / HTTP/1.1\r\nHost: shop.test\r\nHost: shop.test\r\n\r\n");
  ExpectRejectedAndClosed("GET / HTTP/1.1\r\nHost: user@shop.test\r\n\r\n");
  ExpectRejectedAndClosed("GET / HTTP/1.1\r\nHost: user:pw@shop.test\r\n\r\n");
  EXPECT_EQ(origin_->requests_seen(), 0);
}

// Issue 14: `Connection` cannot strip what a TLS terminator in front added
// (X-Forwarded-For) or the shopper's Cookie before the origin sees them; the
// demo shop's /echo shows what the origin received.
class RequestHeadersDemoShopTest : public ProxyTest {};

TEST_F(RequestHeadersDemoShopTest, ConnectionCannotStripForwardedForOrCookie) {
  StartWithDemoShop();
  ASSERT_TRUE(Started());
  HttpMessage r = RoundTrip(
      "GET /echo HTTP/1.1\r\nHost: shop.test\r\nX-Forwarded-For: 203.0.113.7\r\n"
      "Cookie: session=abc\r\nConnection: X-Forwarded-For, Cookie, X-Hop\r\n"
      "X-Hop: dropped\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.status, 200) << Printable(r.raw);
  SCOPED_TRACE("echo: " + Printable(r.body));
  EXPECT_NE(r.body.find("X-Forwarded-For: 203.0.113.7, 127.0.0.1\r\n"), std::string::npos);
  EXPECT_NE(r.body.find("Cookie: session=abc\r\n"), std::string::npos);
  EXPECT_EQ(r.body.find("X-Hop"), std::string::npos);
  EXPECT_EQ(r.body.find("Connection:"), std::string::npos);
}

// Audit 11: an HTTP/1.0 request without Host went to the origin as HTTP/1.1
// without Host (nginx as an origin answers 400). It gets the origin's
// address, as nginx sends its upstream's.
TEST_F(RequestHeadersDemoShopTest, AnHttp10RequestWithoutHostReachesTheOriginWithOne) {
  StartWithDemoShop();
  ASSERT_TRUE(Started());
  HttpMessage r = RoundTrip("GET /echo HTTP/1.0\r\nUser-Agent: monitor\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.status, 200) << Printable(r.raw);
  EXPECT_NE(r.body.find("Host: 127.0.0.1:" + std::to_string(shop_->port()) + "\r\n"),
            std::string::npos)
      << Printable(r.body);
}

// RFC 9110 §7.6.2: an intermediary decrements Max-Forwards on OPTIONS, and
// answers itself when it is 0 (a TRACE, always); other methods keep it as
// sent. More cases in proxy_methods_test.cc.
TEST_F(RequestHeadersDemoShopTest, MaxForwardsIsDecrementedAndZeroIsAnsweredHere) {
  StartWithDemoShop();
  ASSERT_TRUE(Started());
  HttpMessage r = RoundTrip("OPTIONS /echo HTTP/1.1\r\nHost: shop.test\r\nMax-Forwards: 3\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.status, 200) << Printable(r.raw);
  EXPECT_NE(r.body.find("OPTIONS /echo"), std::string::npos) << Printable(r.body);
  EXPECT_NE(r.body.find("Max-Forwards: 2\r\n"), std::string::npos) << Printable(r.body);

  r = RoundTrip("GET /echo HTTP/1.1\r\nHost: shop.test\r\nMax-Forwards: 0\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NE(r.body.find("Max-Forwards: 0\r\n"), std::string::npos) << "GET is not concerned";

  r = RoundTrip("OPTIONS /echo HTTP/1.1\r\nHost: shop.test\r\nMax-Forwards: 0\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200) << Printable(r.raw);
  EXPECT_TRUE(r.Header("Allow").has_value()) << Printable(r.raw);
  EXPECT_EQ(r.body, "") << "forwarded to the origin";

  r = RoundTrip(
      "TRACE /echo HTTP/1.1\r\nHost: shop.test\r\nCookie: session=abc\r\n"
      "Max-Forwards: 0\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 405) << Printable(r.raw);
  EXPECT_EQ(r.body.find("session=abc"), std::string::npos) << "TRACE reflected the cookie";

  // Not one decimal number: refused, not forwarded (audit 19 F5).
  r = RoundTrip("OPTIONS /echo HTTP/1.1\r\nHost: shop.test\r\nMax-Forwards: 1x\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 400) << Printable(r.raw);
  EXPECT_EQ(r.body.find("OPTIONS /echo"), std::string::npos) << Printable(r.body);
}

// [server].trusted_headers: a field the trusted front adds joins the
// protected list; `Connection: X-My-Trusted` does not remove it.
TEST_F(RequestHeadersDemoShopTest, ConnectionCannotStripTrustedHeaders) {
  StartWithDemoShop({{"trusted_headers", R"(["X-My-Trusted"])"}});
  ASSERT_TRUE(Started());
  HttpMessage r = RoundTrip(
      "GET /echo HTTP/1.1\r\nHost: shop.test\r\nX-My-Trusted: front-7\r\n"
      "X-Not-Trusted: gone\r\nConnection: x-my-trusted, X-Not-Trusted\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.status, 200) << Printable(r.raw);
  SCOPED_TRACE("echo: " + Printable(r.body));
  EXPECT_NE(r.body.find("X-My-Trusted: front-7\r\n"), std::string::npos);
  EXPECT_EQ(r.body.find("X-Not-Trusted"), std::string::npos);
}

}  // namespace
}  // namespace tidegate::itest
