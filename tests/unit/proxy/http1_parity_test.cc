// Unit tests of the HTTP/1.x codec adapter (proxy/http1_codec.h): the
// answers it kept from its http_parser days where llhttp, the parser under
// it now, would answer otherwise by itself. Each case is fed whole, byte by
// byte and in 3-byte pieces; the answer must not depend on the cut.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>

#include "proxy/http1_codec.h"

namespace tidegate::proxy {
namespace {

using Kind = Http1Parser::Kind;

class Sink : public Http1Parser::Callbacks {
 public:
  void OnRequestHead(RequestHead&& head) override { request = std::move(head); }
  void OnResponseHead(ResponseHead&& head) override { response = std::move(head); }
  void OnBody(const char* data, size_t len) override { body.append(data, len); }
  void OnMessageComplete() override { ++completes; }

  RequestHead request;
  ResponseHead response;
  std::string body;
  int completes = 0;
};

struct Result {
  int status = 0;
  std::string reason;
  int completes = 0;
  std::string body;
  RequestHead request;
};

Result Run(Kind kind, std::string_view bytes, size_t step, const ParseLimits& limits) {
  Sink sink;
  Http1Parser parser(kind, limits, &sink);
  std::string buffer;
  size_t offset = 0;
  while (!parser.failed() && sink.completes == 0 && offset < bytes.size()) {
    size_t n = std::min(step, bytes.size() - offset);
    buffer.append(bytes.substr(offset, n));
    offset += n;
    buffer.erase(0, parser.Execute(buffer.data(), buffer.size()));
  }
  return Result{parser.error().status, parser.error().reason, sink.completes, sink.body,
                std::move(sink.request)};
}

// The status for `bytes`, checked to be the same for every way of cutting.
Result Answer(Kind kind, std::string_view bytes, const ParseLimits& limits = {}) {
  Result whole = Run(kind, bytes, SIZE_MAX, limits);
  for (size_t step : {size_t{1}, size_t{3}}) {
    Result cut = Run(kind, bytes, step, limits);
    EXPECT_EQ(cut.status, whole.status) << "step " << step << ": " << cut.reason;
    EXPECT_EQ(cut.completes, whole.completes) << "step " << step;
    EXPECT_EQ(cut.body, whole.body) << "step " << step;
  }
  return whole;
}

int RequestStatus(const std::string& bytes, const ParseLimits& limits = {}) {
  return Answer(Kind::kRequest, bytes, limits).status;
}

TEST(Http1ParityTest, MethodsHttpParserDidNotKnowAre501) {
  // llhttp parses these (HTTP/2 preface, RTSP); http_parser did not.
  for (const char* method :
       {"PRI", "DESCRIBE", "ANNOUNCE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER",
        "SET_PARAMETER", "REDIRECT", "RECORD", "FLUSH", "QUERY"}) {
    EXPECT_EQ(RequestStatus(std::string(method) + " / HTTP/1.1\r\nHost: a\r\n\r\n"), 501) << method;
  }
  EXPECT_EQ(RequestStatus("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 501);
  // A prefix of a method llhttp knows, then a byte that is no token byte:
  // http_parser stopped at the first byte outside its own method names.
  EXPECT_EQ(RequestStatus("PRI\r\n\r\n"), 501);
  EXPECT_EQ(RequestStatus("DES / HTTP/1.1\r\n\r\n"), 501);
  // A prefix of a method both know, then a byte that is no token byte.
  EXPECT_EQ(RequestStatus("POS\r\n\r\n"), 400);
  EXPECT_EQ(RequestStatus("POST\x01/ HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(RequestStatus("M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n"), 400);  // "*" without OPTIONS
  EXPECT_EQ(RequestStatus("PURGE / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
}

TEST(Http1ParityTest, VersionsOtherThan1xAre505) {
  // llhttp alone calls 1.2 a syntax error; it is read as HTTP/1.1 (RFC 9110
  // §2.5: a later minor version is processed as the highest one known).
  EXPECT_EQ(RequestStatus("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 0);
  EXPECT_EQ(RequestStatus("GET / HTTP/1.9\r\n\r\n"), 400);  // as 1.1: Host required
  EXPECT_EQ(RequestStatus("GET / HTTP/3.0\r\nHost: a\r\n\r\n"), 505);
  EXPECT_EQ(RequestStatus("GET / HTTP/12.0\r\nHost: a\r\n\r\n"), 400);
  // Non-strict http_parser read any four bytes after the 'H' as "TTP/".
  EXPECT_EQ(RequestStatus("GET / HTTX/2.0\r\nHost: a\r\n\r\n"), 505);
  EXPECT_EQ(RequestStatus("GET / HTTP.1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(RequestStatus("GET / XTTP/2.0\r\nHost: a\r\n\r\n"), 400);
  // llhttp accepts RTSP/ after GET; http_parser refused it at the 'R'.
  EXPECT_EQ(RequestStatus("GET / RTSP/2.0\r\nHost: a\r\n\r\n"), 400);
}

TEST(Http1ParityTest, FramingFieldsAreJudgedByTheHeadChecksOnly) {
  // llhttp would refuse these itself, at the field, with reasons of its own;
  // the head checks refuse them with theirs.
  Result r =
      Answer(Kind::kRequest,
             "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx");
  EXPECT_EQ(r.status, 400);
  r = Answer(Kind::kRequest, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.reason, "transfer-encoding other than chunked");
  // ... so a limit checked before them still answers first (431, not 400).
  ParseLimits limits;
  limits.max_headers = 3;
  EXPECT_EQ(RequestStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                          "Transfer-Encoding: chunked\r\nA: 1\r\nB: 2\r\n\r\n",
                          limits),
            431);
  // Framing fields in trailers are dropped, as they always were.
  r = Answer(Kind::kRequest,
             "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n"
             "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n");
  EXPECT_EQ(r.status, 0) << r.reason;
  EXPECT_EQ(r.body, "hi");
  // An upgrade request's body is read as a body (no protocol switch).
  r = Answer(Kind::kRequest,
             "POST / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
             "Content-Length: 2\r\n\r\nhi");
  EXPECT_EQ(r.status, 0) << r.reason;
  EXPECT_EQ(r.completes, 1);
  EXPECT_EQ(r.body, "hi");
}

TEST(Http1ParityTest, ChunkExtensionsAsRfc9112AllowsThem) {
  // llhttp 8.1 refuses BWS around ';' and '=' in chunk extensions.
  for (const char* line : {"2 ; x", "2; x", "2;x = 1", "2;x=a b", "2 \t;x", "2;\xff"}) {
    Result r =
        Answer(Kind::kRequest,
               std::string("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") +
                   line + "\r\nhi\r\n0\r\n\r\n");
    EXPECT_EQ(r.status, 0) << line << ": " << r.reason;
    EXPECT_EQ(r.body, "hi") << line;
  }
  // Still refused: a size cut by a space, a tab right after the size (as
  // http_parser did), an overflowing size, a bare LF; and whitespace after
  // the size with no extension (RFC 9112 §7.1 allows BWS only before ';').
  for (const char* line : {"2 2", "2\t;x", "10000000000000002", "2;x\n", "2 ", "2  "}) {
    EXPECT_EQ(RequestStatus(std::string("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
                                        "chunked\r\n\r\n") +
                            line + "\r\nhi\r\n0\r\n\r\n"),
              400)
        << line;
  }
}

TEST(Http1ParityTest, EmptyFieldNameIs400) {
  EXPECT_EQ(RequestStatus("GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n"), 400);
  EXPECT_EQ(Answer(Kind::kResponse, "HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 0\r\n\r\n").status,
            502);
}

TEST(Http1ParityTest, TargetsHttpParserRefusedAreRefusedAtTheTarget) {
  // llhttp accepts "ftp://" alone; refused at the target, before the
  // version is looked at (400, not 505).
  EXPECT_EQ(RequestStatus("GET ftp:// HTTP/2.0\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(RequestStatus("GET http://a@@b/ HTTP/2.0\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(RequestStatus("GET http://a@b@c/ HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
  // Absolute-form, split by the adapter's own parser now.
  Result r =
      Answer(Kind::kRequest, "GET HTTP://A.test:8080?q=1 HTTP/1.1\r\nHost: a.test:8080\r\n\r\n");
  EXPECT_EQ(r.status, 0) << r.reason;
  EXPECT_EQ(r.request.target, "/?q=1");
  r = Answer(Kind::kRequest, "GET http://[::1]:80/p?x HTTP/1.1\r\nHost: [::1]:80\r\n\r\n");
  EXPECT_EQ(r.status, 0) << r.reason;
  EXPECT_EQ(r.request.target, "/p?x");
  for (const char* target : {"http://a.test:99999/", "http://a.test:/", "http://u@a.test/",
                             "http:///x", "http://a_b.test/", "ftp://a.test/"}) {
    r = Answer(Kind::kRequest, std::string("GET ") + target + " HTTP/1.1\r\nHost: a.test\r\n\r\n");
    EXPECT_EQ(r.status, 400) << target;
  }
  r = Answer(Kind::kRequest, "GET http://a_b.test/ HTTP/1.1\r\nHost: a_b.test\r\n\r\n");
  EXPECT_EQ(r.status, 0) << r.reason;  // '_' passes in names, as it did
  EXPECT_EQ(r.request.target, "/");
}

TEST(Http1ParityTest, HeadsOver80KiBAreRefusedAsBefore) {
  ParseLimits big;
  big.max_request_line = 1 << 20;
  big.max_header_bytes = 1 << 20;
  big.max_headers = 1000;
  const std::string target(82 * 1024, 'a');
  EXPECT_EQ(RequestStatus("GET /" + target + " HTTP/1.1\r\nHost: a\r\n\r\n", big), 414);
  std::string fields;  // 100 fields of about 900 bytes, and the first 70 of them
  std::string fewer;
  for (int i = 0; i < 100; ++i) {
    fields += "X-" + std::to_string(i) + ": " + std::string(900, 'v') + "\r\n";
    if (i == 69) fewer = fields;
  }
  EXPECT_EQ(RequestStatus("GET / HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n", big), 431);
  EXPECT_EQ(RequestStatus("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "2\r\nhi\r\n0\r\n" +
                              fields + "\r\n",
                          big),
            431);
  // Under 80 KiB: fine.
  EXPECT_EQ(RequestStatus("GET / HTTP/1.1\r\nHost: a\r\n" + fewer + "\r\n", big), 0);
}

}  // namespace
}  // namespace tidegate::proxy
