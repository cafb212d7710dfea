// Unit tests of the HTTP/1.x codec adapter (proxy/http1_codec.h): raw bytes
// in, status / head / body out. Every rejection case is fed whole and byte by
// byte, because the strict checks run on whatever the parser consumed.
#include "proxy/http1_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace tidegate::proxy {
namespace {

using Kind = Http1Parser::Kind;
using namespace std::string_literals;

class Recorder : public Http1Parser::Callbacks {
 public:
  void OnRequestHead(RequestHead&& head) override { requests.push_back(std::move(head)); }
  void OnResponseHead(ResponseHead&& head) override { responses.push_back(std::move(head)); }
  void OnEarlyHints(const ResponseHead& head) override {
    const std::string* link = head.headers.Find("Link");
    hints.push_back(link != nullptr ? *link : "");
  }
  void OnBody(const char* data, size_t len) override {
    body.append(data, len);
    if (pause_in_body && parser != nullptr) parser->Pause();
    if (reset_in_body && parser != nullptr) parser->Reset();
  }
  void OnMessageComplete() override { ++completes; }

  std::vector<RequestHead> requests;
  std::vector<ResponseHead> responses;
  std::vector<std::string> hints;  // Link of each 103, in order
  std::string body;
  int completes = 0;
  bool pause_in_body = false;
  bool reset_in_body = false;
  Http1Parser* parser = nullptr;
};

struct Outcome {
  int status = 0;
  std::string reason;
  size_t consumed = 0;
  int completes = 0;
  std::string body;
  std::vector<RequestHead> requests;
  std::vector<ResponseHead> responses;
  std::vector<std::string> hints;
};

struct FeedOptions {
  size_t step = SIZE_MAX;  // bytes added to the caller's buffer per read
  ParseLimits limits;
  bool head_request = false;  // responses: ExpectNoBody(true)
  bool eof = false;           // call FinishOnEof() after the last byte
};

// Feeds `bytes` the way a connection does: reads land in a buffer, Execute()
// consumes from its front. Stops at the first complete message or error.
Outcome Feed(Kind kind, std::string_view bytes, const FeedOptions& options = {}) {
  Recorder recorder;
  Http1Parser parser(kind, options.limits, &recorder);
  parser.ExpectNoBody(options.head_request);
  Outcome out;
  std::string buffer;
  size_t offset = 0;
  while (!parser.failed() && recorder.completes == 0) {
    if (offset < bytes.size()) {
      size_t n = std::min(options.step, bytes.size() - offset);
      buffer.append(bytes.substr(offset, n));
      offset += n;
    }
    size_t consumed = parser.Execute(buffer.data(), buffer.size());
    EXPECT_LE(consumed, buffer.size());
    buffer.erase(0, consumed);
    out.consumed += consumed;
    if (offset >= bytes.size() && (consumed == 0 || buffer.empty())) break;
  }
  if (options.eof && !parser.failed() && recorder.completes == 0) parser.FinishOnEof();
  out.status = parser.error().status;
  out.reason = parser.error().reason;
  out.completes = recorder.completes;
  out.body = recorder.body;
  out.requests = std::move(recorder.requests);
  out.responses = std::move(recorder.responses);
  out.hints = std::move(recorder.hints);
  return out;
}

Outcome FeedRequest(std::string_view bytes, size_t step = SIZE_MAX) {
  FeedOptions options;
  options.step = step;
  return Feed(Kind::kRequest, bytes, options);
}

// ---------------------------------------------------------------------------
// Rejected requests: raw bytes → status, fed whole and byte by byte.

struct BadCase {
  const char* name;
  std::string bytes;
  int status;
};

std::ostream& operator<<(std::ostream& os, const BadCase& c) { return os << c.name; }

std::string Post(const std::string& fields, const std::string& body = "") {
  return "POST /cart HTTP/1.1\r\nHost: shop.example\r\n" + fields + "\r\n" + body;
}
std::string Chunked(const std::string& chunks) {
  return Post("Transfer-Encoding: chunked\r\n", chunks);
}
std::string GetWith(const std::string& fields) {
  return "GET / HTTP/1.1\r\nHost: shop.example\r\n" + fields + "\r\n";
}

const BadCase kBadRequests[] = {
    // Case 1: Content-Length with Transfer-Encoding, any order, case, spacing.
    {"ClThenTe", Post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400},
    {"TeThenCl", Post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"), 400},
    {"ClTeLowerCase", Post("content-length: 5\r\ntransfer-encoding: CHUNKED\r\n", "0\r\n\r\n"),
     400},
    {"ClTeSpacing", Post("Content-Length:5\r\nTransfer-Encoding:   chunked  \r\n", "0\r\n\r\n"),
     400},
    {"ClTeTab", Post("Content-Length: 5\r\nTransfer-Encoding:\tchunked\r\n", "0\r\n\r\n"), 400},
    {"ClZeroWithTe", Post("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400},
    // Case 2: duplicate / list Content-Length (even equal values: strict).
    {"TwoClDifferent", Post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), 400},
    {"TwoClEqual", Post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"), 400},
    {"ClList", Post("Content-Length: 5, 6\r\n", "hello!"), 400},
    {"ClListEqual", Post("Content-Length: 5, 5\r\n", "hello"), 400},
    // Case 3: invalid Content-Length values.
    {"ClPlus", Post("Content-Length: +5\r\n", "hello"), 400},
    {"ClNegative", Post("Content-Length: -1\r\n"), 400},
    {"ClHex", Post("Content-Length: 0x10\r\n"), 400},
    {"ClUnderscore", Post("Content-Length: 1_0\r\n"), 400},
    {"ClSpaceInside", Post("Content-Length: 5 5\r\n"), 400},
    {"ClTwoToThe63", Post("Content-Length: 9223372036854775808\r\n"), 400},
    {"ClHuge", Post("Content-Length: 99999999999999999999999\r\n"), 400},
    {"ClEmpty", Post("Content-Length: \r\n"), 400},
    {"ClLetters", Post("Content-Length: five\r\n"), 400},
    // Case 4: Transfer-Encoding other than one final "chunked".
    {"TeChunkedTwice", Post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"), 400},
    {"TeTwoFields",
     Post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400},
    {"TeGzip", Post("Transfer-Encoding: gzip\r\n", "hello"), 400},
    {"TeXchunked", Post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"), 400},
    {"TeGzipChunked", Post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), 400},
    {"TeChunkedGzip", Post("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n"), 400},
    {"TeIdentity", Post("Transfer-Encoding: identity\r\n"), 400},
    {"TeSpaceBeforeColon", Post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"), 400},
    {"TeCtlBeforeValue",
     Post("Transfer-Encoding: \x01"
          "chunked\r\n",
          "0\r\n\r\n"),
     400},
    {"TeCtlAfterValue", Post("Transfer-Encoding: chunked\x0b\r\n", "0\r\n\r\n"), 400},
    {"TeNulAfterValue", Post("Transfer-Encoding: chunked\0\r\n"s, "0\r\n\r\n"), 400},
    {"TeObsFold", Post("Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n"), 400},
    {"TeObsFoldTab", Post("Transfer-Encoding: chunked\r\n\t, gzip\r\n", "0\r\n\r\n"), 400},
    // Case 5: Transfer-Encoding on HTTP/1.0.
    {"TeOnHttp10",
     "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
     400},
    // Case 6: chunk framing.
    {"ChunkSizeZ", Chunked("Z\r\nhello\r\n0\r\n\r\n"), 400},
    {"ChunkSize0x", Chunked("0x5\r\nhello\r\n0\r\n\r\n"), 400},
    {"ChunkSizeNegative", Chunked("-5\r\nhello\r\n0\r\n\r\n"), 400},
    {"ChunkSizeOverflow", Chunked("fffffffffffffffff\r\nhello\r\n0\r\n\r\n"), 400},
    {"ChunkSizeTwoNumbers", Chunked("5 5\r\nhello\r\n0\r\n\r\n"), 400},
    {"ChunkSizeTrailingSpace", Chunked("5 \r\nhello\r\n0\r\n\r\n"), 400},
    {"ChunkSizeTrailingSpaces", Chunked("5  \r\nhello\r\n0\r\n\r\n"), 400},
    {"LastChunkTrailingSpace", Chunked("5\r\nhello\r\n0 \r\n\r\n"), 400},
    {"ChunkSizeEmpty", Chunked("\r\nhello\r\n0\r\n\r\n"), 400},
    {"ChunkSizeBareLf", Chunked("5\nhello\r\n0\r\n\r\n"), 400},
    {"ChunkSizeBareCr", Chunked("5\rhello\r\n0\r\n\r\n"), 400},
    {"ChunkExtCtl", Chunked("5;a=\x01\r\nhello\r\n0\r\n\r\n"), 400},
    {"ChunkExtNul", Chunked("5;a\0b\r\nhello\r\n0\r\n\r\n"s), 400},
    {"ChunkExtBareLf", Chunked("5;a\nb\r\nhello\r\n0\r\n\r\n"), 400},
    {"ChunkExtDel", Chunked("5;a\x7f\r\nhello\r\n0\r\n\r\n"), 400},
    {"ChunkExtTooLong", Chunked("5;" + std::string(5000, 'a') + "\r\nhello\r\n0\r\n\r\n"), 400},
    {"ChunkDataNoCrlf", Chunked("5\r\nhelloXY0\r\n\r\n"), 400},
    {"ChunkDataBareLf", Chunked("5\r\nhello\n0\r\n\r\n"), 400},
    {"ChunkDataBareCr", Chunked("5\r\nhello\r0\r\n\r\n"), 400},
    {"ChunkDataTooLong", Chunked("5\r\nhello!\r\n0\r\n\r\n"), 400},
    {"LastChunkBareLf", Chunked("5\r\nhello\r\n0\n\r\n"), 400},
    {"TrailerBareLf", Chunked("0\r\nX-T: 1\n\r\n"), 400},
    {"TrailerObsFold", Chunked("0\r\nX-T: 1\r\n 2\r\n\r\n"), 400},
    {"TrailerBadName", Chunked("0\r\nX T: 1\r\n\r\n"), 400},
    {"FinalLineBareCr", Chunked("0\r\n\r\r"), 400},
    // Case 8: field names, values, whitespace before the first field.
    {"NameWithParen", GetWith("Fo(o: bar\r\n"), 400},
    {"NameWithSpace", GetWith("Fo o: bar\r\n"), 400},
    {"SpaceBeforeColon", GetWith("Foo : bar\r\n"), 400},
    {"TabBeforeColon", GetWith("Foo\t: bar\r\n"), 400},
    {"NameWithCtl", GetWith("Fo\x01o: bar\r\n"), 400},
    {"NameWithQuote", GetWith("Fo\"o: bar\r\n"), 400},
    {"NameNonAscii", GetWith("F\xc3\xa9o: bar\r\n"), 400},
    {"EmptyName", GetWith(": bar\r\n"), 400},
    {"ValueNul", GetWith("Foo: a\0b\r\n"s), 400},
    {"ValueCtl",
     GetWith("Foo: a\x01"
             "b\r\n"),
     400},
    {"ValueDel", GetWith("Foo: a\x7f\r\n"), 400},
    {"ValueBareCr", GetWith("Foo: a\rb\r\n"), 400},
    {"ValueBareLf", GetWith("Foo: a\nb: c\r\n"), 400},
    {"ObsFold", GetWith("Foo: a\r\n b\r\n"), 400},
    {"SpaceBeforeFirstField", "GET / HTTP/1.1\r\n Host: shop.example\r\n\r\n", 400},
    {"TabBeforeFirstField", "GET / HTTP/1.1\r\n\tHost: shop.example\r\n\r\n", 400},
    {"RequestLineBareLf", "GET / HTTP/1.1\nHost: shop.example\r\n\r\n", 400},
    {"HeadEndsBareLf", "GET / HTTP/1.1\r\nHost: shop.example\r\n\n", 400},
    {"HeadEndsCrX", "GET / HTTP/1.1\r\nHost: shop.example\r\n\rX", 400},
    {"AllBareLf", "GET / HTTP/1.1\nHost: shop.example\n\n", 400},
    {"ManyLeadingEmptyLines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    // Case 9: request targets.
    {"TargetNoSlash", "GET admin HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"AsteriskWithGet", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"Connect", "CONNECT shop.example:443 HTTP/1.1\r\nHost: shop.example:443\r\n\r\n", 400},
    {"AbsoluteOtherHost", "GET http://evil.example/x HTTP/1.1\r\nHost: shop.example\r\n\r\n", 400},
    {"AbsoluteOtherPort", "GET http://shop.example:81/ HTTP/1.1\r\nHost: shop.example\r\n\r\n",
     400},
    {"AbsoluteUserinfo", "GET http://u@shop.example/ HTTP/1.1\r\nHost: shop.example\r\n\r\n", 400},
    {"AbsoluteFtp", "GET ftp://shop.example/ HTTP/1.1\r\nHost: shop.example\r\n\r\n", 400},
    {"AbsoluteFragment", "GET http://shop.example/#x HTTP/1.1\r\nHost: shop.example\r\n\r\n", 400},
    {"TargetFragment", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"TargetNonAscii", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"TargetCtl", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"TargetSpace", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    // Audit 15: paths origins read in different ways (proxy/path_ambiguity.h).
    {"TargetDotSegment", "GET /checkout//.. HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"TargetEncodedDotSegment", "GET /a/%2e%2E/checkout HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"AbsoluteDotSegment", "GET http://a/x/../checkout HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"TargetEncodedNul", "GET /checkout%00/.. HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"TargetPercentU", "GET /%u0063heckout HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    // Case 10: Host.
    {"NoHost", "GET / HTTP/1.1\r\n\r\n", 400},
    {"TwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
    {"TwoEqualHosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400},
    {"HostUserinfo", "GET / HTTP/1.1\r\nHost: user@shop.example\r\n\r\n", 400},
    {"HostUserPassword", "GET / HTTP/1.1\r\nHost: user:pw@shop.example\r\n\r\n", 400},
    {"HostEmpty", "GET / HTTP/1.1\r\nHost: \r\n\r\n", 400},
    {"HostWithPath", "GET / HTTP/1.1\r\nHost: shop.example/x\r\n\r\n", 400},
    {"HostWithSpace", "GET / HTTP/1.1\r\nHost: shop example\r\n\r\n", 400},
    {"HostTwoPorts", "GET / HTTP/1.1\r\nHost: shop.example:80:80\r\n\r\n", 400},
    {"HostPortNotDigits", "GET / HTTP/1.1\r\nHost: shop.example:x\r\n\r\n", 400},
    {"HostPortTooLarge", "GET / HTTP/1.1\r\nHost: shop.example:65536\r\n\r\n", 400},
    {"HostPortTooLong", "GET / HTTP/1.1\r\nHost: shop.example:000080\r\n\r\n", 400},
    {"HostEmptyLabel", "GET / HTTP/1.1\r\nHost: shop..example\r\n\r\n", 400},
    {"HostTrailingEmptyLabel", "GET / HTTP/1.1\r\nHost: shop.example..\r\n\r\n", 400},
    {"HostOnlyPort", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400},
    {"HostUnclosedLiteral", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
    {"HostEmptyLiteral", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", 400},
    {"HostJunkAfterLiteral", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400},
    {"HostBracketInName", "GET / HTTP/1.1\r\nHost: shop]example\r\n\r\n", 400},
    {"HostNestedLiteral", "GET / HTTP/1.1\r\nHost: [[::1]]\r\n\r\n", 400},
    {"TwoHostsHttp10", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400},
    // Methods and versions.
    {"UnknownMethod", "FOO / HTTP/1.1\r\nHost: a\r\n\r\n", 501},
    {"LowerCaseMethod", "get / HTTP/1.1\r\nHost: a\r\n\r\n", 501},
    {"Http20", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
    {"Http09", "GET /\r\n\r\n", 505},
    {"BadVersion", "GET / HTTP/x.1\r\nHost: a\r\n\r\n", 400},
    {"VersionLiteralTypo", "GET / HTTQ/1.1\r\nHost: a\r\n\r\n", 400},
    {"VersionLiteralGarbage", "GET / HXYZ/1.1\r\nHost: a\r\n\r\n", 400},
    {"TwoSpacesBeforeTarget", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"TwoSpacesBeforeVersion", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"SpaceAfterVersion", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
    {"LeadingSpace", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
};

class BadRequestTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadRequestTest, RejectedWhole) {
  Outcome out = FeedRequest(GetParam().bytes);
  EXPECT_EQ(out.status, GetParam().status) << out.reason;
  EXPECT_EQ(out.completes, 0);
}

TEST_P(BadRequestTest, RejectedByteByByte) {
  Outcome out = FeedRequest(GetParam().bytes, 1);
  EXPECT_EQ(out.status, GetParam().status) << out.reason;
  EXPECT_EQ(out.completes, 0);
}

INSTANTIATE_TEST_SUITE_P(Cases, BadRequestTest, ::testing::ValuesIn(kBadRequests),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------
// Accepted requests and derived fields.

TEST(Http1RequestTest, SimpleGetDerivedFields) {
  std::string in = "GET /a?b=1 HTTP/1.1\r\nHost: Shop.Example:8080\r\nX-Name:  Value  \r\n\r\n";
  for (size_t step : {SIZE_MAX, size_t{1}}) {
    Outcome out = FeedRequest(in, step);
    ASSERT_EQ(out.status, 0) << out.reason;
    ASSERT_EQ(out.requests.size(), 1u);
    const RequestHead& h = out.requests[0];
    EXPECT_EQ(h.method, "GET");
    EXPECT_EQ(h.target, "/a?b=1");
    EXPECT_EQ(h.version_minor, 1);
    EXPECT_EQ(h.host, "shop.example:8080");
    EXPECT_EQ(h.framing, BodyFraming::kNone);
    EXPECT_TRUE(h.keep_alive);
    EXPECT_FALSE(h.expect_continue);
    ASSERT_EQ(h.headers.size(), 2u);
    EXPECT_EQ(h.headers.fields()[1].name, "X-Name");  // case as sent
    EXPECT_EQ(h.headers.fields()[1].value, "Value");  // trimmed
    EXPECT_EQ(out.completes, 1);
    EXPECT_EQ(out.consumed, in.size());
  }
}

TEST(Http1RequestTest, KeepAliveRules) {
  struct {
    std::string bytes;
    bool keep_alive;
  } cases[] = {
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: x\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive, close\r\n\r\n", false},
  };
  for (const auto& c : cases) {
    Outcome out = FeedRequest(c.bytes);
    ASSERT_EQ(out.status, 0) << c.bytes << out.reason;
    ASSERT_EQ(out.requests.size(), 1u);
    EXPECT_EQ(out.requests[0].keep_alive, c.keep_alive) << c.bytes;
  }
}

TEST(Http1RequestTest, ExpectContinue) {
  Outcome out = FeedRequest(Post("Content-Length: 5\r\nExpect: 100-Continue\r\n"));
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_TRUE(out.requests[0].expect_continue);
  EXPECT_EQ(out.completes, 0);  // body not sent yet
  out = FeedRequest("POST / HTTP/1.0\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_FALSE(out.requests[0].expect_continue);  // ignored on HTTP/1.0
}

// Host values shaped as uri-host [":" port] pass (RFC 3986 §3.2.2-3).
TEST(Http1RequestTest, WellShapedHostsAccepted) {
  for (const char* host :
       {"shop.example", "shop.example.", "shop.example:8080", "shop.example:", "127.0.0.1:65535",
        "[::1]", "[::1]:443", "[v1.fe80::a+en1]", "xn--bcher-kva.example", "shop%2Eexample", "a"}) {
    Outcome out = FeedRequest("GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n");
    EXPECT_EQ(out.status, 0) << host << ": " << out.reason;
  }
}

// RFC 9110 §2.5: HTTP/1.2 and later minor versions are read as HTTP/1.1.
TEST(Http1RequestTest, LaterMinorVersionIsReadAsHttp11) {
  Outcome out = FeedRequest("GET / HTTP/1.2\r\nHost: a\r\n\r\n");
  ASSERT_EQ(out.status, 0) << out.reason;
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].version_minor, 1);
  EXPECT_TRUE(out.requests[0].keep_alive);
  EXPECT_EQ(FeedRequest("GET / HTTP/2.0\r\nHost: a\r\n\r\n").status, 505);
}

TEST(Http1RequestTest, Http10WithoutHost) {
  Outcome out = FeedRequest("GET /x HTTP/1.0\r\n\r\n");
  ASSERT_EQ(out.status, 0) << out.reason;
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].version_minor, 0);
  EXPECT_EQ(out.requests[0].host, "");
}

TEST(Http1RequestTest, StandardMethodsAccepted) {
  for (const char* method :
       {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PURGE", "PROPFIND"}) {
    Outcome out = FeedRequest(std::string(method) + " / HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_EQ(out.status, 0) << method << " " << out.reason;
    ASSERT_EQ(out.requests.size(), 1u);
    EXPECT_EQ(out.requests[0].method, method);
  }
}

TEST(Http1RequestTest, TargetForms) {
  struct {
    std::string line;
    std::string host;
    std::string target;
  } cases[] = {
      {"OPTIONS * HTTP/1.1", "a", "*"},
      {"GET http://shop.example/p?q=1 HTTP/1.1", "shop.example", "/p?q=1"},
      {"GET HTTP://SHOP.example/p HTTP/1.1", "shop.EXAMPLE", "/p"},
      {"GET http://shop.example HTTP/1.1", "shop.example", "/"},
      {"GET http://shop.example?x=1 HTTP/1.1", "shop.example", "/?x=1"},
      {"GET https://shop.example:8443/a HTTP/1.1", "shop.example:8443", "/a"},
      // Audit 14: "//x/checkout" is host x to many origins' URL parsers,
      // /x/checkout to the gates: the leading slashes become one.
      {"GET //double/slash HTTP/1.1", "a", "/double/slash"},
      {"GET ///x/checkout?q=// HTTP/1.1", "a", "/x/checkout?q=//"},
      {"GET /\\x/checkout HTTP/1.1", "a", "/x/checkout"},
      {"GET /\\/\\x HTTP/1.1", "a", "/x"},
      {"GET // HTTP/1.1", "a", "/"},
      {"GET //?a=1 HTTP/1.1", "a", "/?a=1"},
      {"GET http://shop.example//x/checkout HTTP/1.1", "shop.example", "/x/checkout"},
      {"GET /a//b HTTP/1.1", "a", "/a//b"},
      {"GET /%63heckout HTTP/1.1", "a", "/%63heckout"},
  };
  for (const auto& c : cases) {
    std::string in = c.line + "\r\nHost: " + c.host + "\r\n\r\n";
    Outcome out = FeedRequest(in);
    ASSERT_EQ(out.status, 0) << c.line << ": " << out.reason;
    ASSERT_EQ(out.requests.size(), 1u);
    EXPECT_EQ(out.requests[0].target, c.target) << c.line;
  }
}

// Audit 12: an HTTP/1.0 absolute-form request without Host (an old monitor)
// was 400; its authority is the host (RFC 9112 §3.2.2) and becomes Host.
TEST(Http1RequestTest, Http10AbsoluteFormWithoutHostTakesItsAuthority) {
  Outcome out = FeedRequest("GET http://Shop.Example:8080/echo?a=1 HTTP/1.0\r\n\r\n");
  ASSERT_EQ(out.status, 0) << out.reason;
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].target, "/echo?a=1");
  EXPECT_EQ(out.requests[0].host, "shop.example:8080");
  ASSERT_NE(out.requests[0].headers.Find("Host"), nullptr);
  EXPECT_EQ(*out.requests[0].headers.Find("Host"), "Shop.Example:8080");
  for (const char* bad :
       {"GET http://u@shop.example/ HTTP/1.0\r\n\r\n", "GET http://shop..example/ HTTP/1.0\r\n\r\n",
        "GET ftp://shop.example/ HTTP/1.0\r\n\r\n", "GET http://shop.example/ HTTP/1.1\r\n\r\n"}) {
    EXPECT_EQ(FeedRequest(bad).status, 400) << bad;
  }
}

TEST(Http1RequestTest, ObsTextInValuesAccepted) {
  Outcome out = FeedRequest(GetWith("X-File: caf\xc3\xa9.pdf\r\nX-Tab: a\tb\r\n"));
  ASSERT_EQ(out.status, 0) << out.reason;
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(*out.requests[0].headers.Find("x-file"), "caf\xc3\xa9.pdf");
  EXPECT_EQ(*out.requests[0].headers.Find("x-tab"), "a\tb");
}

// Case 14: an upgrade request is an ordinary request to the codec (the core
// strips the hop-by-hop fields); the next pipelined request still parses.
TEST(Http1RequestTest, UpgradeRequestIsOrdinary) {
  std::string first =
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
      "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
  std::string post =
      Post("Connection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 2\r\n", "hi");
  std::string in = first + post;
  Recorder rec;
  Http1Parser parser(Kind::kRequest, ParseLimits{}, &rec);
  size_t n = parser.Execute(in.data(), in.size());
  EXPECT_EQ(n, first.size());
  ASSERT_EQ(rec.completes, 1);
  parser.Reset();
  n += parser.Execute(in.data() + n, in.size() - n);
  ASSERT_FALSE(parser.failed()) << parser.error().reason;
  EXPECT_EQ(n, in.size());
  EXPECT_EQ(rec.completes, 2);
  EXPECT_EQ(rec.body, "hi");
}

TEST(Http1RequestTest, LeadingEmptyLineIgnored) {
  Outcome out = FeedRequest("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(out.status, 0) << out.reason;
  EXPECT_EQ(out.completes, 1);
}

TEST(Http1RequestTest, ContentLengthBody) {
  std::string in = Post("Content-Length: 11\r\n", "hello world");
  for (size_t step : {SIZE_MAX, size_t{1}, size_t{3}}) {
    Outcome out = FeedRequest(in, step);
    ASSERT_EQ(out.status, 0) << out.reason;
    ASSERT_EQ(out.requests.size(), 1u);
    EXPECT_EQ(out.requests[0].framing, BodyFraming::kContentLength);
    EXPECT_EQ(out.requests[0].content_length, 11u);
    EXPECT_EQ(out.body, "hello world");
    EXPECT_EQ(out.completes, 1);
    EXPECT_EQ(out.consumed, in.size());
  }
}

TEST(Http1RequestTest, ContentLengthZeroAndMax) {
  Outcome out = FeedRequest(Post("Content-Length: 0\r\n"));
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].framing, BodyFraming::kContentLength);
  EXPECT_EQ(out.requests[0].content_length, 0u);
  EXPECT_EQ(out.completes, 1);
  FeedOptions options;
  options.limits.max_body_bytes = 0;  // no limit
  out = Feed(Kind::kRequest, Post("Content-Length: 9223372036854775807\r\n"), options);
  ASSERT_EQ(out.status, 0) << out.reason;
  EXPECT_EQ(out.requests[0].content_length, 9223372036854775807u);
}

TEST(Http1RequestTest, ChunkedWithTrailersByteByByte) {
  std::string in = Chunked(
      "5;name=\"v\"\r\nhello\r\n"
      "6 ; x\r\n world\r\n"
      "A\r\n0123456789\r\n"
      "0\r\n"
      "Content-Length: 4\r\nHost: evil.example\r\nTransfer-Encoding: chunked\r\n"
      "Authorization: Bearer x\r\n\r\n");
  for (size_t step : {SIZE_MAX, size_t{1}, size_t{2}, size_t{7}}) {
    Outcome out = FeedRequest(in, step);
    ASSERT_EQ(out.status, 0) << "step " << step << ": " << out.reason;
    ASSERT_EQ(out.requests.size(), 1u);
    const RequestHead& h = out.requests[0];
    EXPECT_EQ(h.framing, BodyFraming::kChunked);
    EXPECT_EQ(h.headers.size(), 2u);  // Host, Transfer-Encoding; trailers dropped
    EXPECT_EQ(h.host, "shop.example");
    EXPECT_EQ(out.body, "hello world0123456789");
    EXPECT_EQ(out.completes, 1);
    EXPECT_EQ(out.consumed, in.size());
  }
}

TEST(Http1RequestTest, GetWithBodyConsumedExactly) {
  std::string first = "GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 24\r\n\r\n";
  std::string smuggled = "GET /admin HTTP/1.1\r\n\r\n";  // 24 bytes of body
  ASSERT_EQ(smuggled.size() + 1, 24u);
  std::string in = first + smuggled + "X" + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n";
  Recorder rec;
  Http1Parser parser(Kind::kRequest, ParseLimits{}, &rec);
  size_t n = parser.Execute(in.data(), in.size());
  EXPECT_EQ(n, first.size() + 24);
  EXPECT_EQ(rec.body, smuggled + "X");
  parser.Reset();
  size_t m = parser.Execute(in.data() + n, in.size() - n);
  EXPECT_EQ(n + m, in.size());
  ASSERT_EQ(rec.requests.size(), 2u);
  EXPECT_EQ(rec.requests[1].target, "/b");
}

// Case 11: pipelined requests stay in the caller's buffer until Reset().
TEST(Http1RequestTest, PipelinedRequestsOneAtATime) {
  std::string a = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string b = Post("Transfer-Encoding: chunked\r\n", "3\r\nabc\r\n0\r\n\r\n");
  std::string c = "GET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  std::string in = a + b + c + "GARBAGE";
  for (size_t step : {SIZE_MAX, size_t{1}}) {
    Recorder rec;
    Http1Parser parser(Kind::kRequest, ParseLimits{}, &rec);
    std::string buffer;
    size_t offset = 0;
    std::vector<size_t> message_ends;
    size_t consumed_total = 0;
    while (offset < in.size() || !buffer.empty()) {
      if (offset < in.size()) {
        size_t k = std::min(step, in.size() - offset);
        buffer.append(in, offset, k);
        offset += k;
      }
      int before = rec.completes;
      size_t n = parser.Execute(buffer.data(), buffer.size());
      buffer.erase(0, n);
      consumed_total += n;
      ASSERT_FALSE(parser.failed()) << parser.error().reason;
      if (rec.completes != before) {
        message_ends.push_back(consumed_total);
        // Stopped: nothing more is consumed until Reset().
        EXPECT_EQ(parser.Execute(buffer.data(), buffer.size()), 0u);
        if (message_ends.size() == 3) break;
        parser.Reset();
        EXPECT_TRUE(parser.idle());
      }
    }
    ASSERT_EQ(message_ends.size(), 3u);
    EXPECT_EQ(message_ends[0], a.size());
    EXPECT_EQ(message_ends[1], a.size() + b.size());
    EXPECT_EQ(message_ends[2], a.size() + b.size() + c.size());
    ASSERT_EQ(rec.requests.size(), 3u);
    EXPECT_EQ(rec.requests[0].target, "/one");
    EXPECT_EQ(rec.requests[1].target, "/cart");
    EXPECT_EQ(rec.requests[2].target, "/three");
    EXPECT_FALSE(rec.requests[2].keep_alive);
    EXPECT_EQ(rec.body, "abc");
  }
}

TEST(Http1RequestTest, IdleAndInBody) {
  Recorder rec;
  Http1Parser parser(Kind::kRequest, ParseLimits{}, &rec);
  EXPECT_TRUE(parser.idle());
  EXPECT_FALSE(parser.in_body());
  std::string head = Post("Content-Length: 4\r\n");
  ASSERT_EQ(parser.Execute(head.data(), 3), 3u);
  EXPECT_FALSE(parser.idle());
  EXPECT_FALSE(parser.in_body());
  ASSERT_EQ(parser.Execute(head.data() + 3, head.size() - 3), head.size() - 3);
  EXPECT_TRUE(parser.in_body());
  ASSERT_EQ(parser.Execute("abcd", 4), 4u);
  EXPECT_FALSE(parser.in_body());
  EXPECT_EQ(rec.completes, 1);
  parser.Reset();
  EXPECT_TRUE(parser.idle());
}

TEST(Http1RequestTest, PauseInBodyAndResume) {
  std::string in = Chunked("3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n");
  Recorder rec;
  Http1Parser parser(Kind::kRequest, ParseLimits{}, &rec);
  rec.parser = &parser;
  rec.pause_in_body = true;
  size_t offset = 0;
  int rounds = 0;
  while (rec.completes == 0 && rounds++ < 10) {
    offset += parser.Execute(in.data() + offset, in.size() - offset);
    ASSERT_FALSE(parser.failed()) << parser.error().reason;
    if (rec.completes == 0) {
      EXPECT_EQ(parser.Execute(in.data() + offset, in.size() - offset), 0u);  // still paused
      parser.Resume();
    }
  }
  EXPECT_EQ(rec.completes, 1);
  EXPECT_EQ(rec.body, "abcdef");
  EXPECT_EQ(offset, in.size());
  EXPECT_GE(rounds, 3);
}

TEST(Http1RequestTest, PauseOnLastIdentityByteAndResume) {
  std::string in = Post("Content-Length: 3\r\n", "abc") + "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  Recorder rec;
  Http1Parser parser(Kind::kRequest, ParseLimits{}, &rec);
  rec.parser = &parser;
  rec.pause_in_body = true;
  size_t offset = parser.Execute(in.data(), in.size());
  EXPECT_EQ(rec.body, "abc");
  EXPECT_EQ(rec.completes, 0);
  parser.Resume();
  rec.pause_in_body = false;
  offset += parser.Execute(in.data() + offset, in.size() - offset);
  ASSERT_FALSE(parser.failed()) << parser.error().reason;
  EXPECT_EQ(rec.completes, 1);
  EXPECT_EQ(offset, Post("Content-Length: 3\r\n", "abc").size());
  EXPECT_EQ(rec.body, "abc");
}

TEST(Http1RequestTest, ResetFromBodyCallbackIsSafe) {
  std::string in = Post("Content-Length: 3\r\n", "abc") + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
  Recorder rec;
  Http1Parser parser(Kind::kRequest, ParseLimits{}, &rec);
  rec.parser = &parser;
  rec.reset_in_body = true;
  size_t n = parser.Execute(in.data(), in.size());
  EXPECT_LE(n, in.size());
  EXPECT_TRUE(parser.idle());
  EXPECT_FALSE(parser.failed());
  EXPECT_EQ(rec.completes, 0);
}

// ---------------------------------------------------------------------------
// Limits (case 27 and body limits).

ParseLimits SmallLimits() {
  ParseLimits limits;
  limits.max_request_line = 64;
  limits.max_header_bytes = 128;
  limits.max_headers = 4;
  limits.max_body_bytes = 10;
  return limits;
}

struct LimitCase {
  const char* name;
  std::string bytes;
  int status;  // 0 = accepted
};

std::ostream& operator<<(std::ostream& os, const LimitCase& c) { return os << c.name; }

const LimitCase kLimitCases[] = {
    {"RequestLineAtLimit", "GET /" + std::string(50, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 0},
    {"RequestLineOverLimit", "GET /" + std::string(51, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
    {"TargetFarOverLimit", "GET /" + std::string(5000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
    {"HeaderSectionAtLimit",
     "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(128 - 9 - 5, 'v') + "\r\n\r\n", 0},
    {"HeaderSectionOverLimit",
     "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(128 - 9 - 4, 'v') + "\r\n\r\n", 431},
    {"OneHugeHeader", "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(100000, 'v') + "\r\n\r\n",
     431},
    {"FourHeaders", "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 0},
    {"FiveHeaders", "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431},
    {"DeclaredBodyAtLimit", Post("Content-Length: 10\r\n", "0123456789"), 0},
    {"DeclaredBodyOverLimit", Post("Content-Length: 11\r\n", "0123456789X"), 413},
    {"ChunkedAtLimit", Chunked("5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n"), 0},
    {"ChunkedOverLimit", Chunked("5\r\n01234\r\n6\r\n56789X\r\n0\r\n\r\n"), 413},
    {"ChunkedManySmallOverLimit",
     Chunked(std::string("1\r\nx\r\n") + "1\r\nx\r\n1\r\nx\r\n"
                                         "1\r\nx\r\n1\r\nx\r\n1\r\nx\r\n1\r\nx\r\n1\r\nx\r\n"
                                         "1\r\nx\r\n1\r\nx\r\n1\r\nx\r\n0\r\n\r\n"),
     413},
    {"ChunkDeclaredHuge", Chunked("ffffffff\r\n"), 413},
    {"TrailersTooMany", Chunked("0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"), 431},
    {"TrailersTooLarge", Chunked("0\r\nA: " + std::string(200, 'x') + "\r\n\r\n"), 431},
};

class LimitTest : public ::testing::TestWithParam<LimitCase> {};

TEST_P(LimitTest, Whole) {
  FeedOptions options;
  options.limits = SmallLimits();
  Outcome out = Feed(Kind::kRequest, GetParam().bytes, options);
  EXPECT_EQ(out.status, GetParam().status) << out.reason;
  EXPECT_EQ(out.completes, GetParam().status == 0 ? 1 : 0);
  if (GetParam().status == 413) {
    EXPECT_LE(out.body.size(), 10u);
  }
}

TEST_P(LimitTest, ByteByByte) {
  FeedOptions options;
  options.limits = SmallLimits();
  options.step = 1;
  Outcome out = Feed(Kind::kRequest, GetParam().bytes, options);
  EXPECT_EQ(out.status, GetParam().status) << out.reason;
  EXPECT_EQ(out.completes, GetParam().status == 0 ? 1 : 0);
  if (GetParam().status == 413) {
    EXPECT_LE(out.body.size(), 10u);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, LimitTest, ::testing::ValuesIn(kLimitCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Http1RequestTest, ErrorIsFinal) {
  Recorder rec;
  Http1Parser parser(Kind::kRequest, ParseLimits{}, &rec);
  std::string bad = "GET / HTTP/1.1\r\nFoo : x\r\n\r\n";
  parser.Execute(bad.data(), bad.size());
  ASSERT_TRUE(parser.failed());
  std::string good = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_EQ(parser.Execute(good.data(), good.size()), 0u);
  EXPECT_TRUE(rec.requests.empty());
}

TEST(Http1RequestTest, FinishOnEofOnRequests) {
  Recorder rec;
  Http1Parser parser(Kind::kRequest, ParseLimits{}, &rec);
  EXPECT_FALSE(parser.FinishOnEof());
  EXPECT_FALSE(parser.failed());  // nothing started: a clean close
  std::string part = "GET / HT";
  parser.Execute(part.data(), part.size());
  EXPECT_FALSE(parser.FinishOnEof());
  EXPECT_EQ(parser.error().status, 400);
}

// ---------------------------------------------------------------------------
// Responses.

Outcome FeedResponse(std::string_view bytes, size_t step = SIZE_MAX, bool head_request = false,
                     bool eof = false) {
  FeedOptions options;
  options.step = step;
  options.head_request = head_request;
  options.eof = eof;
  return Feed(Kind::kResponse, bytes, options);
}

const BadCase kBadResponses[] = {
    {"ClAndTe",
     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 502},
    {"TeGzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx", 502},
    {"TeGzipChunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 502},
    {"TeChunkedTwice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
     502},
    {"TeOnHttp10", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 502},
    {"BadChunkSize", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\nhello\r\n0\r\n\r\n",
     502},
    {"ChunkNoCrlf", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXY0\r\n\r\n",
     502},
    {"ChunkSpaceNumber",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 5\r\nhello\r\n0\r\n\r\n", 502},
    {"ChunkSizeTrailingSpace",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", 502},
    {"InvalidCl", "HTTP/1.1 200 OK\r\nContent-Length: 1_0\r\n\r\n", 502},
    {"TwoCl", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 502},
    {"ClList", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n", 502},
    {"Switching",
     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", 502},
    {"StatusTooLow", "HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n", 502},
    {"StatusTooHigh", "HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n", 502},
    {"StatusFourDigits", "HTTP/1.1 0200 OK\r\nContent-Length: 0\r\n\r\n", 502},
    {"Http2", "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", 502},
    {"VersionTypo", "HTTQ/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 502},
    {"TwoSpacesBeforeStatus", "HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n", 502},
    {"ReasonCtl", "HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n", 502},
    {"StatusLineBareCr", "HTTP/1.1 200 OK\rXContent-Length: 0\r\n\r\n", 502},
    {"StatusLineBareLf", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", 502},
    {"ObsFold", "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n", 502},
    {"SpaceBeforeColon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", 502},
    {"ValueNul", "HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n"s, 502},
    {"Garbage", "<html>not http</html>", 502},
};

class BadResponseTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadResponseTest, RejectedWhole) {
  Outcome out = FeedResponse(GetParam().bytes);
  EXPECT_EQ(out.status, GetParam().status) << out.reason;
  EXPECT_EQ(out.completes, 0);
}

TEST_P(BadResponseTest, RejectedByteByByte) {
  Outcome out = FeedResponse(GetParam().bytes, 1);
  EXPECT_EQ(out.status, GetParam().status) << out.reason;
  EXPECT_EQ(out.completes, 0);
}

INSTANTIATE_TEST_SUITE_P(Cases, BadResponseTest, ::testing::ValuesIn(kBadResponses),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Http1ResponseTest, ContentLength) {
  std::string in = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello";
  for (size_t step : {SIZE_MAX, size_t{1}}) {
    Outcome out = FeedResponse(in, step);
    ASSERT_EQ(out.status, 0) << out.reason;
    ASSERT_EQ(out.responses.size(), 1u);
    const ResponseHead& h = out.responses[0];
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.reason, "OK");
    EXPECT_EQ(h.framing, BodyFraming::kContentLength);
    EXPECT_EQ(h.content_length, 5u);
    EXPECT_TRUE(h.keep_alive);
    EXPECT_EQ(out.body, "hello");
    EXPECT_EQ(out.completes, 1);
    EXPECT_EQ(out.consumed, in.size());
  }
}

// Case 15: bytes past Content-Length are left to the caller (who must not
// reuse the connection).
TEST(Http1ResponseTest, MoreBytesThanContentLength) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  std::string in = head + "helloEXTRA BYTES";
  for (size_t step : {SIZE_MAX, size_t{1}}) {
    Outcome out = FeedResponse(in, step);
    ASSERT_EQ(out.status, 0) << out.reason;
    EXPECT_EQ(out.body, "hello");
    EXPECT_EQ(out.completes, 1);
    EXPECT_EQ(out.consumed, head.size() + 5);
  }
}

TEST(Http1ResponseTest, NoBodyStatusesAndHead) {
  struct {
    std::string bytes;
    bool head_request;
  } cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\n\r\n", true},
      {"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", false},
      {"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: \"x\"\r\n\r\n", false},
      {"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", false},
      {"HTTP/1.1 204 No Content\r\n\r\n", false},
  };
  for (const auto& c : cases) {
    std::string in = c.bytes + "HTTP/1.1 200 OK\r\n";  // the next response starts at once
    for (size_t step : {SIZE_MAX, size_t{1}}) {
      Outcome out = FeedResponse(in, step, c.head_request);
      ASSERT_EQ(out.status, 0) << c.bytes << out.reason;
      ASSERT_EQ(out.responses.size(), 1u);
      EXPECT_EQ(out.responses[0].framing, BodyFraming::kNone) << c.bytes;
      EXPECT_TRUE(out.responses[0].keep_alive) << c.bytes;
      EXPECT_EQ(out.completes, 1) << c.bytes;
      EXPECT_EQ(out.body, "");
      EXPECT_EQ(out.consumed, c.bytes.size()) << c.bytes;
    }
  }
}

TEST(Http1ResponseTest, UntilCloseBody) {
  std::string in = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it";
  for (size_t step : {SIZE_MAX, size_t{1}}) {
    Outcome out = FeedResponse(in, step, false, /*eof=*/true);
    ASSERT_EQ(out.status, 0) << out.reason;
    ASSERT_EQ(out.responses.size(), 1u);
    EXPECT_EQ(out.responses[0].framing, BodyFraming::kUntilClose);
    EXPECT_FALSE(out.responses[0].keep_alive);
    EXPECT_EQ(out.body, "all of it");
    EXPECT_EQ(out.completes, 1);
  }
}

TEST(Http1ResponseTest, Http10KeepAlive) {
  Outcome out = FeedResponse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(out.responses.size(), 1u);
  EXPECT_FALSE(out.responses[0].keep_alive);
  out = FeedResponse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(out.responses.size(), 1u);
  EXPECT_TRUE(out.responses[0].keep_alive);
  out = FeedResponse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(out.responses.size(), 1u);
  EXPECT_FALSE(out.responses[0].keep_alive);
}

// Case 16: the origin closes early.
TEST(Http1ResponseTest, TruncatedBodiesAreErrors) {
  for (std::string in : {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"s,
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"s,
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"s,
                         "HTTP/1.1 200 OK\r\nContent-Le"s}) {
    Outcome out = FeedResponse(in, SIZE_MAX, false, /*eof=*/true);
    EXPECT_EQ(out.status, 502) << in;
    EXPECT_EQ(out.completes, 0) << in;
  }
}

TEST(Http1ResponseTest, EofBeforeAnyByte) {
  Recorder rec;
  Http1Parser parser(Kind::kResponse, ParseLimits{}, &rec);
  EXPECT_FALSE(parser.FinishOnEof());
  EXPECT_EQ(parser.error().status, 502);
  EXPECT_TRUE(parser.idle());  // the core may retry an idempotent request
}

TEST(Http1ResponseTest, ChunkedWithTrailers) {
  std::string in =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nWiki\r\n5;ext\r\npedia\r\n0\r\nExpires: never\r\n\r\n";
  for (size_t step : {SIZE_MAX, size_t{1}}) {
    Outcome out = FeedResponse(in, step);
    ASSERT_EQ(out.status, 0) << out.reason;
    ASSERT_EQ(out.responses.size(), 1u);
    EXPECT_EQ(out.responses[0].framing, BodyFraming::kChunked);
    EXPECT_EQ(out.responses[0].headers.size(), 1u);
    EXPECT_EQ(out.body, "Wikipedia");
    EXPECT_EQ(out.completes, 1);
    EXPECT_EQ(out.consumed, in.size());
  }
}

// 1xx interim responses are skipped; the final response is delivered; each
// 103 is reported (OnEarlyHints), the other 1xx are not.
TEST(Http1ResponseTest, InterimResponsesSkipped) {
  std::string in =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 102 Processing\r\nLink: </no.css>\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </b.js>; rel=preload\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  for (size_t step : {SIZE_MAX, size_t{1}, size_t{5}}) {
    Outcome out = FeedResponse(in, step);
    ASSERT_EQ(out.status, 0) << out.reason;
    EXPECT_EQ(out.hints,
              (std::vector<std::string>{"</a.css>; rel=preload", "</b.js>; rel=preload"}));
    ASSERT_EQ(out.responses.size(), 1u);
    EXPECT_EQ(out.responses[0].status, 201);
    EXPECT_EQ(out.body, "ok");
    EXPECT_EQ(out.completes, 1);
    EXPECT_EQ(out.consumed, in.size());
  }
}

TEST(Http1ResponseTest, EmptyReasonAccepted) {
  for (std::string line : {"HTTP/1.1 200\r\n"s, "HTTP/1.1 200 \r\n"s}) {
    Outcome out = FeedResponse(line + "Content-Length: 0\r\n\r\n");
    ASSERT_EQ(out.status, 0) << line << out.reason;
    ASSERT_EQ(out.responses.size(), 1u);
    EXPECT_EQ(out.responses[0].reason, "");
  }
}

TEST(Http1ResponseTest, HeadLimitsAre502) {
  FeedOptions options;
  options.limits = SmallLimits();
  Outcome out = Feed(
      Kind::kResponse,
      "HTTP/1.1 200 OK\r\nX: " + std::string(200, 'v') + "\r\nContent-Length: 0\r\n\r\n", options);
  EXPECT_EQ(out.status, 502) << out.reason;
  out =
      Feed(Kind::kResponse,
           "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nContent-Length: 0\r\n\r\n", options);
  EXPECT_EQ(out.status, 502) << out.reason;
  out = Feed(Kind::kResponse, "HTTP/1.1 200 " + std::string(100, 'r') + "\r\n\r\n", options);
  EXPECT_EQ(out.status, 502) << out.reason;
  // No body limit on responses.
  out = Feed(Kind::kResponse, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789",
             options);
  EXPECT_EQ(out.status, 0) << out.reason;
  EXPECT_EQ(out.completes, 1);
}

TEST(Http1ResponseTest, ResetReusesParserForNextResponse) {
  Recorder rec;
  Http1Parser parser(Kind::kResponse, ParseLimits{}, &rec);
  std::string a = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na";
  std::string b = "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb";
  std::string in = a + b;
  size_t n = parser.Execute(in.data(), in.size());
  EXPECT_EQ(n, a.size());
  parser.Reset();
  parser.ExpectNoBody(true);
  n += parser.Execute(in.data() + n, in.size() - n);
  ASSERT_EQ(rec.responses.size(), 2u);
  EXPECT_EQ(rec.responses[1].status, 404);
  EXPECT_EQ(rec.responses[1].framing, BodyFraming::kNone);  // HEAD response
  EXPECT_EQ(n, in.size() - 1);                              // "b" is not part of a HEAD response
  EXPECT_EQ(rec.body, "a");
}

// ---------------------------------------------------------------------------
// Robustness: every split point gives the same result, and mutated input
// never crashes (run under the sanitizer build in CI).

TEST(Http1RobustnessTest, EverySplitPointSameResult) {
  const std::string kInputs[] = {
      Chunked("5;a=b\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\n"),
      Post("Content-Length: 4\r\nConnection: close\r\n", "body"),
      "GET http://shop.example/a?b HTTP/1.1\r\nHost: shop.example\r\n\r\n",
      Chunked("5\r\nhelloXY0\r\n\r\n"),  // rejected: missing CRLF after data
      GetWith("Foo: a\r\n b\r\n"),       // rejected: obs-fold
  };
  for (const std::string& in : kInputs) {
    Outcome whole = FeedRequest(in);
    for (size_t split = 1; split < in.size(); ++split) {
      Recorder rec;
      Http1Parser parser(Kind::kRequest, ParseLimits{}, &rec);
      std::string buffer = in.substr(0, split);
      size_t n = parser.Execute(buffer.data(), buffer.size());
      buffer.erase(0, n);
      if (!parser.failed() && rec.completes == 0) {
        buffer += in.substr(split);
        parser.Execute(buffer.data(), buffer.size());
      }
      ASSERT_EQ(parser.error().status, whole.status) << in << " split at " << split;
      ASSERT_EQ(rec.completes, whole.completes) << in << " split at " << split;
      if (whole.status == 0) {
        ASSERT_EQ(rec.body, whole.body) << in << " split at " << split;
      }
    }
  }
}

TEST(Http1RobustnessTest, MutatedInputNeverCrashes) {
  const std::string request = Chunked("5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\n");
  const std::string response =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n0\r\n\r\n";
  const char kBytes[] = {'\0', '\r', '\n', ' ', '\t', ':', ';', '0', 'f', 'Z', '\x7f', '\xff'};
  int accepted = 0;
  int rejected = 0;
  for (Kind kind : {Kind::kRequest, Kind::kResponse}) {
    const std::string& base = kind == Kind::kRequest ? request : response;
    for (size_t i = 0; i < base.size(); ++i) {
      for (char b : kBytes) {
        std::string in = base;
        in[i] = b;
        int first_status = -1;
        for (size_t step : {SIZE_MAX, size_t{1}}) {
          FeedOptions options;
          options.step = step;
          options.eof = true;
          Outcome out = Feed(kind, in, options);
          if (out.status != 0) {
            ++rejected;
            EXPECT_EQ(out.completes, 0);
          } else if (out.completes == 1) {
            ++accepted;
          }
          // Whole or byte by byte: the same verdict.
          if (first_status < 0) {
            first_status = out.status;
          } else {
            EXPECT_EQ(out.status, first_status) << "byte " << i << " = " << int(b);
          }
        }
      }
    }
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace tidegate::proxy
