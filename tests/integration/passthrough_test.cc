// Plain pass-through: requests reach the origin unchanged apart from the
// documented forwarding headers, responses come back unchanged; keep-alive
// both sides, HEAD/204/304, chunked both ways, large bodies, 100-continue,
// HTTP/1.0 clients, the built-in health route.
#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

uint32_t Crc(const std::string& data) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

std::string Pattern(size_t n) {
  std::string out(n, '\0');
  uint32_t x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245 + 12345;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

// Origin that answers each request with "<len> <crc32>" of the body it got.
ScriptedOrigin::Script ChecksumOrigin() {
  return [](OriginConnection& conn) {
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest(milliseconds(30000));
      if (!req.ok) return;
      std::string body = std::to_string(req.body.size()) + " " + std::to_string(Crc(req.body));
      if (!conn.Send(ResponseBytes(200, body))) return;
    }
  };
}

class PassThroughTest : public ProxyTest {};

TEST_F(PassThroughTest, RequestReachesOriginWithForwardingHeadersOnly) {
  StartWithOrigin(ServeOkForever());
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(
      conn->Send("GET /products/7?color=blue&x=%41 HTTP/1.1\r\n"
                 "Host: shop.test\r\n"
                 "User-Agent: itest/1.0\r\n"
                 "Accept: text/html\r\n"
                 "Cookie: a=1; b=2\r\n"
                 "X-Custom: Value  with  spaces\r\n"
                 "X-Forwarded-For: 10.1.2.3\r\n"
                 "Connection: keep-alive, X-Hop-Secret\r\n"
                 "X-Hop-Secret: do-not-forward\r\n"
                 "Keep-Alive: timeout=5\r\n"
                 "Proxy-Connection: keep-alive\r\n"
                 "TE: trailers\r\n"
                 "X-Original-URL: /checkout\r\n"
                 "X-Rewrite-URL: /checkout\r\n"
                 "\r\n"));
  HttpMessage r = ReadResponse(*conn);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok:/products/7?color=blue&x=%41");
  ASSERT_EQ(origin_->requests_seen(), 1);
  // Read the origin's bytes through the parser to check each field.
  std::string got = origin_->Received(0);
  SCOPED_TRACE("origin received: \"" + Printable(got) + "\"");
  EXPECT_EQ(got.rfind("GET /products/7?color=blue&x=%41 HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(got.find("\r\nHost: shop.test\r\n"), std::string::npos);
  EXPECT_NE(got.find("\r\nUser-Agent: itest/1.0\r\n"), std::string::npos);
  EXPECT_NE(got.find("\r\nAccept: text/html\r\n"), std::string::npos);
  EXPECT_NE(got.find("\r\nCookie: a=1; b=2\r\n"), std::string::npos);
  EXPECT_NE(got.find("\r\nX-Custom: Value  with  spaces\r\n"), std::string::npos);
  // X-Forwarded-For appended (one field or two, both are RFC-correct).
  bool xff_appended = got.find("X-Forwarded-For: 10.1.2.3, 127.0.0.1\r\n") != std::string::npos ||
                      (got.find("X-Forwarded-For: 10.1.2.3\r\n") != std::string::npos &&
                       got.find("X-Forwarded-For: 127.0.0.1\r\n") != std::string::npos);
  EXPECT_TRUE(xff_appended);
  EXPECT_NE(got.find("X-Forwarded-Proto: http\r\n"), std::string::npos);
  // Fields some origins route on instead of the target (audit 15).
  EXPECT_EQ(got.find("X-Original-URL"), std::string::npos);
  EXPECT_EQ(got.find("X-Rewrite-URL"), std::string::npos);
  EXPECT_NE(got.find("Via: 1.1 tidegate"), std::string::npos);
  for (const char* hop :
       {"X-Hop-Secret", "Keep-Alive:", "Proxy-Connection", "TE:", "do-not-forward"}) {
    EXPECT_EQ(got.find(hop), std::string::npos) << hop << " was forwarded";
  }
}

TEST_F(PassThroughTest, ResponseComesBackUnchanged) {
  const std::string body = "<html><body>hello</body></html>";
  StartWithOrigin([&](OriginConnection& conn) {
    while (conn.ReadRequest().ok) {
      conn.Send(ResponseBytes(200, body,
                              "Content-Type: text/html; charset=utf-8\r\n"
                              "Set-Cookie: a=1; Path=/\r\n"
                              "Set-Cookie: b=2; Path=/\r\n"
                              "ETag: \"abc\"\r\n"
                              "X-Origin: yes\r\n"));
    }
  });
  ASSERT_TRUE(Started());
  HttpMessage r = RoundTrip(Get("/page"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(r.HeaderCount("Set-Cookie"), 2);
  EXPECT_EQ(r.Header("ETag"), "\"abc\"");
  EXPECT_EQ(r.Header("X-Origin"), "yes");
  EXPECT_EQ(r.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.Header("Content-Length"), std::to_string(body.size()));
}

TEST_F(PassThroughTest, DemoShopEchoShowsForwardedRequest) {
  StartWithDemoShop();
  ASSERT_TRUE(Started());
  HttpMessage r = RoundTrip(
      "POST /echo?q=1 HTTP/1.1\r\nHost: shop.test\r\nContent-Type: text/plain\r\n"
      "Content-Length: 11\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
      "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\nhello world");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.status, 200) << Printable(r.raw);
  SCOPED_TRACE("echo: " + Printable(r.body));
  EXPECT_EQ(r.body.rfind("POST /echo?q=1 HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(r.body.find("Host: shop.test\r\n"), std::string::npos);
  EXPECT_NE(r.body.find("X-Forwarded-For: 127.0.0.1\r\n"), std::string::npos);
  EXPECT_NE(r.body.find("Via: 1.1 tidegate"), std::string::npos);
  EXPECT_EQ(r.body.find("Upgrade"), std::string::npos);
  EXPECT_EQ(r.body.find("HTTP2-Settings"), std::string::npos);
  EXPECT_NE(r.body.find("\r\n\r\nhello world"), std::string::npos);
}

TEST_F(PassThroughTest, KeepAliveReusesClientAndOriginConnections) {
  StartWithOrigin(ServeOkForever());
  ASSERT_TRUE(Started());
  for (int round = 0; round < 2; ++round) {
    auto conn = Connect();
    ASSERT_TRUE(conn);
    for (int i = 0; i < 3; ++i) {
      std::string path = "/r" + std::to_string(round) + "/" + std::to_string(i);
      ASSERT_TRUE(conn->Send(Get(path)));
      HttpMessage r = ReadResponse(*conn);
      ASSERT_TRUE(r.ok) << path << ": " << r.error;
      EXPECT_EQ(r.body, "ok:" + path);
      EXPECT_TRUE(r.keep_alive);
    }
  }
  EXPECT_EQ(origin_->requests_seen(), 6);
  EXPECT_EQ(origin_->accepted(), 1) << "the origin connection was not pooled and reused";
}

TEST_F(PassThroughTest, HeadResponseHasNoBodyAndConnectionStaysUsable) {
  StartWithDemoShop();
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send("HEAD /bytes?n=1000 HTTP/1.1\r\nHost: shop.test\r\n\r\n"));
  ReadOptions head;
  head.head_request = true;
  HttpMessage r = ReadResponse(*conn, head);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Length"), "1000");
  // If a body had been sent after the HEAD response, it would be parsed as
  // the next response and fail.
  ASSERT_TRUE(conn->Send(Get("/bytes?n=10")));
  HttpMessage next = ReadResponse(*conn);
  ASSERT_TRUE(next.ok) << next.error;
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body.size(), 10u);
}

TEST_F(PassThroughTest, NoBodyStatuses204And304) {
  StartWithOrigin([](OriginConnection& conn) {
    for (;;) {
      HttpMessage req = conn.ReadRequest();
      if (!req.ok) return;
      if (req.url == "/204") {
        conn.Send("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n");
      } else if (req.url == "/304") {
        conn.Send("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 1234\r\n\r\n");
      } else {
        conn.Send(ResponseBytes(200, "after"));
      }
    }
  });
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/204")));
  HttpMessage r204 = ReadResponse(*conn);
  ASSERT_TRUE(r204.ok) << r204.error;
  EXPECT_EQ(r204.status, 204);
  EXPECT_FALSE(r204.HasHeader("Transfer-Encoding"));
  ASSERT_TRUE(conn->Send(Get("/304", "If-None-Match: \"v1\"\r\n")));
  HttpMessage r304 = ReadResponse(*conn);
  ASSERT_TRUE(r304.ok) << r304.error;
  EXPECT_EQ(r304.status, 304);
  EXPECT_EQ(r304.Header("ETag"), "\"v1\"");
  EXPECT_FALSE(r304.HasHeader("Transfer-Encoding"));
  ASSERT_TRUE(conn->Send(Get("/next")));
  HttpMessage next = ReadResponse(*conn);
  ASSERT_TRUE(next.ok) << next.error;
  EXPECT_EQ(next.body, "after") << "bytes leaked after a 204/304";
}

TEST_F(PassThroughTest, ChunkedResponseFromDemoShop) {
  StartWithDemoShop();
  ASSERT_TRUE(Started());
  HttpMessage direct;
  {
    auto shop_conn = ConnectOrFail(shop_->port());
    ASSERT_TRUE(shop_conn);
    shop_conn->Send(Get("/chunked?n=300000"));
    direct = ReadResponse(*shop_conn);
    ASSERT_TRUE(direct.ok) << direct.error;
  }
  HttpMessage r = RoundTrip(Get("/chunked?n=300000"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.body.size(), 300000u);
  EXPECT_EQ(Crc(r.body), Crc(direct.body));
}

TEST_F(PassThroughTest, ChunkedRequestBodyReachesOrigin) {
  StartWithOrigin(ChecksumOrigin());
  ASSERT_TRUE(Started());
  const std::string body = "hello, chunked world";
  HttpMessage r = RoundTrip(
      "POST /upload HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n2;ext=1\r\n, \r\nd\r\nchunked world\r\n0\r\n\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::to_string(body.size()) + " " + std::to_string(Crc(body)));
}

TEST_F(PassThroughTest, LargeRequestBodiesBothFramings) {
  StartWithOrigin(ChecksumOrigin(), {{"max_body_bytes", "16777216"}});
  ASSERT_TRUE(Started());
  const std::string body = Pattern(4 * 1024 * 1024 + 17);
  const std::string expect = std::to_string(body.size()) + " " + std::to_string(Crc(body));
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send("POST /big HTTP/1.1\r\nHost: shop.test\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n"));
  ASSERT_TRUE(conn->Send(body));
  HttpMessage r = ReadResponse(*conn, Within(milliseconds(30000)));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.body, expect);
  // The same body chunked in 64 KiB pieces on the same connection.
  ASSERT_TRUE(
      conn->Send("POST /big HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\r\n"));
  for (size_t off = 0; off < body.size(); off += 65536) {
    size_t n = std::min<size_t>(65536, body.size() - off);
    char size[32];
    snprintf(size, sizeof(size), "%zx\r\n", n);
    ASSERT_TRUE(conn->Send(std::string(size) + body.substr(off, n) + "\r\n"));
  }
  ASSERT_TRUE(conn->Send("0\r\n\r\n"));
  HttpMessage r2 = ReadResponse(*conn, Within(milliseconds(30000)));
  ASSERT_TRUE(r2.ok) << r2.error;
  EXPECT_EQ(r2.body, expect);
}

TEST_F(PassThroughTest, LargeResponseBodyMatchesOrigin) {
  StartWithDemoShop();
  ASSERT_TRUE(Started());
  const std::string path = "/bytes?n=5000000";
  HttpMessage direct;
  {
    auto shop_conn = ConnectOrFail(shop_->port());
    ASSERT_TRUE(shop_conn);
    shop_conn->Send(Get(path));
    direct = ReadResponse(*shop_conn, Within(milliseconds(30000)));
    ASSERT_TRUE(direct.ok) << direct.error;
  }
  HttpMessage r = RoundTrip(Get(path), Within(milliseconds(30000)));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Length"), "5000000");
  ASSERT_EQ(r.body.size(), 5000000u);
  EXPECT_EQ(Crc(r.body), Crc(direct.body));
}

TEST_F(PassThroughTest, ExpectContinueGetsInterimThenFinal) {
  StartWithOrigin(ChecksumOrigin());
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(
      conn->Send("POST /form HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5\r\nExpect: "
                 "100-continue\r\n\r\n"));
  // A client waits for the 100 before sending the body.
  ASSERT_TRUE(conn->ReadUntilContains("\r\n\r\n", milliseconds(5000)))
      << "no 100 Continue; got \"" << Printable(conn->buffer()) << "\"";
  EXPECT_EQ(conn->buffer().rfind("HTTP/1.1 100", 0), 0u) << Printable(conn->buffer());
  ASSERT_TRUE(conn->Send("hello"));
  HttpMessage r = ReadResponse(*conn);  // skips the interim response
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "5 " + std::to_string(Crc("hello")));
}

// An origin's 103 Early Hints reaches an HTTP/1.1 client as it comes, before
// the final response (RFC 9110 §15.2, RFC 8297), with its Link fields only;
// other interim responses (102) are not forwarded, nor more than four 103s;
// an HTTP/1.0 client gets the final response alone. The origin holds the
// final response until the client has seen the hint (or 5 s): a proxy that
// held the 103 back until the final head fails the first read.
TEST_F(PassThroughTest, EarlyHintsReachTheClientBeforeTheFinalResponse) {
  auto hint_seen = std::make_shared<std::atomic<bool>>(false);
  StartWithOrigin([hint_seen](OriginConnection& conn) {
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest(milliseconds(30000));
      if (!req.ok) return;
      std::string hints;
      int count = req.url == "/many" ? 6 : 1;
      for (int i = 0; i < count; ++i) {
        hints +=
            "HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload; as=style\r\n"
            "Set-Cookie: hint=1\r\nX-Hint-Debug: yes\r\n\r\n";
      }
      if (!conn.Send(hints + "HTTP/1.1 102 Processing\r\n\r\n")) return;
      for (int i = 0; i < 500 && !hint_seen->load() && req.url == "/wait"; ++i) {
        std::this_thread::sleep_for(milliseconds(10));
      }
      if (!conn.Send(ResponseBytes(200, "ok"))) return;
    }
  });
  ASSERT_TRUE(Started());
  {
    auto conn = Connect();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send("GET /wait HTTP/1.1\r\nHost: shop.test\r\n\r\n"));
    HttpMessage hint = ReadResponse(*conn, [] {
      ReadOptions o = KeepInterim();
      o.timeout = milliseconds(3000);  // the origin waits 5 s for it
      return o;
    }());
    ASSERT_TRUE(hint.ok) << hint.error;
    hint_seen->store(true);
    EXPECT_EQ(hint.status, 103) << hint.raw;
    EXPECT_EQ(hint.Header("Link"), "</app.css>; rel=preload; as=style") << hint.raw;
    EXPECT_FALSE(hint.HasHeader("Set-Cookie")) << hint.raw;
    EXPECT_FALSE(hint.HasHeader("X-Hint-Debug")) << hint.raw;
    HttpMessage final_response = ReadResponse(*conn, KeepInterim());
    ASSERT_TRUE(final_response.ok) << final_response.error;
    EXPECT_EQ(final_response.status, 200) << "102 is not forwarded: " << final_response.raw;
    EXPECT_EQ(final_response.body, "ok");
  }
  {
    auto conn = Connect();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send("GET /many HTTP/1.1\r\nHost: shop.test\r\n\r\n"));
    int hints = 0;
    HttpMessage m;
    for (int i = 0; i < 8; ++i) {
      m = ReadResponse(*conn, KeepInterim());
      ASSERT_TRUE(m.ok) << m.error;
      if (m.status != 103) break;
      ++hints;
    }
    EXPECT_EQ(hints, 4);
    EXPECT_EQ(m.status, 200);
    EXPECT_EQ(m.body, "ok");
  }
  {
    auto conn = Connect();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send("GET /old HTTP/1.0\r\nHost: shop.test\r\n\r\n"));
    HttpMessage m = ReadResponse(*conn, KeepInterim());
    ASSERT_TRUE(m.ok) << m.error;
    EXPECT_EQ(m.status, 200) << "no 1xx to an HTTP/1.0 client: " << m.raw;
    EXPECT_EQ(m.body, "ok");
  }
}

TEST_F(PassThroughTest, Http10ClientGetsCloseDelimitedOrSizedBody) {
  StartWithDemoShop();
  ASSERT_TRUE(Started());
  {
    auto conn = Connect();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send("GET /bytes?n=100 HTTP/1.0\r\n\r\n"));
    HttpMessage r = ReadResponse(*conn);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), 100u);
    EXPECT_EQ(conn->ReadUntilClose(milliseconds(5000)), ReadStatus::kClosed)
        << "HTTP/1.0 without keep-alive: the proxy must close";
  }
  {
    auto conn = Connect();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send("GET /chunked?n=5000 HTTP/1.0\r\nHost: shop.test\r\n\r\n"));
    HttpMessage r = ReadResponse(*conn);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.chunked) << "chunked sent to an HTTP/1.0 client";
    EXPECT_EQ(r.body.size(), 5000u);
    EXPECT_EQ(r.http_major * 10 + r.http_minor >= 10, true);
  }
}

TEST_F(PassThroughTest, HealthIsAnsweredByTheProxyEvenWithoutOrigin) {
  // Upstream = a port nobody listens on.
  StartProxy(FreeLoopbackPort());
  ASSERT_TRUE(Started());
  HttpMessage r = RoundTrip(Get("/.tidegate/health"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.Header("Content-Type").value_or("").find("json"), std::string::npos);
  EXPECT_NE(r.body.find("\"status\""), std::string::npos) << r.body;
}

TEST_F(PassThroughTest, HealthAnswersWithATrailingSlashToo) {
  StartProxy(FreeLoopbackPort());
  ASSERT_TRUE(Started());
  for (const char* path : {"/.tidegate/health/", "/.TideGate/Health/"}) {
    SCOPED_TRACE(path);
    HttpMessage r = RoundTrip(Get(path));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("\"status\""), std::string::npos) << r.body;
  }
}

TEST_F(PassThroughTest, BuiltinPathsAreNeverForwarded) {
  StartWithOrigin(ServeOkForever());
  ASSERT_TRUE(Started());
  for (const char* path : {"/.tidegate/health", "/.tidegate/nope", "//.tidegate/health",
                           "/%2etidegate/health", "/x/../.tidegate/health"}) {
    SCOPED_TRACE(path);
    HttpMessage r = RoundTrip(Get(path));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_NE(r.body.rfind("ok:", 0), 0u) << "forwarded to the origin";
  }
  EXPECT_EQ(origin_->requests_seen(), 0) << "origin saw built-in paths";
}

}  // namespace
}  // namespace tidegate::itest
