// The banner's default `compressed = "compress"` through the real tidegate:
// for a client that accepts gzip, the origin is asked for identity and
// tidegate gzips (the bannered page and every other compressible response
// to such a request); clients that do not accept gzip, HTTP/1.0 clients and
// origins that compress anyway. Scripted origins record what they were
// asked; the demo shop serves realistic pages (gzip when asked).
#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "tests/integration/banner_fixture.h"

namespace tidegate::itest {
namespace {

using namespace banner_fixture;  // NOLINT: the fixture and its helpers

// An HTML page of about `size` bytes with its <body> tag early.
std::string Page(size_t size) {
  std::string page = "<!DOCTYPE html><html><head><title>t</title></head><body class=\"x\">\n";
  const std::string line = "<p>The tide waits for no one; neither does a shopper.</p>\n";
  while (page.size() + line.size() < size) page += line;
  return page + "</body></html>\n";
}

// `data` in the zlib wrapper (Content-Encoding: deflate).
std::string Deflate(const std::string& data) {
  uLongf size = compressBound(data.size());
  std::string out(size, '\0');
  compress2(reinterpret_cast<Bytef*>(out.data()), &size,
            reinterpret_cast<const Bytef*>(data.data()), data.size(), 6);
  out.resize(size);
  return out;
}

// Answers every request on the connection with `head_fields` (complete
// lines) and `body`, keep-alive; `chunked` frames it in two chunks.
ScriptedOrigin::Script Serve(std::string head_fields, std::string body, bool chunked = false) {
  return [head_fields, body, chunked](OriginConnection& conn) {
    while (conn.ReadRequest().ok) {
      if (chunked) {
        size_t half = body.size() / 2;
        conn.Send("HTTP/1.1 200 OK\r\n" + head_fields + "Transfer-Encoding: chunked\r\n\r\n" +
                  Hex(half) + "\r\n" + body.substr(0, half) + "\r\n" + Hex(body.size() - half) +
                  "\r\n" + body.substr(half) + "\r\n0\r\n\r\n");
      } else {
        conn.Send("HTTP/1.1 200 OK\r\n" + head_fields +
                  "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
      }
    }
  };
}

constexpr char kHtml[] = "Content-Type: text/html; charset=utf-8\r\n";
constexpr char kBrowser[] = "Accept: text/html,*/*;q=0.8\r\nAccept-Encoding: gzip, deflate, br\r\n";

class BannerCompressTest : public BannerTest {
 protected:
  // What the origin was asked for, on its first connection.
  std::string AskedEncoding() const {
    std::string received = origin_->Received(0);
    size_t at = received.find("Accept-Encoding: ");
    if (at == std::string::npos) return "(none)";
    at += 17;
    return received.substr(at, received.find("\r\n", at) - at);
  }
  // The decoded body of a gzip response, checked complete.
  static std::string Gunzip(const HttpMessage& r) {
    bool complete = false;
    std::string decoded = Inflate(r.body, &complete);
    EXPECT_TRUE(complete) << "the gzip stream does not end";
    return decoded;
  }
};

TEST_F(BannerCompressTest, OriginIsAskedForIdentityAndThePageIsGzippedWithItsLength) {
  const std::string page = Page(24 * 1024);
  StartWithOrigin(Serve(std::string(kHtml) + "ETag: \"v1\"\r\nVary: Cookie\r\n", page), kOn);
  ASSERT_TRUE(Started());
  HttpMessage r = Send(tidegate_->port(), Request("/", kBrowser));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(AskedEncoding(), "identity");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
  // Held whole (24 KB): an exact Content-Length, no chunks.
  EXPECT_FALSE(r.chunked);
  EXPECT_EQ(r.Header("Content-Length"), std::to_string(r.body.size()));
  EXPECT_LT(r.body.size(), page.size() / 4);
  EXPECT_EQ(r.Header("ETag"), "W/\"v1\"");
  EXPECT_EQ(r.Header("Vary"), "Cookie, Accept-Encoding, Accept-Language");
  std::string decoded = Gunzip(r);
  EXPECT_EQ(Count(decoded, kMarker), 1u);
  EXPECT_EQ(WithoutBanner(decoded), page);
}

TEST_F(BannerCompressTest, KeepAliveConnectionGetsTheSamePageTwice) {
  // The worker's deflate state is reset between pages: the second page
  // decodes exactly like the first.
  const std::string page = Page(30000);
  StartWithOrigin(Serve(kHtml, page), kOn);
  ASSERT_TRUE(Started());
  auto conn = ConnectOrFail(tidegate_->port());
  ASSERT_TRUE(conn);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(
        conn->Send("GET /p HTTP/1.1\r\nHost: shop.test\r\n" + std::string(kBrowser) + "\r\n"));
    HttpMessage r = ReadResponse(*conn);
    ASSERT_TRUE(r.ok) << i << ": " << r.error;
    EXPECT_EQ(r.Header("Content-Encoding"), "gzip") << i;
    EXPECT_EQ(WithoutBanner(Gunzip(r)), page) << i;
  }
}

TEST_F(BannerCompressTest, ChunkedOriginPageStreamsWithoutWaitingForItsEnd) {
  // A page of unknown length may be flushed early by the origin (or be a
  // feed): its first gzip bytes reach the client before the origin sends
  // the rest. The origin holds the rest back until the test saw them
  // (bounded wait), so a proxy that holds the page fails this test.
  const std::string page = Page(10000);
  const size_t first = 3000;
  auto seen = std::make_shared<std::atomic<bool>>(false);
  StartWithOrigin(
      [page, first, seen](OriginConnection& conn) {
        if (!conn.ReadRequest().ok) return;
        conn.Send("HTTP/1.1 200 OK\r\n" + std::string(kHtml) +
                  "Transfer-Encoding: chunked\r\n\r\n" + Hex(first) + "\r\n" +
                  page.substr(0, first) + "\r\n");
        for (int i = 0; i < 500 && !seen->load() && !conn.stopping(); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        conn.Send(Hex(page.size() - first) + "\r\n" + page.substr(first) + "\r\n0\r\n\r\n");
        conn.WaitForClose(std::chrono::milliseconds(5000));
      },
      kOn);
  ASSERT_TRUE(Started());
  auto conn = ConnectOrFail(tidegate_->port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send("GET / HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n" +
                         std::string(kBrowser) + "\r\n"));
  bool head = conn->ReadUntilContains("\r\n\r\n", std::chrono::milliseconds(5000));
  size_t head_end = conn->buffer().find("\r\n\r\n") + 4;
  // The head and a first chunk of gzip (header + the flushed first piece).
  bool early = head && conn->ReadAtLeast(head_end + 40, std::chrono::milliseconds(5000));
  seen->store(true);
  EXPECT_TRUE(early) << "nothing before the origin's end: " << Printable(conn->buffer());
  HttpMessage r = ReadResponse(*conn);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
  EXPECT_TRUE(r.chunked);
  std::string decoded = Gunzip(r);
  EXPECT_EQ(Count(decoded, kMarker), 1u);
  EXPECT_EQ(WithoutBanner(decoded), page);
}

TEST_F(BannerCompressTest, LargePageStreamsChunked) {
  const std::string page = Page(400 * 1024);  // past the whole-page bound
  StartWithOrigin(Serve(kHtml, page), kOn);
  ASSERT_TRUE(Started());
  HttpMessage r = Send(tidegate_->port(), Request("/", kBrowser));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
  EXPECT_TRUE(r.chunked);
  EXPECT_FALSE(r.HasHeader("Content-Length"));
  std::string decoded = Gunzip(r);
  EXPECT_EQ(Count(decoded, kMarker), 1u);
  EXPECT_EQ(WithoutBanner(decoded), page);
}

TEST_F(BannerCompressTest, OtherCompressibleResponsesToSuchRequestsArriveCompressed) {
  StartWithShop(kOn);
  ASSERT_TRUE(Started());
  // An API client's `Accept: */*` asks for identity too (it may want a
  // page): its JSON or script must still arrive compressed (the shop
  // itself gzips when asked: enc=auto).
  const std::string any = "Accept: */*\r\nAccept-Encoding: gzip\r\n";
  for (const char* type : {"application/json", "application/javascript", "image/svg%2Bxml"}) {
    const std::string target = std::string("/banner-test/page?size=6000&enc=auto&type=") + type;
    HttpMessage plain = Direct(target);  // identity
    HttpMessage r = Proxy(target, any);
    ASSERT_TRUE(r.ok) << type << ": " << r.error;
    EXPECT_EQ(r.status, 200) << type;
    EXPECT_EQ(r.Header("Content-Encoding"), "gzip") << type;
    EXPECT_EQ(Gunzip(r), plain.body) << type;
    EXPECT_NE(r.Header("Vary").value_or("").find("Accept-Encoding"), std::string::npos) << type;
  }
  // A 404 page (no banner: status) is compressed as well.
  HttpMessage missing = Proxy("/banner-test/page?size=3000&enc=auto&status=404", kBrowser);
  ASSERT_TRUE(missing.ok) << missing.error;
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(Count(Gunzip(missing), kMarker), 0u);
  // Not compressible: passes as the origin sent it.
  const std::string png = "/banner-test/page?size=3000&type=image/png";
  HttpMessage image = Proxy(png, any);
  ASSERT_TRUE(image.ok) << image.error;
  EXPECT_FALSE(image.HasHeader("Content-Encoding"));
  EXPECT_EQ(image.Header("Content-Length"), Direct(png).Header("Content-Length"));
  EXPECT_EQ(image.body, Direct(png).body);
  // HEAD, 204 and 304: untouched heads, no body.
  HttpMessage head = Proxy("/banner-test/page?etag=1", kBrowser, "HEAD");
  ASSERT_TRUE(head.ok) << head.error;
  EXPECT_FALSE(head.HasHeader("Content-Encoding"));
  EXPECT_EQ(head.Header("ETag"), "\"v1\"");
  EXPECT_EQ(head.Header("Content-Length"),
            Direct("/banner-test/page?etag=1", "", "HEAD").Header("Content-Length"));
  for (const char* page : {"/banner-test/page?status=204", "/banner-test/page?status=304&etag=1"}) {
    HttpMessage r = Proxy(page, kBrowser);
    ASSERT_TRUE(r.ok) << page << ": " << r.error;
    EXPECT_FALSE(r.HasHeader("Content-Encoding")) << page;
    EXPECT_TRUE(r.body.empty()) << page;
  }
}

TEST_F(BannerCompressTest, ClientWithoutGzipKeepsItsAcceptEncoding) {
  // Only deflate: the origin is asked as the client asked and its deflate
  // page is recoded.
  const std::string page = Page(5000);
  StartWithOrigin(Serve(std::string(kHtml) + "Content-Encoding: deflate\r\n", Deflate(page)), kOn);
  ASSERT_TRUE(Started());
  HttpMessage r =
      Send(tidegate_->port(), Request("/", "Accept: text/html\r\nAccept-Encoding: deflate\r\n"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(AskedEncoding(), "deflate");
  EXPECT_EQ(r.Header("Content-Encoding"), "deflate");
  EXPECT_EQ(WithoutBanner(Gunzip(r)), page);
}

TEST_F(BannerCompressTest, GzipWithQualityZeroIsNotGzip) {
  const std::string page = Page(5000);
  StartWithOrigin(Serve(kHtml, page), kOn);
  ASSERT_TRUE(Started());
  HttpMessage r =
      Send(tidegate_->port(), Request("/", "Accept: text/html\r\nAccept-Encoding: gzip;q=0\r\n"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(AskedEncoding(), "gzip;q=0");
  EXPECT_FALSE(r.HasHeader("Content-Encoding"));
  EXPECT_EQ(r.Header("Content-Length"), std::to_string(r.body.size()));
  EXPECT_EQ(Count(r.body, kMarker), 1u);
  EXPECT_EQ(WithoutBanner(r.body), page);
}

TEST_F(BannerCompressTest, OriginThatCompressesAnywayIsRecoded) {
  const std::string page = Page(20000);
  StartWithOrigin(Serve(std::string(kHtml) + "Content-Encoding: gzip\r\n", Gzip(page)), kOn);
  ASSERT_TRUE(Started());
  HttpMessage r = Send(tidegate_->port(), Request("/", kBrowser));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(AskedEncoding(), "identity");
  EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(r.HeaderCount("Content-Encoding"), 1);
  std::string decoded = Gunzip(r);
  EXPECT_EQ(Count(decoded, kMarker), 1u);
  EXPECT_EQ(WithoutBanner(decoded), page);
}

TEST_F(BannerCompressTest, Http10Clients) {
  StartWithShop(kOn);
  ASSERT_TRUE(Started());
  const std::string gzip = "Accept-Encoding: gzip\r\n";
  // A page held whole: gzip with its Content-Length (no close-delimiting).
  HttpMessage small = Proxy("/banner-test/page?size=6000&enc=auto", gzip, "GET", 0);
  ASSERT_TRUE(small.ok) << small.error;
  EXPECT_EQ(small.Header("Content-Encoding"), "gzip");
  EXPECT_FALSE(small.ended_by_close);
  EXPECT_EQ(small.Header("Content-Length"), std::to_string(small.body.size()));
  EXPECT_EQ(WithoutBanner(Gunzip(small)), Direct("/banner-test/page?size=6000").body);
  // A Content-Length page too large to hold: identity with the banner and a
  // Content-Length that counts it (gzip would be close-delimited).
  HttpMessage large = Proxy("/banner-test/page?size=300000&enc=auto", gzip, "GET", 0);
  ASSERT_TRUE(large.ok) << large.error;
  EXPECT_FALSE(large.HasHeader("Content-Encoding"));
  EXPECT_FALSE(large.ended_by_close);
  EXPECT_EQ(large.Header("Content-Length"), std::to_string(large.body.size()));
  EXPECT_EQ(WithoutBanner(large.body), Direct("/banner-test/page?size=300000").body);
}

TEST_F(BannerCompressTest, OriginFailingMidStreamLeavesAnUnfinishedGzip) {
  const std::string page = Page(400 * 1024);
  StartWithOrigin(
      [page](OriginConnection& conn) {
        if (!conn.ReadRequest().ok) return;
        conn.Send("HTTP/1.1 200 OK\r\n" + std::string(kHtml) + "Content-Length: " +
                  std::to_string(page.size()) + "\r\n\r\n" + page.substr(0, page.size() / 2));
        conn.Close();
      },
      kOn);
  ASSERT_TRUE(Started());
  auto conn = ConnectOrFail(tidegate_->port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(
      conn->Send("GET /t HTTP/1.1\r\nHost: shop.test\r\n" + std::string(kBrowser) + "\r\n"));
  HttpMessage r = ReadResponse(*conn);
  if (r.ok) {
    EXPECT_EQ(r.status, 502) << "a truncated page was completed";
  } else {
    EXPECT_TRUE(conn->peer_closed()) << r.error;
    EXPECT_EQ(conn->buffer().find("\r\n0\r\n\r\n"), std::string::npos)
        << "a last-chunk was appended";
  }
}

TEST_F(BannerCompressTest, OriginFailingWhileThePageIsHeldGets502) {
  const std::string page = Page(20000);
  StartWithOrigin(
      [page](OriginConnection& conn) {
        if (!conn.ReadRequest().ok) return;
        conn.Send("HTTP/1.1 200 OK\r\n" + std::string(kHtml) + "Content-Length: " +
                  std::to_string(page.size()) + "\r\n\r\n" + page.substr(0, page.size() / 2));
        conn.Close();
      },
      kOn);
  ASSERT_TRUE(Started());
  HttpMessage r = Send(tidegate_->port(), Request("/t", kBrowser));
  // Held whole for gzip: nothing was sent when the origin failed.
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 502) << Printable(r.raw);
  EXPECT_NE(r.Header("Content-Encoding"), "gzip");
}

TEST_F(BannerCompressTest, PathOutsideBannerMatchKeepsItsAcceptEncoding) {
  const std::string page = Page(5000);
  StartWithOrigin(Serve(std::string(kHtml) + "Content-Encoding: gzip\r\n", Gzip(page)),
                  std::string(kOn) + "match = [\"^/sale\"]\n");
  ASSERT_TRUE(Started());
  HttpMessage r = Send(tidegate_->port(), Request("/other", kBrowser));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(AskedEncoding(), "gzip, deflate, br");
  EXPECT_EQ(r.body, Gzip(page));  // untouched
}

TEST_F(BannerCompressTest, RecodeModeStillRecodesTheOriginsGzip) {
  // `compressed = "recode"` (the former default): the client's
  // Accept-Encoding goes to the origin and its gzip is recoded.
  const std::string page = Page(20000);
  StartWithOrigin(Serve(std::string(kHtml) + "Content-Encoding: gzip\r\n", Gzip(page)),
                  std::string(kOn) + "compressed = \"recode\"\n");
  ASSERT_TRUE(Started());
  HttpMessage r = Send(tidegate_->port(), Request("/", kBrowser));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(AskedEncoding(), "gzip, deflate, br");
  EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(WithoutBanner(Gunzip(r)), page);
}

}  // namespace
}  // namespace tidegate::itest
