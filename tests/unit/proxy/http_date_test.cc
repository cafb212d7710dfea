// Unit tests of proxy/http_date.h (the Date line a worker adds) and of the
// pieces the stream uses with it: the parser's has_date flag, Date kept
// through a Connection header, and SerializeResponseHead's extra lines.
#include "proxy/http_date.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "proxy/http1_codec.h"
#include "proxy/http_message.h"
#include "tests/unit/proxy/parse_response_head.h"

namespace tidegate::proxy {
namespace {

std::string Formatted(int64_t seconds) {
  char out[HttpDate::kValueSize];
  HttpDate::Format(seconds, out);
  return std::string(out, sizeof out);
}

TEST(HttpDateTest, FormatsImfFixdate) {
  EXPECT_EQ(Formatted(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110 §5.6.7
  EXPECT_EQ(Formatted(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(Formatted(1709164800), "Thu, 29 Feb 2024 00:00:00 GMT");
  EXPECT_EQ(Formatted(1796515199), "Sat, 05 Dec 2026 23:59:59 GMT");
  EXPECT_EQ(Formatted(4102444800), "Fri, 01 Jan 2100 00:00:00 GMT");
}

TEST(HttpDateTest, LineChangesWithTheSecondOnly) {
  HttpDate date;
  std::string first(date.ForSecond(784111777));
  EXPECT_EQ(first, "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
  EXPECT_EQ(std::string(date.ForSecond(784111777)), first);
  EXPECT_EQ(std::string(date.ForSecond(784111778)), "Date: Sun, 06 Nov 1994 08:49:38 GMT\r\n");
}

TEST(HttpDateTest, LineFollowsTheClock) {
  HttpDate date;
  time_t before = time(nullptr);
  std::string line(date.Line());
  time_t after = time(nullptr);
  bool matches = false;
  // The coarse clock may lag the precise one by a tick across a second.
  for (time_t t = before - 1; t <= after; ++t) {
    matches = matches || line == "Date: " + Formatted(t) + "\r\n";
  }
  EXPECT_TRUE(matches) << line;
}

TEST(HttpDateTest, ParserSaysWhetherTheOriginSentDate) {
  EXPECT_FALSE(ParseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").has_date);
  EXPECT_TRUE(
      ParseResponseHead(
          "HTTP/1.1 200 OK\r\ndAtE: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n")
          .has_date);
  // A field whose name merely has four letters is no Date.
  EXPECT_FALSE(
      ParseResponseHead("HTTP/1.1 200 OK\r\nVary: Host\r\nContent-Length: 0\r\n\r\n").has_date);
}

TEST(HttpDateTest, ConnectionCannotRemoveTheOriginsDate) {
  HeaderList headers;
  headers.Add("Connection", "date, x-hop");
  headers.Add("Date", "Sun, 06 Nov 1994 08:49:37 GMT");
  headers.Add("X-Hop", "1");
  RemoveHopByHopAndFramingHeaders(headers);
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers.fields()[0].name, "Date");
}

TEST(HttpDateTest, ExtraLinesGoBeforeTheBlankLine) {
  ResponseHead head;
  head.status = 200;
  head.headers.Add("Content-Length", "0");
  std::string out = "x";  // appended after what is there
  SerializeResponseHead(head, out, "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
  EXPECT_EQ(out,
            "xHTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n");
  out.clear();
  SerializeResponseHead(head, out, {});
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

}  // namespace
}  // namespace tidegate::proxy
