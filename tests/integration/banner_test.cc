// Banner injection through the real tidegate (cases 15–22 of
// ../shared/spec/reliability-cases.md): the demo shop's /banner-test/page
// (demo/test_pages.h) and scripted origins for exact framings; the banner
// set from [banner] and at run time through the admin API.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "tests/integration/banner_fixture.h"
#include "tests/integration/harness/proc_stats.h"

namespace tidegate::itest {
namespace {

using namespace banner_fixture;  // NOLINT: the fixture and its helpers

TEST_F(BannerTest, Case18_ContentLengthPageGetsTheBannerOnceWithFixedFraming) {
  StartWithShop(kOn);
  ASSERT_TRUE(Started());
  const std::string page = "/banner-test/page?size=5000&etag=1";
  HttpMessage origin = Direct(page);
  HttpMessage r = Proxy(page);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  // The length is known once the tag is found: Content-Length, not chunked.
  EXPECT_FALSE(r.chunked);
  EXPECT_EQ(r.Header("Content-Length"), std::to_string(r.body.size()));
  EXPECT_GT(r.body.size(), origin.body.size());
  EXPECT_EQ(r.Header("ETag"), "W/\"v1\"");
  EXPECT_FALSE(r.HasHeader("Content-MD5"));
  EXPECT_FALSE(r.HasHeader("Accept-Ranges"));
  EXPECT_EQ(Count(r.body, kMarker), 1u) << r.body.substr(0, 400);
  EXPECT_NE(r.body.find("<body><div class=\"tidegate-banner"), std::string::npos)
      << r.body.substr(0, 400);
  EXPECT_NE(r.body.find("High demand. Orders are safe."), std::string::npos);
  EXPECT_EQ(WithoutBanner(r.body), origin.body);  // nothing else changed
}

TEST_F(BannerTest, ChunkedPageAndUpperCaseTag) {
  StartWithShop(kOn);
  ASSERT_TRUE(Started());
  const std::string page = "/banner-test/page?size=20000&chunked=1&tag=upper";
  HttpMessage origin = Direct(page);
  HttpMessage r = Proxy(page);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(Count(r.body, kMarker), 1u);
  EXPECT_NE(r.body.find("<BODY class=\"x\"><div class=\"tidegate-banner"), std::string::npos);
  EXPECT_EQ(WithoutBanner(r.body), origin.body);
}

TEST_F(BannerTest, Case19_BodyTagSplitAcrossOriginReads) {
  StartWithOrigin(
      [](OriginConnection& conn) {
        if (!conn.ReadRequest().ok) return;
        conn.Send(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
            "e\r\n<html><head><b\r\n");
        // Two separate reads on the proxy's side (the pause only splits the
        // bytes; nothing is asserted about time).
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        conn.Send("1\r\no\r\n");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        conn.Send("c\r\ndy class=\"x\"\r\n");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        conn.Send("3\r\n>hi\r\n0\r\n\r\n");
        conn.WaitForClose(std::chrono::milliseconds(5000));
      },
      kOn);
  ASSERT_TRUE(Started());
  HttpMessage r = Send(tidegate_->port(), Request("/split"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(Count(r.body, kMarker), 1u) << r.body;
  EXPECT_EQ(r.body.find("<html><head><body class=\"x\"><div class=\"tidegate-banner"), 0u)
      << r.body;
  EXPECT_EQ(WithoutBanner(r.body), "<html><head><body class=\"x\">hi");
}

TEST_F(BannerTest, Case20_GatedResponsesPassUnchanged) {
  StartWithShop(kOn);
  ASSERT_TRUE(Started());
  const char* pages[] = {
      "/banner-test/page?type=application/json",
      "/banner-test/page?cd=attachment%3B%20filename%3Dpage.html",
      "/banner-test/page?cc=public%2C%20no-transform",
      "/banner-test/page?status=206",
      "/banner-test/page?status=404",
      "/banner-test/page?etag=1&tag=none",
  };
  for (const char* page : pages) {
    HttpMessage origin = Direct(page);
    HttpMessage r = Proxy(page);
    ASSERT_TRUE(r.ok) << page << ": " << r.error;
    EXPECT_EQ(r.status, origin.status) << page;
    EXPECT_EQ(r.body, origin.body) << page;
    EXPECT_EQ(Count(r.body, kMarker), 0u) << page;
    // Untouched heads keep their length, and so does the page without a
    // <body> tag (its head waited for the scan to end).
    EXPECT_EQ(r.Header("Content-Length"), origin.Header("Content-Length")) << page;
    EXPECT_FALSE(r.chunked) << page;
  }
  // HEAD, 204 and 304: the head as the origin sent it, no body.
  HttpMessage head = Proxy("/banner-test/page?etag=1", "", "HEAD");
  ASSERT_TRUE(head.ok) << head.error;
  EXPECT_EQ(head.Header("ETag"), "\"v1\"");
  EXPECT_EQ(head.Header("Content-Length"),
            Direct("/banner-test/page?etag=1", "", "HEAD").Header("Content-Length"));
  for (const char* page : {"/banner-test/page?status=204", "/banner-test/page?status=304&etag=1"}) {
    HttpMessage r = Proxy(page);
    ASSERT_TRUE(r.ok) << page << ": " << r.error;
    EXPECT_TRUE(r.body.empty()) << page;
  }
}

TEST_F(BannerTest, Case21_RuntimeBannerIsEscapedAndCanBeCleared) {
  StartWithShop("");
  ASSERT_TRUE(Started());
  HttpMessage before = Proxy("/banner-test/page");
  ASSERT_TRUE(before.ok);
  EXPECT_EQ(Count(before.body, kMarker), 0u);
  EXPECT_TRUE(before.HasHeader("Content-Length"));  // no banner: untouched framing

  ASSERT_EQ(Admin("PUT", R"({"message": "<script>alert(1)</script> \"quoted\" & more", )"
                         R"("severity": "critical", "next_update_at": "2099-01-01T12:30:00Z"})"),
            200);
  HttpMessage on = Proxy("/banner-test/page");
  ASSERT_TRUE(on.ok) << on.error;
  EXPECT_EQ(Count(on.body, kMarker), 1u);
  EXPECT_EQ(on.body.find("<script>"), std::string::npos) << on.body.substr(0, 600);
  EXPECT_NE(on.body.find("&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &amp; more"),
            std::string::npos)
      << on.body.substr(0, 600);
  EXPECT_NE(on.body.find("role=\"alert\""), std::string::npos);
  EXPECT_NE(on.body.find("Next update at"), std::string::npos);
  HttpMessage french = Proxy("/banner-test/page", "Accept-Language: fr-FR,fr;q=0.9\r\n");
  EXPECT_NE(french.body.find("Prochaine mise à jour à"), std::string::npos);

  ASSERT_EQ(Admin("DELETE"), 200);
  HttpMessage off = Proxy("/banner-test/page");
  ASSERT_TRUE(off.ok);
  EXPECT_EQ(Count(off.body, kMarker), 0u);
}

TEST_F(BannerTest, GzipPageIsDecodedAndReencoded) {
  // recode: the origin's gzip is decoded and re-encoded (the default,
  // "compress", would ask the shop for identity: banner_compress_test.cc).
  StartWithShop(std::string(kOn) + "compressed = \"recode\"\n");
  ASSERT_TRUE(Started());
  const std::string page = "/banner-test/page?size=60000&enc=auto";
  HttpMessage plain = Direct(page);  // no Accept-Encoding: identity
  for (const char* target : {"/banner-test/page?size=60000&enc=auto",
                             "/banner-test/page?size=60000&enc=auto&chunked=1"}) {
    HttpMessage r = Proxy(target, "Accept-Encoding: gzip\r\n");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
    // A small gzip page is recoded whole: its head waited, with the length.
    EXPECT_FALSE(r.chunked) << target;
    EXPECT_EQ(r.Header("Content-Length"), std::to_string(r.body.size())) << target;
    bool complete = false;
    std::string decoded = Inflate(r.body, &complete);
    EXPECT_TRUE(complete);
    EXPECT_EQ(Count(decoded, kMarker), 1u);
    EXPECT_EQ(WithoutBanner(decoded), plain.body) << target;
  }
  HttpMessage deflated = Proxy("/banner-test/page?size=3000&enc=deflate");
  ASSERT_TRUE(deflated.ok);
  EXPECT_EQ(deflated.Header("Content-Encoding"), "deflate");
  bool complete = false;
  std::string decoded = Inflate(deflated.body, &complete);
  EXPECT_TRUE(complete);
  EXPECT_EQ(WithoutBanner(decoded), Direct("/banner-test/page?size=3000").body);
  EXPECT_EQ(Count(decoded, kMarker), 1u);
}

TEST_F(BannerTest, GzipMembersInSeparateOriginReadsAreAllDecoded) {
  const std::string first = "<html><body class=\"x\">first member, ";
  const std::string second = "second member</body></html>";
  StartWithOrigin(
      [first, second](OriginConnection& conn) {
        if (!conn.ReadRequest().ok) return;
        std::string a = Gzip(first), b = Gzip(second);
        conn.Send(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
            "Transfer-Encoding: chunked\r\n\r\n" +
            Hex(a.size()) + "\r\n" + a + "\r\n");
        // The second member arrives in a later read (the pause only splits
        // the bytes).
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        conn.Send(Hex(b.size()) + "\r\n" + b + "\r\n0\r\n\r\n");
        conn.WaitForClose(std::chrono::milliseconds(5000));
      },
      kOn);
  ASSERT_TRUE(Started());
  HttpMessage r = Send(tidegate_->port(), Request("/members", "Accept-Encoding: gzip\r\n"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
  bool complete = false;
  std::string decoded = Inflate(r.body, &complete);
  EXPECT_TRUE(complete);
  EXPECT_EQ(Count(decoded, kMarker), 1u) << decoded;
  EXPECT_EQ(WithoutBanner(decoded), first + second);
}

// An origin answering one request with these gzip bytes as an HTML page.
ScriptedOrigin::Script ServeGzipPage(std::string body) {
  return [body](OriginConnection& conn) {
    if (!conn.ReadRequest().ok) return;
    conn.Send(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
    conn.WaitForClose(std::chrono::milliseconds(5000));
  };
}

// Padding after the gzip member (NUL bytes here; a newline is as common),
// which gzip(1) and browsers ignore, gets the page with its banner (audit
// 17: the version before answered 502 to a page curl --compressed shows).
TEST_F(BannerTest, PaddingAfterTheGzipMemberIsIgnored) {
  const std::string page = "<html><body class=\"x\">padded page</body></html>";
  StartWithOrigin(ServeGzipPage(Gzip(page) + std::string(8, '\0')), kOn);
  ASSERT_TRUE(Started());
  HttpMessage r = Send(tidegate_->port(), Request("/padded", "Accept-Encoding: gzip\r\n"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200) << Printable(r.raw);
  bool complete = false;
  std::string decoded = Inflate(r.body, &complete);
  EXPECT_TRUE(complete);
  EXPECT_EQ(Count(decoded, kMarker), 1u) << decoded;
  EXPECT_EQ(WithoutBanner(decoded), page);
}

// A small gzip page that does not decode — corrupt, or a member without
// its 8-byte trailer (which browsers and curl --compressed show) — waits
// whole with its head: nothing went out when the error shows, so it goes
// out as the origin sent it, without the banner, with its own length (audit
// 17: the version before answered 502; the client's decoder now judges the
// bytes as it would without tidegate).
TEST_F(BannerTest, SmallGzipPageThatDoesNotDecodeGoesOutAsTheOriginSentIt) {
  std::string good = Gzip("<html><body class=\"x\">" + std::string(30000, 'a'));
  const std::string bodies[] = {good.substr(0, good.size() / 2) + std::string(64, '\xff'),
                                good.substr(0, good.size() - 8)};
  for (const std::string& body : bodies) {
    origin_.reset();
    tidegate_.reset();
    StartWithOrigin(ServeGzipPage(body), kOn);
    ASSERT_TRUE(Started());
    HttpMessage r = Send(tidegate_->port(), Request("/corrupt", "Accept-Encoding: gzip\r\n"));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 200) << Printable(r.raw.substr(0, 300));
    EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
    EXPECT_EQ(r.Header("Content-Length"), std::to_string(body.size()));
    EXPECT_TRUE(r.body == body) << "the origin's bytes, as they came";
  }
}

TEST_F(BannerTest, BanneredPageVariesOnLanguageAndIsPrivate) {
  StartWithShop(kOn);
  ASSERT_TRUE(Started());
  const std::string page = "/banner-test/page?cc=public%2C%20max-age%3D300%2C%20s-maxage%3D900";
  HttpMessage origin = Direct(page);
  ASSERT_TRUE(origin.ok) << origin.error;
  EXPECT_EQ(origin.Header("Cache-Control"), "public, max-age=300, s-maxage=900");
  HttpMessage r = Proxy(page);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(Count(r.body, kMarker), 1u);
  EXPECT_EQ(r.Header("Vary"), "Accept-Encoding, Accept-Language");
  EXPECT_EQ(r.HeaderCount("Cache-Control"), 1);
  EXPECT_EQ(r.Header("Cache-Control"), "private, max-age=300");
}

TEST_F(BannerTest, IdentityModeAsksTheOriginForIdentity) {
  StartWithShop(std::string(kOn) + "compressed = \"identity\"\n");
  ASSERT_TRUE(Started());
  HttpMessage r = Proxy("/banner-test/page?size=8000&enc=auto",
                        "Accept: text/html\r\nAccept-Encoding: gzip\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(r.HasHeader("Content-Encoding"));
  EXPECT_EQ(Count(r.body, kMarker), 1u);
  EXPECT_EQ(WithoutBanner(r.body), Direct("/banner-test/page?size=8000").body);
}

TEST_F(BannerTest, UnsupportedEncodingPassesUnchanged) {
  StartWithShop(kOn);
  ASSERT_TRUE(Started());
  HttpMessage origin = Direct("/banner-test/page?enc=br");
  HttpMessage r = Proxy("/banner-test/page?enc=br", "Accept-Encoding: br\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.Header("Content-Encoding"), "br");
  EXPECT_EQ(r.body, origin.body);
  EXPECT_EQ(r.Header("Content-Length"), origin.Header("Content-Length"));
}

TEST_F(BannerTest, Http10Clients) {
  StartWithShop(kOn);
  ASSERT_TRUE(Started());
  // Chunked origin page: close-delimited with the banner.
  HttpMessage chunked = Proxy("/banner-test/page?size=4000&chunked=1", "", "GET", 0);
  ASSERT_TRUE(chunked.ok) << chunked.error;
  EXPECT_TRUE(chunked.ended_by_close);
  EXPECT_EQ(Count(chunked.body, kMarker), 1u);
  EXPECT_EQ(WithoutBanner(chunked.body), Direct("/banner-test/page?size=4000").body);
  // Content-Length page: the banner, and a Content-Length that counts it,
  // so a truncation stays visible to a client that has no chunked encoding.
  HttpMessage length = Proxy("/banner-test/page?size=4000", "", "GET", 0);
  ASSERT_TRUE(length.ok) << length.error;
  EXPECT_EQ(Count(length.body, kMarker), 1u);
  EXPECT_FALSE(length.ended_by_close);
  EXPECT_EQ(length.Header("Content-Length"), std::to_string(length.body.size()));
  EXPECT_EQ(WithoutBanner(length.body), Direct("/banner-test/page?size=4000").body);
}

TEST_F(BannerTest, ContentLengthHeadWaitsForATagInALaterOriginRead) {
  const std::string page = "<html><head><title>t</title></head><body class=\"x\">hi</body></html>";
  StartWithOrigin(
      [page](OriginConnection& conn) {
        if (!conn.ReadRequest().ok) return;
        conn.Send("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
                  std::to_string(page.size()) + "\r\n\r\n" + page.substr(0, 20));
        // Separate reads on the proxy's side (nothing is asserted about time).
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        conn.Send(page.substr(20, 20));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        conn.Send(page.substr(40));
        conn.WaitForClose(std::chrono::milliseconds(5000));
      },
      kOn);
  ASSERT_TRUE(Started());
  HttpMessage r = Send(tidegate_->port(), Request("/split"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(r.chunked);
  EXPECT_EQ(r.Header("Content-Length"), std::to_string(r.body.size()));
  EXPECT_EQ(Count(r.body, kMarker), 1u) << r.body;
  EXPECT_EQ(WithoutBanner(r.body), page);
}

TEST_F(BannerTest, OriginFailingWhileTheHeadIsHeldGets502) {
  StartWithOrigin(
      [](OriginConnection& conn) {
        if (!conn.ReadRequest().ok) return;
        // No <body> tag yet: the head is still held when the origin leaves.
        conn.Send(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n"
            "<html><head><title>part");
        conn.Close();
      },
      kOn);
  ASSERT_TRUE(Started());
  HttpMessage r = Send(tidegate_->port(), Request("/t"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 502) << Printable(r.raw);
  EXPECT_EQ(r.body.find("<title>part"), std::string::npos);
  // The proxy's own page tells the same story as the shop's pages.
  EXPECT_EQ(Count(r.body, kMarker), 1u) << r.body;
}

// Shoppers see the banner on every page: the proxy's own 502 (the origin
// left before answering) included, in the language asked for; a JSON
// client gets no markup; a banner cleared is gone from the error page too.
TEST_F(BannerTest, TheProxysOwnErrorPageCarriesTheBanner) {
  StartWithOrigin(
      [](OriginConnection& conn) {
        if (!conn.ReadRequest().ok) return;
        conn.Close();
      },
      kOn);
  ASSERT_TRUE(Started());
  HttpMessage r = Proxy("/cart");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 502) << Printable(r.raw);
  EXPECT_EQ(Count(r.body, kMarker), 1u) << r.body;
  EXPECT_NE(r.body.find("High demand. Orders are safe."), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("/.tidegate/assets/banner.css"), std::string::npos) << r.body;
  EXPECT_LT(r.body.find("<body>"), r.body.find(kMarker));
  EXPECT_LT(r.body.find(kMarker), r.body.find("<h1>"));

  HttpMessage json = Proxy("/cart", "Accept: application/json\r\n");
  ASSERT_TRUE(json.ok) << json.error;
  EXPECT_EQ(json.status, 502);
  EXPECT_EQ(json.body.find(kMarker), std::string::npos) << json.body;

  // In the shopper's language, as the other pages.
  HttpMessage fr = Proxy("/cart", "Accept-Language: fr-CA, en;q=0.5\r\n");
  ASSERT_TRUE(fr.ok) << fr.error;
  EXPECT_EQ(fr.status, 502);
  EXPECT_NE(fr.body.find("<html lang=\"fr\">"), std::string::npos) << fr.body;
  EXPECT_NE(fr.body.find("La boutique n’a pas pu être jointe."), std::string::npos) << fr.body;
  EXPECT_EQ(Count(fr.body, kMarker), 1u) << fr.body;

  // A method the banner does not apply to (POST): the page stays plain.
  HttpMessage post = Proxy("/cart", "Content-Length: 0\r\n", "POST");
  ASSERT_TRUE(post.ok) << post.error;
  EXPECT_EQ(post.status, 502);
  EXPECT_EQ(post.body.find(kMarker), std::string::npos) << post.body;
}

TEST_F(BannerTest, StylesheetIsServedAndLinked) {
  StartWithShop(kOn);
  ASSERT_TRUE(Started());
  HttpMessage css = Proxy("/.tidegate/assets/banner.css");
  ASSERT_TRUE(css.ok) << css.error;
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.Header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_TRUE(css.HasHeader("ETag"));
  EXPECT_TRUE(css.HasHeader("Cache-Control"));
  EXPECT_NE(css.body.find(".tidegate-banner"), std::string::npos);
  // A browser revalidating: 304 with the tag, no body, no length of one
  // (audit 10 F10: the strong ETag was never answered with 304).
  std::string etag = css.Header("ETag").value_or("");
  for (const std::string& field : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    SCOPED_TRACE(field);
    HttpMessage again = Proxy("/.tidegate/assets/banner.css", "If-None-Match: " + field + "\r\n");
    ASSERT_TRUE(again.ok) << again.error;
    EXPECT_EQ(again.status, 304) << again.raw;
    EXPECT_EQ(again.Header("ETag").value_or(""), etag);
    EXPECT_EQ(again.body, "");
    EXPECT_NE(again.Header("Content-Length").value_or(""), "0") << again.raw;
  }
  HttpMessage changed = Proxy("/.tidegate/assets/banner.css", "If-None-Match: \"old\"\r\n");
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.body, css.body);
  // Other built-in paths are still the built-in routes'.
  EXPECT_EQ(Proxy("/.tidegate/assets/nothing.css").status, 404);
  // A page under a strict CSP: the banner needs no inline style or script.
  HttpMessage page = Proxy("/banner-test/page?csp=1");
  ASSERT_TRUE(page.ok);
  std::string banner = page.body.substr(page.body.find("<div class=\"tidegate-banner"));
  banner = banner.substr(0, banner.find("</div>"));
  EXPECT_NE(banner.find("<link rel=\"stylesheet\" href=\"/.tidegate/assets/banner.css\">"),
            std::string::npos);
  EXPECT_EQ(banner.find("style="), std::string::npos);
  EXPECT_EQ(banner.find("<style"), std::string::npos);
  EXPECT_EQ(banner.find("<script"), std::string::npos);
}

TEST_F(BannerTest, Case16_TruncatedOriginStaysTruncated) {
  StartWithOrigin(
      [](OriginConnection& conn) {
        if (!conn.ReadRequest().ok) return;
        conn.Send(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n"
            "<html><body>only part");
        conn.Close();
      },
      kOn);
  ASSERT_TRUE(Started());
  auto conn = ConnectOrFail(tidegate_->port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send("GET /t HTTP/1.1\r\nHost: shop.test\r\n\r\n"));
  HttpMessage r = ReadResponse(*conn);
  if (r.ok) {
    EXPECT_EQ(r.status, 502) << "a truncated page was completed: " << Printable(r.raw);
  } else {
    EXPECT_TRUE(conn->peer_closed()) << r.error;
    EXPECT_EQ(conn->buffer().find("\r\n0\r\n\r\n"), std::string::npos)
        << "a last-chunk was appended: " << Printable(conn->buffer());
  }
}

TEST_F(BannerTest, Case16_TruncatedGzipStaysBroken) {
  // Half of a gzip page, announced with its full length, then the origin closes.
  std::string page = "<html><body>" + std::string(30000, 'x') + "</body></html>";
  z_stream s{};
  deflateInit2(&s, 1, Z_DEFLATED, MAX_WBITS + 16, 8, Z_DEFAULT_STRATEGY);
  std::string gz(deflateBound(&s, page.size()), '\0');
  s.next_in = reinterpret_cast<Bytef*>(page.data());
  s.avail_in = static_cast<uInt>(page.size());
  s.next_out = reinterpret_cast<Bytef*>(gz.data());
  s.avail_out = static_cast<uInt>(gz.size());
  ASSERT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  gz.resize(s.total_out);
  deflateEnd(&s);
  std::string half = gz.substr(0, gz.size() / 2);
  StartWithOrigin(
      [gz, half](OriginConnection& conn) {
        if (!conn.ReadRequest().ok) return;
        conn.Send(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
            "Content-Length: " +
            std::to_string(gz.size()) + "\r\n\r\n" + half);
        conn.Close();
      },
      kOn);
  ASSERT_TRUE(Started());
  auto conn = ConnectOrFail(tidegate_->port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send("GET /t HTTP/1.1\r\nHost: shop.test\r\nAccept-Encoding: gzip\r\n\r\n"));
  HttpMessage r = ReadResponse(*conn);
  if (r.ok) {
    // The head was still held (a small gzip page waits whole): 502.
    EXPECT_EQ(r.status, 502) << "a truncated gzip page was completed: " << r.raw.size() << " bytes";
  } else {
    EXPECT_TRUE(conn->peer_closed());
    EXPECT_EQ(conn->buffer().find("\r\n0\r\n\r\n"), std::string::npos);
  }
}

// Case 17 under the banner: a chunked page (its head is not held: the
// length changes anyway) whose bad chunk comes in the same origin read as
// the head and the body tag. The head and the bannered first chunk were
// only queued, not written, so they are taken back for the proxy's 502,
// with the banner alone and while gzipping for the client.
TEST_F(BannerTest, Case17_BadChunkWithTheHeadIs502) {
  const std::string first = "<html><body class=\"x\">hi";
  StartWithOrigin(
      [first](OriginConnection& conn) {
        if (!conn.ReadRequest().ok) return;
        conn.Send(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n" +
            Hex(first.size()) + "\r\n" + first + "\r\nZZ\r\nmore\r\n0\r\n\r\n");
        conn.WaitForClose(std::chrono::milliseconds(5000));
      },
      kOn);
  ASSERT_TRUE(Started());
  for (const char* extra : {"", "Accept: text/html\r\nAccept-Encoding: gzip\r\n"}) {
    SCOPED_TRACE(Printable(extra));
    HttpMessage r = Send(tidegate_->port(), Request("/bad-chunk", extra));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 502) << Printable(r.raw);
    // Nothing of the origin's (bannered) page went out: the proxy's own
    // page, which carries the banner once.
    EXPECT_EQ(r.raw.find("class=\"x\""), std::string::npos) << Printable(r.raw);
    EXPECT_EQ(Count(r.raw, kMarker), 1u) << Printable(r.raw);
    EXPECT_FALSE(r.Header("Content-Encoding").has_value()) << Printable(r.raw);
  }
}

TEST_F(BannerTest, Case22_FiftyMegabytePageKeepsMemoryFlat) {
  StartWithShop(kOn);
  ASSERT_TRUE(Started());
  Proxy("/banner-test/page");  // warm up
  auto before = ReadProcStats(tidegate_->pid());
  ASSERT_TRUE(before);
  auto conn = ConnectOrFail(tidegate_->port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Request("/bytes?n=52428800")));
  HttpMessage r = ReadResponse(*conn, Within(std::chrono::milliseconds(60000)));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(Count(r.body.substr(0, 4096), kMarker), 1u);
  EXPECT_GT(r.body.size(), 52428800u);
  auto after = ReadProcStats(tidegate_->pid());
  ASSERT_TRUE(after);
#ifndef TIDEGATE_TESTING_SANITIZED_BUILD
  EXPECT_LT(after->vm_rss_kb - before->vm_rss_kb, 16 * 1024)
      << "RSS grew from " << before->vm_rss_kb << " kB to " << after->vm_rss_kb << " kB";
#else
  // AddressSanitizer keeps freed memory in quarantine (256 MB by default), so
  // RSS says nothing about the filter's buffering in that build; the release
  // build of the same test checks it.
  (void)before;
#endif
}

}  // namespace
}  // namespace tidegate::itest

namespace tidegate::itest {
namespace {

using namespace banner_fixture;  // NOLINT: the fixture and its helpers

// [site]: the proxy's error page links the shop's own status page and
// speaks the shop's default language when Accept-Language names none.
TEST_F(BannerTest, TheProxysErrorPageFollowsTheSiteSettings) {
  StartWithOrigin(
      [](OriginConnection& conn) {
        if (!conn.ReadRequest().ok) return;
        conn.Close();
      },
      std::string(kOn) +
          "\n[site]\nstatus_page_url = \"https://status.example.com/\"\n"
          "default_language = \"fr\"\n");
  ASSERT_TRUE(Started());
  HttpMessage r = Proxy("/cart");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("<html lang=\"fr\">"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("href=\"https://status.example.com/\">État du service</a>"),
            std::string::npos)
      << r.body;
  HttpMessage en = Proxy("/cart", "Accept-Language: en\r\nAccept: application/json\r\n");
  ASSERT_TRUE(en.ok) << en.error;
  EXPECT_NE(en.body.find("\"status_page\":\"https://status.example.com/\""), std::string::npos)
      << en.body;
}

}  // namespace
}  // namespace tidegate::itest
