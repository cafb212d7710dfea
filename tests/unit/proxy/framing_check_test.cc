// FramingCheck (proxy/http1_validate.h): the head's line rules give the
// same answer whether a head arrives in one piece (sixteen-byte scans, the
// fast loop over plain field lines) or cut anywhere (the byte-wise and
// partial-line paths).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http1_validate.h"

namespace tidegate::proxy::http1 {
namespace {

using Result = FramingCheck::Result;

constexpr uint32_t kStartLineMax = 8192;

struct Outcome {
  Result result = Result::kOk;
  bool head_done = false;
  uint32_t start_line_length = 0;
  std::string prefix;
  std::string suffix;
  // After an error only the error is compared: how much of a refused
  // start line was recorded depends on where the pieces were cut.
  bool operator==(const Outcome& o) const {
    if (result != Result::kOk || o.result != Result::kOk) return result == o.result;
    return head_done == o.head_done && start_line_length == o.start_line_length &&
           prefix == o.prefix && suffix == o.suffix;
  }
};

// Feeds `text` in pieces ending at `cuts` (ascending), then the rest.
Outcome Feed(std::string_view text, const std::vector<size_t>& cuts, uint32_t max_header_bytes,
             bool chunked = false) {
  FramingCheck check;
  check.Reset(kStartLineMax, max_header_bytes);
  check.SetChunkedBody(chunked);
  Outcome out;
  size_t at = 0;
  auto piece = [&](size_t end) {
    if (out.result != Result::kOk || end <= at) return;
    // A copy of exactly the piece: a read past its end is caught by ASan.
    std::string bytes(text.substr(at, end - at));
    out.result = check.Feed(bytes.data(), bytes.size());
    at = end;
  };
  for (size_t cut : cuts) piece(cut);
  piece(text.size());
  out.head_done = check.head_done();
  out.start_line_length = check.start_line_length();
  out.prefix = std::string(check.start_line_prefix());
  out.suffix = std::string(check.start_line_suffix());
  return out;
}

Outcome Whole(std::string_view text, uint32_t max_header_bytes = 65536) {
  return Feed(text, {}, max_header_bytes);
}

// Every single cut, and one byte at a time, answer as the whole piece does.
void ExpectSameWhereverCut(std::string_view text, uint32_t max_header_bytes = 65536) {
  const Outcome whole = Whole(text, max_header_bytes);
  for (size_t cut = 1; cut < text.size(); ++cut) {
    EXPECT_EQ(Feed(text, {cut}, max_header_bytes), whole) << "cut at " << cut << " of " << text;
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < text.size(); ++i) every.push_back(i);
  EXPECT_EQ(Feed(text, every, max_header_bytes), whole) << "byte by byte: " << text;
}

constexpr std::string_view kResponseHead =
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 05 Dec 2026 13:23:18 GMT\r\n"
    "Content-Type: text/html\r\nContent-Length: 1024\r\n"
    "Last-Modified: Sat, 05 Dec 2026 13:23:15 GMT\r\nConnection: keep-alive\r\n"
    "ETag: \"6b141043-400\"\r\nAccept-Ranges: bytes\r\n\r\n";

TEST(FramingCheckTest, PlainHeadPassesInAnyPieces) {
  Outcome whole = Whole(kResponseHead);
  EXPECT_EQ(whole.result, Result::kOk);
  EXPECT_TRUE(whole.head_done);
  EXPECT_EQ(whole.start_line_length, 15u);
  EXPECT_EQ(whole.prefix, "HTTP/1.1 ");
  EXPECT_EQ(whole.suffix, ".1 200 OK");
  ExpectSameWhereverCut(kResponseHead);
}

TEST(FramingCheckTest, BadLineEndsAreFoundAtEveryPlaceInASixteenByteBlock) {
  // A long field line with the stray byte at each offset, so that it falls
  // at every position of the sixteen-byte loads and across their edges.
  const std::string value(40, 'v');
  for (size_t at = 0; at < value.size(); ++at) {
    for (char stray : {'\n', '\r'}) {
      std::string line = "X-Long: " + value;
      line[8 + at] = stray;
      std::string head = "GET / HTTP/1.1\r\nHost: a\r\n" + line + "\r\nAccept: */*\r\n\r\n";
      EXPECT_EQ(Whole(head).result, Result::kBadLineEnding) << head;
      ExpectSameWhereverCut(head);
    }
  }
}

TEST(FramingCheckTest, CrWithoutLfAndBareLfAtTheEndOfAFieldLine) {
  for (std::string_view head :
       {"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n\n", "GET / HTTP/1.1\n"}) {
    EXPECT_EQ(Whole(head).result, Result::kBadLineEnding) << head;
    ExpectSameWhereverCut(head);
  }
}

TEST(FramingCheckTest, ObsFoldAndLeadingWhitespace) {
  for (std::string_view head :
       {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\n\tHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Long-Field-Name: value\r\n\tx\r\n\r\n"}) {
    EXPECT_EQ(Whole(head).result, Result::kObsFold) << head;
    ExpectSameWhereverCut(head);
  }
}

TEST(FramingCheckTest, HeaderSectionLimitIsExact) {
  const std::string head =
      "GET / HTTP/1.1\r\nHost: example.test\r\nUser-Agent: a-rather-long-agent-name/1.0\r\n"
      "Accept: */*\r\n\r\n";
  // Field lines with their CRLF, without the start line and the empty line.
  const uint32_t section = 20 + 42 + 13;
  EXPECT_EQ(Whole(head, section).result, Result::kOk);
  EXPECT_EQ(Whole(head, section - 1).result, Result::kHeadersTooLarge);
  for (uint32_t limit : {section - 1, section, section - 13, section - 14, section - 15}) {
    ExpectSameWhereverCut(head, limit);
  }
}

TEST(FramingCheckTest, TrailersFollowTheSameRules) {
  auto trailers = [](std::string_view text, uint32_t max) {
    FramingCheck check;
    check.Reset(kStartLineMax, max);
    check.SetChunkedBody(true);
    std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    EXPECT_EQ(check.Feed(head.data(), head.size()), Result::kOk);
    // Framing text around "hello" (the body data itself is not fed).
    std::string chunk = "5\r\n";
    EXPECT_EQ(check.Feed(chunk.data(), chunk.size()), Result::kOk);
    std::string rest = "\r\n0\r\n" + std::string(text);
    return check.Feed(rest.data(), rest.size());
  };
  EXPECT_EQ(trailers("X-Checksum: abc\r\nX-Other: 1\r\n\r\n", 4096), Result::kOk);
  EXPECT_EQ(trailers("X-Checksum: abc\nX-Other: 1\r\n\r\n", 4096), Result::kBadLineEnding);
  EXPECT_EQ(trailers("X-Checksum: abc\r\n folded\r\n\r\n", 4096), Result::kObsFold);
  // The trailer section alone counts against the limit (the head's 37
  // bytes do not carry over): 44 + 12 bytes.
  constexpr std::string_view kLong =
      "X-Checksum: abcdefghijklmnopqrstuvwxyz0123\r\nX-Other: 1\r\n\r\n";
  EXPECT_EQ(trailers(kLong, 56), Result::kOk);
  EXPECT_EQ(trailers(kLong, 55), Result::kTrailersTooLarge);
}

// Random heads over the bytes that matter (CR, LF, SP, HTAB and text):
// one piece and any cut agree. (Under a section limit they need not: a
// line over the limit is refused as too large when its bytes come in small
// pieces, and for its bare LF when it comes whole, as before the
// sixteen-byte scans.)
TEST(FramingCheckTest, WhitespaceAfterAChunkSizeOnlyBeforeAnExtension) {
  auto chunk_line = [](std::string_view line) {
    FramingCheck check;
    check.Reset(kStartLineMax, 4096);
    check.SetChunkedBody(true);
    std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    EXPECT_EQ(check.Feed(head.data(), head.size()), Result::kOk);
    std::string text = std::string(line) + "\r\n";
    return check.Feed(text.data(), text.size());
  };
  for (std::string_view ok : {"5", "5;x", "5 ;x", "5\t;x", "5 \t ;x=1", "5;x ", "5 ; x"}) {
    EXPECT_EQ(chunk_line(ok), Result::kOk) << ok;
  }
  // RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF, BWS only before ';'.
  for (std::string_view bad : {"5 ", "5\t", "5  ", "5 \t", "0 ", "5 5"}) {
    EXPECT_EQ(chunk_line(bad), Result::kBadChunkLine) << bad;
  }
}

TEST(FramingCheckTest, RandomHeadsAgreeWholeAndByteByByte) {
  std::mt19937 random(20261205);
  const std::string_view alphabet = "ab:-\r\n\r\n \t";
  for (int round = 0; round < 3000; ++round) {
    std::string head = "GET / HTTP/1.1\r\n";
    size_t extra = random() % 90;
    for (size_t i = 0; i < extra; ++i) {
      // Mostly well-formed lines, with stray bytes now and then.
      if (random() % 12 == 0) {
        head += alphabet[random() % alphabet.size()];
      } else if (random() % 10 == 0) {
        head += "\r\n";
      } else {
        head += static_cast<char>('a' + random() % 26);
      }
    }
    head += "\r\n\r\n";
    ExpectSameWhereverCut(head);
    if (HasFailure()) break;
  }
}

}  // namespace
}  // namespace tidegate::proxy::http1

namespace tidegate::proxy::http1 {
namespace {

// The one-pass host copy accepts exactly what IsValidHostValue accepts,
// for every byte value, and lower-cases letters only.
TEST(HostValueTest, CopyValidHostLoweredAgreesWithIsValidHostValue) {
  std::string out;
  for (int c = 0; c < 256; ++c) {
    std::string host = "Shop.";
    host += static_cast<char>(c);
    host += "Example:8080";
    bool valid = IsValidHostValue(host);
    ASSERT_EQ(CopyValidHostLowered(host, &out), valid) << c;
    if (!valid) continue;
    std::string lower = host;
    for (char& ch : lower) ch = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch + 32) : ch;
    EXPECT_EQ(out, lower) << c;
  }
  EXPECT_FALSE(CopyValidHostLowered("", &out));
  EXPECT_FALSE(CopyValidHostLowered("user@shop.example", &out));
  EXPECT_FALSE(CopyValidHostLowered(std::string_view("a\0b", 3), &out));
}

TEST(HostValueTest, ContentLengthAtTheOverflowEdge) {
  uint64_t n = 0;
  EXPECT_TRUE(ParseContentLength("999999999999999999", &n));  // 18 digits
  EXPECT_EQ(n, 999999999999999999u);
  EXPECT_TRUE(ParseContentLength("9223372036854775807", &n));  // 2^63-1
  EXPECT_EQ(n, 9223372036854775807u);
  EXPECT_FALSE(ParseContentLength("9223372036854775808", &n));
  EXPECT_FALSE(ParseContentLength("99999999999999999999", &n));
  EXPECT_TRUE(ParseContentLength("0000000000000000000001", &n));
  EXPECT_EQ(n, 1u);
  EXPECT_FALSE(ParseContentLength("12a", &n));
  EXPECT_FALSE(ParseContentLength("", &n));
  EXPECT_FALSE(ParseContentLength("+5", &n));
}

}  // namespace
}  // namespace tidegate::proxy::http1
