// Unit tests of the fast paths in proxy/http_message.cc and
// proxy/forwarding_headers.cc: each shortcut (length pre-check of hop-by-hop
// names, stack marks, one-scan forwarding fields, one-pass framing removal,
// single-resize serialisation) must give exactly what the general path gives,
// including the inputs that fall back to it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/forwarding_headers.h"
#include "proxy/http_message.h"

namespace tidegate::proxy {
namespace {

std::vector<std::string> Flatten(const HeaderList& headers) {
  std::vector<std::string> out;
  for (const Header& h : headers.fields()) out.push_back(h.name + ": " + h.value);
  return out;
}

TEST(HotPathHeadersTest, HopByHopNamesOfEveryLengthStillMatch) {
  HeaderList h;
  for (const char* name : {"te", "TE", "Trailer", "UPGRADE", "Connection", "KEEP-ALIVE",
                           "Proxy-Connection", "proxy-authenticate", "Proxy-Authorization"}) {
    h.Add(name, "x");
  }
  // Same lengths as hop-by-hop names, but not hop-by-hop.
  for (const char* name : {"Te", "Trailers", "Upgrad", "Connectionx", "X-Upgrad", "Cf",
                           "Accept-Encoding1", "Proxy-Authenticat"}) {
    h.Add(name, "kept");
  }
  RemoveHopByHopHeaders(h);
  std::vector<std::string> names;
  for (const Header& f : h.fields()) names.push_back(f.name);
  // "Te" is TE in another case: removed too.
  EXPECT_EQ(names, (std::vector<std::string>{"Trailers", "Upgrad", "Connectionx", "X-Upgrad", "Cf",
                                             "Accept-Encoding1", "Proxy-Authenticat"}));
}

TEST(HotPathHeadersTest, ManyFieldsUseTheHeapMarksAndKeepOrder) {
  HeaderList h;
  std::vector<std::string> expected;
  for (int i = 0; i < 150; ++i) {
    std::string name = "X-F" + std::to_string(i);
    h.Add(name, std::to_string(i));
    if (i % 7 != 3) expected.push_back(name + ": " + std::to_string(i));
    if (i == 100) h.Add("Connection", "X-F3, x-f10, X-F17, X-F24, X-F31, X-F38, X-F45, X-F52");
  }
  // Fields named by Connection after index 64, and the rest of i % 7 == 3.
  std::string more;
  for (int i = 59; i < 150; i += 7) more += (more.empty() ? "" : ",") + ("X-F" + std::to_string(i));
  h.Add("Connection", more);
  h.Add("Keep-Alive", "timeout=5");
  RemoveHopByHopHeaders(h);
  EXPECT_EQ(Flatten(h), expected);
}

TEST(HotPathHeadersTest, UpstreamFastPathEqualsGeneralPathResult) {
  RequestHead head;
  head.method = "GET";
  head.target = "/";
  head.headers.Add("Host", "shop.example");
  head.headers.Add("Accept", "*/*");
  PrepareUpstreamRequest(head, {"192.0.2.7", true});
  EXPECT_EQ(
      Flatten(head.headers),
      (std::vector<std::string>{"Host: shop.example", "Accept: */*", "X-Forwarded-For: 192.0.2.7",
                                "X-Forwarded-Proto: https", "Via: 1.1 tidegate"}));
}

TEST(HotPathHeadersTest, UpstreamGeneralPathForEachPresentField) {
  struct Case {
    const char* name;
    const char* value;
    std::vector<std::string> expected;
  };
  std::vector<Case> cases = {
      {"expect",
       "100-continue",
       {"Host: h", "X-Forwarded-For: 10.0.0.1", "X-Forwarded-Proto: http", "Via: 1.1 tidegate"}},
      {"x-forwarded-for",
       "1.2.3.4",
       {"Host: h", "x-forwarded-for: 1.2.3.4, 10.0.0.1", "X-Forwarded-Proto: http",
        "Via: 1.1 tidegate"}},
      {"X-FORWARDED-PROTO",
       "https",
       {"Host: h", "X-FORWARDED-PROTO: http", "X-Forwarded-For: 10.0.0.1", "Via: 1.1 tidegate"}},
      {"via",
       "1.0 cdn",
       {"Host: h", "via: 1.0 cdn, 1.1 tidegate", "X-Forwarded-For: 10.0.0.1",
        "X-Forwarded-Proto: http"}},
  };
  for (const Case& c : cases) {
    RequestHead head;
    head.headers.Add("Host", "h");
    head.headers.Add(c.name, c.value);
    PrepareUpstreamRequest(head, {"10.0.0.1", false});
    EXPECT_EQ(Flatten(head.headers), c.expected) << c.name;
  }
}

TEST(HotPathHeadersTest, ClientResponseDropsEveryFramingFieldInOnePass) {
  ResponseHead head;
  head.status = 200;
  head.framing = BodyFraming::kContentLength;
  head.headers.Add("Content-Length", "5");
  head.headers.Add("Date", "d");
  head.headers.Add("transfer-encoding", "chunked");
  head.headers.Add("CONTENT-LENGTH", "5");
  head.headers.Add("ETag", "\"e\"");
  head.headers.Add("Connection", "keep-alive");
  PrepareClientResponse(head, 1);
  EXPECT_EQ(Flatten(head.headers), (std::vector<std::string>{"Date: d", "ETag: \"e\""}));
}

TEST(HotPathHeadersTest, SerialisationAppendsToWhatIsThere) {
  ResponseHead response;
  response.status = 599;  // no default reason
  response.headers.Add("A", "");
  response.headers.Add(std::string(300, 'N'), std::string(5000, 'v'));
  std::string out = "prefix";
  SerializeResponseHead(response, out);
  std::string expected = "prefixHTTP/1.1 599 \r\nA: \r\n" + std::string(300, 'N') + ": " +
                         std::string(5000, 'v') + "\r\n\r\n";
  EXPECT_EQ(out, expected);

  RequestHead request;
  request.method = "OPTIONS";
  request.target = "*";
  SerializeRequestHead(request, out);
  EXPECT_EQ(out, expected + "OPTIONS * HTTP/1.1\r\n\r\n");
}

}  // namespace
}  // namespace tidegate::proxy
