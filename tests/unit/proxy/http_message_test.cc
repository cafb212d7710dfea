// Unit tests of proxy/http_message.h: header list, token helpers, hop-by-hop
// removal and head serialization (round trip through the codec).
#include "proxy/http_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/http1_codec.h"

namespace tidegate::proxy {
namespace {

std::vector<std::string> Names(const HeaderList& headers) {
  std::vector<std::string> names;
  for (const Header& h : headers.fields()) names.push_back(h.name);
  return names;
}

TEST(EqualsIgnoreCaseTest, Basics) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Length", "content-length"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("Host", "Hosts"));
  EXPECT_FALSE(EqualsIgnoreCase("a-b", "a_b"));
  EXPECT_FALSE(EqualsIgnoreCase("\xc3\xa9", "\xc3\x89"));  // ASCII only
  EXPECT_TRUE(EqualsIgnoreCase("[]^_`", "[]^_`"));
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));
}

TEST(HasTokenTest, Lists) {
  EXPECT_TRUE(HasToken("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(HasToken("close", "CLOSE"));
  EXPECT_TRUE(HasToken(" \tclose\t ", "close"));
  EXPECT_TRUE(HasToken("a,,close,", "close"));
  EXPECT_FALSE(HasToken("closed", "close"));
  EXPECT_FALSE(HasToken("xclose, keep-alive", "close"));
  EXPECT_FALSE(HasToken("", "close"));
  EXPECT_FALSE(HasToken("a b", "a"));
}

TEST(IsCorsPreflightTest, OptionsWithOriginAndRequestMethodOnly) {
  RequestHead head;
  head.method = "OPTIONS";
  head.target = "/api/cart";
  EXPECT_FALSE(IsCorsPreflight(head)) << "a plain OPTIONS";
  head.headers.Add("origin", "https://app.shop.example");
  EXPECT_FALSE(IsCorsPreflight(head)) << "Origin alone: a plain OPTIONS";
  head.headers.Add("Access-Control-Request-Method", " \t");
  EXPECT_FALSE(IsCorsPreflight(head)) << "an empty requested method";
  head.headers.Set("access-control-request-method", "POST");
  EXPECT_TRUE(IsCorsPreflight(head));
  head.method = "GET";
  EXPECT_FALSE(IsCorsPreflight(head));
  head.method = "options";  // methods are case-sensitive (RFC 9110 §9.1)
  EXPECT_FALSE(IsCorsPreflight(head));
  head.method = "OPTIONS";
  head.headers.Remove("Origin");
  EXPECT_FALSE(IsCorsPreflight(head)) << "no Origin: not a browser's preflight";
}

TEST(HeaderListTest, AddFindCountRemoveSet) {
  HeaderList h;
  h.Add("Host", "a");
  h.Add("Set-Cookie", "x=1");
  h.Add("set-cookie", "y=2");
  h.Add("Accept", "*/*");
  ASSERT_NE(h.Find("SET-COOKIE"), nullptr);
  EXPECT_EQ(*h.Find("SET-COOKIE"), "x=1");
  EXPECT_EQ(h.Find("Missing"), nullptr);
  EXPECT_EQ(h.Count("set-cookie"), 2u);
  EXPECT_EQ(h.Count("Nope"), 0u);

  h.Set("SET-COOKIE", "z=3");  // replaces all, keeps the first position
  EXPECT_EQ(h.Count("set-cookie"), 1u);
  EXPECT_EQ(Names(h), (std::vector<std::string>{"Host", "Set-Cookie", "Accept"}));
  EXPECT_EQ(*h.Find("set-cookie"), "z=3");

  h.Set("X-New", "v");  // appended when absent
  EXPECT_EQ(h.fields().back().name, "X-New");
  EXPECT_EQ(h.Remove("host"), 1u);
  EXPECT_EQ(h.Remove("host"), 0u);
  EXPECT_EQ(Names(h), (std::vector<std::string>{"Set-Cookie", "Accept", "X-New"}));
  h.clear();
  EXPECT_EQ(h.size(), 0u);
}

TEST(RemoveHopByHopTest, FixedSetAndConnectionTokens) {
  HeaderList h;
  h.Add("Host", "shop.example");
  h.Add("Connection", "keep-alive, X-Secret, Upgrade");
  h.Add("Keep-Alive", "timeout=5");
  h.Add("Proxy-Connection", "keep-alive");
  h.Add("TE", "trailers");
  h.Add("Trailer", "Expires");
  h.Add("Upgrade", "h2c");
  h.Add("Proxy-Authenticate", "Basic");
  h.Add("Proxy-Authorization", "Basic Zm9vOmJhcg==");
  h.Add("x-secret", "1");
  h.Add("Transfer-Encoding", "chunked");
  h.Add("Content-Length", "5");
  h.Add("Authorization", "Bearer t");
  h.Add("Cookie", "a=b");
  RemoveHopByHopHeaders(h);
  EXPECT_EQ(Names(h), (std::vector<std::string>{"Host", "Transfer-Encoding", "Content-Length",
                                                "Authorization", "Cookie"}));
}

TEST(RemoveHopByHopTest, ConnectionCannotRemoveFramingOrHost) {
  HeaderList h;
  h.Add("Host", "a");
  h.Add("Content-Length", "5");
  h.Add("Connection", "Content-Length, host, transfer-encoding, close");
  h.Add("Transfer-Encoding", "chunked");
  RemoveHopByHopHeaders(h);
  EXPECT_EQ(Names(h), (std::vector<std::string>{"Host", "Content-Length", "Transfer-Encoding"}));
}

TEST(RemoveHopByHopTest, ConnectionCannotRemoveForwardingOrCredentials) {
  HeaderList h;
  h.Add("Connection",
        "X-Forwarded-For, x-forwarded-proto, X-FORWARDED-HOST, X-Forwarded-Port, "
        "X-Forwarded-Ssl, Forwarded, X-Real-IP, cookie, Authorization, X-Other");
  h.Add("X-Forwarded-For", "203.0.113.7");
  h.Add("X-Forwarded-Proto", "https");
  h.Add("X-Forwarded-Host", "shop.example");
  h.Add("X-Forwarded-Port", "443");
  h.Add("X-Forwarded-Ssl", "on");
  h.Add("Forwarded", "for=203.0.113.7");
  h.Add("X-Real-IP", "203.0.113.7");
  h.Add("Cookie", "session=1");
  h.Add("Authorization", "Bearer t");
  h.Add("X-Other", "gone");
  h.Add("X-Forwarded", "not a prefix match, removable");
  h.Add("Connection", "X-Forwarded");
  RemoveHopByHopHeaders(h);
  EXPECT_EQ(Names(h),
            (std::vector<std::string>{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
                                      "X-Forwarded-Port", "X-Forwarded-Ssl", "Forwarded",
                                      "X-Real-IP", "Cookie", "Authorization"}));
}

TEST(RemoveHopByHopTest, SeveralConnectionFieldsAndNothingToDo) {
  HeaderList h;
  h.Add("Connection", "X-A");
  h.Add("X-A", "1");
  h.Add("Connection", "X-B");
  h.Add("X-B", "2");
  h.Add("X-C", "3");
  RemoveHopByHopHeaders(h);
  EXPECT_EQ(Names(h), (std::vector<std::string>{"X-C"}));
  RemoveHopByHopHeaders(h);
  EXPECT_EQ(Names(h), (std::vector<std::string>{"X-C"}));
}

// One pass for the hop-by-hop and the framing fields of a response the core
// frames itself: what stays keeps its order, Connection still removes what
// it names, and the protected fields are kept by Connection but the framing
// ones go anyway.
TEST(RemoveHopByHopTest, FramingFieldsGoInTheSamePass) {
  HeaderList h;
  h.Add("Server", "nginx");
  h.Add("Date", "Sat, 05 Dec 2026 05:40:00 GMT");
  h.Add("Content-Type", "text/html");
  h.Add("Content-Length", "1024");
  h.Add("Last-Modified", "Sat, 05 Dec 2026 04:00:00 GMT");
  h.Add("Connection", "keep-alive, X-Internal, Cookie");
  h.Add("transfer-encoding", "chunked");
  h.Add("ETag", "\"abc\"");
  h.Add("X-Internal", "1");
  h.Add("Set-Cookie", "a=b");
  h.Add("Cookie", "kept: protected");
  h.Add("Accept-Ranges", "bytes");
  RemoveHopByHopAndFramingHeaders(h);
  EXPECT_EQ(Names(h), (std::vector<std::string>{"Server", "Date", "Content-Type", "Last-Modified",
                                                "ETag", "Set-Cookie", "Cookie", "Accept-Ranges"}));
  EXPECT_EQ(*h.Find("etag"), "\"abc\"");
  EXPECT_EQ(*h.Find("Date"), "Sat, 05 Dec 2026 05:40:00 GMT");
}

TEST(SerializeTest, RequestHead) {
  RequestHead head;
  head.method = "POST";
  head.target = "/cart?id=1";
  head.version_minor = 0;  // always forwarded as HTTP/1.1
  head.headers.Add("Host", "shop.example");
  head.headers.Add("Content-Length", "3");
  std::string out = "prefix|";
  SerializeRequestHead(head, out);
  EXPECT_EQ(out,
            "prefix|POST /cart?id=1 HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 3\r\n\r\n");
}

TEST(SerializeTest, ResponseHead) {
  ResponseHead head;
  head.status = 404;
  head.reason = "Nope";
  head.headers.Add("Content-Length", "0");
  std::string out;
  SerializeResponseHead(head, out);
  EXPECT_EQ(out, "HTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n");
  head.reason.clear();  // locally built replies get the standard phrase
  out.clear();
  SerializeResponseHead(head, out);
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  head.status = 299;
  out.clear();
  SerializeResponseHead(head, out);
  EXPECT_EQ(out, "HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n");
}

// The two-step form (size, then bytes at the caller's memory) writes exactly
// what SerializeResponseHead appends.
TEST(SerializeTest, ResponseHeadSizeAndWriteAgree) {
  ResponseHead head;
  head.status = 503;
  head.headers.Add("Retry-After", "5");
  head.headers.Add("Set-Cookie", std::string(300, 'c'));
  for (std::string reason : {"", "Busy"}) {
    for (std::string_view extra : {std::string_view(), std::string_view("Date: x\r\n")}) {
      head.reason = reason;
      std::string expected;
      SerializeResponseHead(head, expected, extra);
      std::string out(ResponseHeadSize(head, extra), '?');
      char* end = WriteResponseHead(head, extra, out.data());
      EXPECT_EQ(static_cast<size_t>(end - out.data()), out.size());
      EXPECT_EQ(out, expected);
    }
  }
}

class Collect : public Http1Parser::Callbacks {
 public:
  void OnRequestHead(RequestHead&& h) override { request = std::move(h); }
  void OnResponseHead(ResponseHead&& h) override { response = std::move(h); }
  void OnBody(const char*, size_t) override {}
  void OnMessageComplete() override { complete = true; }
  RequestHead request;
  ResponseHead response;
  bool complete = false;
};

TEST(SerializeTest, RequestRoundTrip) {
  std::string in =
      "PUT /a/b?c=d HTTP/1.1\r\nHost: Shop.Example\r\nX-Mixed-Case: Some Value\r\n"
      "Cookie: a=1; b=2\r\nContent-Length: 0\r\n\r\n";
  Collect c;
  Http1Parser parser(Http1Parser::Kind::kRequest, ParseLimits{}, &c);
  ASSERT_EQ(parser.Execute(in.data(), in.size()), in.size());
  ASSERT_TRUE(c.complete);
  std::string out;
  SerializeRequestHead(c.request, out);
  EXPECT_EQ(out, in);
}

TEST(SerializeTest, ResponseRoundTrip) {
  std::string in =
      "HTTP/1.1 200 Fine Thanks\r\nContent-Type: text/html; charset=utf-8\r\n"
      "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n";
  Collect c;
  Http1Parser parser(Http1Parser::Kind::kResponse, ParseLimits{}, &c);
  ASSERT_EQ(parser.Execute(in.data(), in.size()), in.size());
  ASSERT_TRUE(c.complete);
  std::string out;
  SerializeResponseHead(c.response, out);
  EXPECT_EQ(out, in);
}

}  // namespace
}  // namespace tidegate::proxy

namespace tidegate::proxy {
namespace {

// Names and values of every length from 0 to 40 (the short copies are
// split at 4, 8, 16 and 32 bytes) come out as a plain concatenation.
TEST(SerializeTest, FieldsOfEveryShortLengthAreCopiedExactly) {
  for (size_t n = 0; n <= 40; ++n) {
    std::string name = "X" + std::string(n, 'n');
    std::string value;
    for (size_t i = 0; i < n; ++i) value += static_cast<char>('a' + i % 26);
    RequestHead request;
    request.method = std::string(n % 9 + 1, 'M');
    request.target = "/" + value;
    request.headers.Add(name, value);
    std::string out = "|";
    SerializeRequestHead(request, out);
    EXPECT_EQ(out, "|" + request.method + " /" + value + " HTTP/1.1\r\n" + name + ": " + value +
                       "\r\n\r\n");
    ResponseHead response;
    response.status = 299;  // no standard phrase: an empty reason stays empty
    response.reason = value;
    response.headers.Add(name, value);
    out.clear();
    SerializeResponseHead(response, out);
    EXPECT_EQ(out, "HTTP/1.1 299 " + value + "\r\n" + name + ": " + value + "\r\n\r\n");
  }
}

TEST(HeaderListTest, AppendAddsLikeAddAndRemoveKeepsOrder) {
  HeaderList h;
  h.Append("X-Forwarded-Proto", "https");
  h.Add("Via", "1.1 a");
  h.Append("via", "1.1 b");
  h.Append("Empty", "");
  EXPECT_EQ(Names(h), (std::vector<std::string>{"X-Forwarded-Proto", "Via", "via", "Empty"}));
  EXPECT_EQ(*h.Find("x-forwarded-proto"), "https");
  EXPECT_EQ(h.Remove("VIA"), 2u);
  EXPECT_EQ(Names(h), (std::vector<std::string>{"X-Forwarded-Proto", "Empty"}));
  EXPECT_EQ(h.Remove("Missing"), 0u);
  EXPECT_EQ(Names(h), (std::vector<std::string>{"X-Forwarded-Proto", "Empty"}));
}

// A cleared head equals a new one in every member, and keeps its storage.
TEST(HeaderListTest, ClearHeadKeepingStorageGivesADefaultHead) {
  RequestHead request;
  request.method = "POST";
  request.target = std::string(100, 't');
  request.version_minor = 0;
  request.headers.Add("Host", "a");
  request.framing = BodyFraming::kChunked;
  request.content_length = 5;
  request.keep_alive = false;
  request.expect_continue = true;
  request.host = "a";
  ClearHeadKeepingStorage(request);
  const RequestHead fresh_request;
  EXPECT_EQ(request.method, fresh_request.method);
  EXPECT_EQ(request.target, fresh_request.target);
  EXPECT_EQ(request.version_minor, fresh_request.version_minor);
  EXPECT_EQ(request.headers.size(), 0u);
  EXPECT_GE(request.headers.fields().capacity(), 1u);
  EXPECT_GE(request.target.capacity(), 100u);
  EXPECT_EQ(request.framing, fresh_request.framing);
  EXPECT_EQ(request.content_length, fresh_request.content_length);
  EXPECT_EQ(request.keep_alive, fresh_request.keep_alive);
  EXPECT_EQ(request.expect_continue, fresh_request.expect_continue);
  EXPECT_EQ(request.host, fresh_request.host);

  ResponseHead response;
  response.status = 200;
  response.reason = "OK";
  response.version_minor = 0;
  response.headers.Add("Date", "x");
  response.framing = BodyFraming::kUntilClose;
  response.content_length = 9;
  response.keep_alive = false;
  response.has_date = true;
  ClearHeadKeepingStorage(response);
  const ResponseHead fresh_response;
  EXPECT_EQ(response.status, fresh_response.status);
  EXPECT_EQ(response.reason, fresh_response.reason);
  EXPECT_EQ(response.version_minor, fresh_response.version_minor);
  EXPECT_EQ(response.headers.size(), 0u);
  EXPECT_EQ(response.framing, fresh_response.framing);
  EXPECT_EQ(response.content_length, fresh_response.content_length);
  EXPECT_EQ(response.keep_alive, fresh_response.keep_alive);
  EXPECT_EQ(response.has_date, fresh_response.has_date);
}

// A Connection token naming a hop-by-hop field or a framing field needs no
// search of its own: the result is the same as naming any other field.
TEST(RemoveHopByHopTest, ConnectionTokensThatAreHopByHopOrFraming) {
  HeaderList h;
  h.Add("Connection", "Keep-Alive, TE, content-length, X-Gone, close");
  h.Add("Keep-Alive", "timeout=5");
  h.Add("Content-Length", "3");
  h.Add("X-Gone", "1");
  h.Add("TE", "trailers");
  h.Add("X-Kept", "2");
  HeaderList copy = h;
  RemoveHopByHopHeaders(h);
  EXPECT_EQ(Names(h), (std::vector<std::string>{"Content-Length", "X-Kept"}));
  RemoveHopByHopAndFramingHeaders(copy);
  EXPECT_EQ(Names(copy), (std::vector<std::string>{"X-Kept"}));
}

}  // namespace
}  // namespace tidegate::proxy

namespace tidegate::proxy {
namespace {

// The spare pool is per thread and outlives a test: when the whole binary
// runs in one process, earlier tests may have filled it to kMaxSpare, and a
// test counting what clear() gives back starts from an empty pool.
void EmptySparePool() {
  while (SpareStringCount() > 0) TakeSpareString();
}

// Storage reuse: fields of many messages of different sizes, written
// through every path that takes spare strings, read back exactly as built.
// A reuse that kept a byte of an earlier field (a stale prefix, a value not
// cleared) or lost one fails here.
TEST(HeaderListStorageTest, ManyMessagesOfDifferentSizesReadBackExactly) {
  HeaderList h;
  HeaderList other;  // a second list on the thread: the pool is shared
  uint32_t seed = 12345;
  auto next = [&seed](uint32_t bound) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % bound;
  };
  for (int message = 0; message < 300; ++message) {
    HeaderList& list = message % 3 == 2 ? other : h;
    std::vector<std::pair<std::string, std::string>> want;
    size_t fields = 1 + next(12);
    for (size_t i = 0; i < fields; ++i) {
      std::string name = "N" + std::to_string(message) + "-" + std::to_string(i) + "-" +
                         std::string(next(40), static_cast<char>('a' + i % 26));
      std::string value(next(120), static_cast<char>('A' + (message + i) % 26));
      switch (next(4)) {
        case 0:
          list.Append(name, value);
          break;
        case 1:
          list.Add(name, value);  // strings moved in
          break;
        case 2: {  // a parser's pieces: the name in two, the value in three
          list.AppendEmpty();
          list.ExtendLastName(std::string_view(name).substr(0, name.size() / 2));
          list.ExtendLastName(std::string_view(name).substr(name.size() / 2));
          std::string_view v = value;
          list.ExtendLastValue(v.substr(0, v.size() / 3));
          list.ExtendLastValue(v.substr(v.size() / 3, v.size() / 3));
          list.ExtendLastValue(v.substr(2 * (v.size() / 3)));
          break;
        }
        default:
          list.Set(name, value);  // a new name: appended
          break;
      }
      want.emplace_back(name, value);
    }
    if (next(3) == 0 && want.size() > 1) {  // a removal in the middle
      std::string gone = want[want.size() / 2].first;
      EXPECT_EQ(list.Remove(gone), 1u);
      want.erase(want.begin() + static_cast<std::ptrdiff_t>(want.size() / 2));
    }
    ASSERT_EQ(list.size(), want.size()) << "message " << message;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(list.fields()[i].name, want[i].first) << "message " << message << " field " << i;
      EXPECT_EQ(list.fields()[i].value, want[i].second) << "message " << message << " field " << i;
    }
    EXPECT_LE(SpareStringCount(), HeaderList::kMaxSpare);
    list.clear();
  }
}

// A reused string shows nothing of the field it held before: an empty value
// from TakeSpareString() or a parser's new field is empty,
// though its storage is the previous message's secret-bearing one.
TEST(HeaderListStorageTest, ReusedStorageHoldsNothingOfThePreviousMessage) {
  EmptySparePool();
  HeaderList h;
  const std::string secret = "tg_pass_shop=SECRET-SECRET-SECRET-SECRET-SECRET";
  h.Append("Set-Cookie", secret);
  const char* secret_storage = h.fields()[0].value.data();
  size_t before = SpareStringCount();
  h.clear();
  EXPECT_EQ(SpareStringCount(), before + 1);
  std::string value = TakeSpareString();  // as a ticket's Set-Cookie is built
  EXPECT_EQ(value.data(), secret_storage) << "the storage is reused (no allocation)";
  EXPECT_EQ(value, "");
  value += "a=b";
  h.Add("Set-Cookie", std::move(value));
  EXPECT_EQ(h.fields()[0].value, "a=b");
  h.clear();
  h.AppendEmpty();
  h.ExtendLastName("Date");
  h.ExtendLastValue("Sat, 05 Dec 2026 ");  // longer than inline: takes the spare
  h.ExtendLastValue("16:00:00 GMT");
  EXPECT_EQ(h.fields()[0].value, "Sat, 05 Dec 2026 16:00:00 GMT");
  EXPECT_EQ(h.fields()[0].value.data(), secret_storage);
  EXPECT_EQ(h.fields()[0].value.find("SECRET"), std::string::npos);
  h.Remove("Date");
  std::string taken = TakeSpareString();
  EXPECT_EQ(taken.data(), secret_storage);
  EXPECT_EQ(taken, "");
}

// Steady state: the same long fields message after message use the same
// buffers (no allocation per message), through clear(), Remove() and the
// hop-by-hop removal: the number of buffers the thread holds stays that of
// one message (without reuse each message would add its five long strings
// to the pool until it is full).
TEST(HeaderListStorageTest, LongFieldsReuseTheirBuffersAcrossMessages) {
  EmptySparePool();
  HeaderList h;
  size_t base = SpareStringCount();
  for (int message = 0; message < 8; ++message) {
    h.Append("Date", "Sat, 05 Dec 2026 16:00:00 GMT");
    h.Append("X-Forwarded-Proto", "https");
    h.Append("Proxy-Authenticate", "Basic realm=\"an old proxy\"");
    h.Append("Last-Modified", "Fri, 04 Dec 2026 10:00:00 GMT");
    RemoveHopByHopHeaders(h);  // Proxy-Authenticate's two strings are kept
    EXPECT_EQ(h.Remove("Last-Modified"), 1u);
    h.Append("Last-Modified", "Fri, 04 Dec 2026 10:00:01 GMT");
    h.Set("X-Forwarded-Proto", "http");  // in place: the long name stays
    EXPECT_LE(SpareStringCount(), base + 2) << "message " << message;
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h.fields()[0].value, "Sat, 05 Dec 2026 16:00:00 GMT");
    EXPECT_EQ(h.fields()[1].name, "X-Forwarded-Proto");
    EXPECT_EQ(h.fields()[1].value, "http");
    EXPECT_EQ(*h.Find("last-modified"), "Fri, 04 Dec 2026 10:00:01 GMT");
    h.clear();
    EXPECT_GE(SpareStringCount(), base + 3) << "Date, X-Forwarded-Proto, Last-Modified kept";
    EXPECT_LE(SpareStringCount(), base + 5) << "message " << message << ": buffers were not reused";
  }
}

// A head taken from a parser hands the taker's field vector back, empty;
// the taker's long strings go to the thread's pool, the taker gets the
// parser's fields.
TEST(HeaderListStorageTest, TakeHeadReturningStorageReturnsTheVector) {
  EmptySparePool();
  ResponseHead stream_head;
  stream_head.headers.mutable_fields().reserve(8);
  stream_head.headers.Append("Last-Modified", "Fri, 04 Dec 2026 10:00:00 GMT");
  const Header* vector = stream_head.headers.fields().data();
  stream_head.status = 200;
  ResponseHead parsed;
  parsed.status = 404;
  parsed.headers.Append("Date", "Sat, 05 Dec 2026 16:00:00 GMT");
  size_t before = SpareStringCount();
  TakeHeadReturningStorage(stream_head, std::move(parsed));
  EXPECT_EQ(stream_head.status, 404);
  ASSERT_EQ(stream_head.headers.size(), 1u);
  EXPECT_EQ(stream_head.headers.fields()[0].name, "Date");
  EXPECT_EQ(parsed.headers.size(), 0u);
  EXPECT_EQ(parsed.headers.fields().data(), vector) << "the taker's vector, for the next message";
  EXPECT_EQ(SpareStringCount(), before + 1) << "the taker's Last-Modified value, for reuse";
}

}  // namespace
}  // namespace tidegate::proxy
