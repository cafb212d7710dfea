// Strict lexical checks the HTTP/1.x codec adds on top of the parser. Part
// of the codec adapter (proxy/http1_codec.h); nothing outside
// proxy/http1_*.cc uses this header.
//
// Why: they were written for Debian's libhttp_parser, built with
// HTTP_PARSER_STRICT=0, which accepts bare LF line ends, a CR followed by
// any byte in places, obs-fold, space in field names, "5 5" and control
// bytes as chunk sizes/extensions and any two bytes in place of the CRLF
// after chunk data. llhttp, the parser now, refuses most of these itself;
// the checks stay (they are cheap) so that what is refused, and with which
// status, is decided here as before. The parser still does the parsing;
// these helpers only verify bytes it has already consumed.
//
// Thread: plain values, no shared state; use from one thread at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tidegate::proxy::http1 {

// RFC 9110 tchar.
inline constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();
inline bool IsTokenChar(unsigned char c) { return kTokenChars[c]; }
// Inline: every field name of every message passes here. The table's
// answers are ANDed four bytes per step and tested once, instead of a
// branch per byte (a name is valid or its message is refused, so an early
// exit saves nothing).
inline bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  auto ok = [p](size_t i) { return static_cast<unsigned>(kTokenChars[p[i]]); };
  unsigned all = 1;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) all &= ok(i) & ok(i + 1) & ok(i + 2) & ok(i + 3);
  for (; i < n; ++i) all &= ok(i);
  return all != 0;
}

// Content-Length value: 1*DIGIT, at most 2^63-1. Anything else (sign, spaces
// inside, hex, lists such as "5, 5") is false.
bool ParseContentLength(std::string_view value, uint64_t* out);

// Host field value (uri-host [":" port]) without userinfo. Returns false for
// an empty value, '@' or any character outside the authority grammar, and
// for a value not shaped as the grammar says: more than one ':' outside an
// IP-literal ("a:80:80"), an unclosed or empty "[]", an empty label ("a..b"),
// a port that is not 0-65535 in at most five digits.
bool IsValidHostValue(std::string_view value);
// IsValidHostValue(value) and, in the same pass, `value` lower-cased into
// `out` (the request's host). On false, `out` holds no meaningful value.
bool CopyValidHostLowered(std::string_view value, std::string* out);

// origin-form / asterisk-form characters: visible ASCII except '#'.
bool IsValidTargetChars(std::string_view target);

// reason-phrase characters: HTAB, SP, VCHAR, obs-text.
bool IsValidReason(std::string_view reason);

// Verifies the framing text of one message: every byte http_parser consumed
// that was not body data, fed in order (head, chunk-size lines, the CRLF
// after chunk data, trailers). Enforces CRLF line ends, no whitespace at the
// start of a field line (obs-fold, space before the first field), the
// start-line and header-section limits and the chunk-size line grammar
// 1*HEXDIG [[BWS] 1*(";" ext-bytes)] CRLF with no control bytes (whitespace
// after the size only before a ';': "5 " CRLF is refused).
class FramingCheck {
 public:
  enum class Result {
    kOk,
    kBadLineEnding,
    kObsFold,
    kStartLineTooLong,
    kHeadersTooLarge,
    kBadChunkLine,
    kChunkLineTooLong,
    kTrailersTooLarge,
  };

  // Longest chunk-size line (size + extensions) accepted.
  static constexpr uint32_t kMaxChunkLine = 4096;
  // Empty lines tolerated before the start line (RFC 9112 §2.2).
  static constexpr uint32_t kMaxLeadingEmptyLines = 4;

  // Inline: twice per exchange, from the parser's message reset.
  void Reset(uint32_t max_start_line, uint32_t max_header_bytes) {
    state_ = State::kStartLine;
    chunked_body_ = false;
    cr_pending_ = false;
    line_len_ = 0;
    leading_empty_lines_ = 0;
    section_bytes_ = 0;
    max_start_line_ = max_start_line;
    max_header_bytes_ = max_header_bytes;
    chunk_line_len_ = 0;
    chunk_digits_ = 0;
    chunk_nonzero_ = false;
    start_line_len_ = 0;
  }
  // How the body after this head is framed; set before the head's last LF is
  // fed. Only chunked bodies carry framing text.
  void SetChunkedBody(bool chunked) { chunked_body_ = chunked; }
  Result Feed(const char* data, size_t len);
  // True inside a chunk-size line after its first hex digit, before its CR:
  // where the rest of the line (BWS, extensions) is this check's to judge.
  bool in_chunk_line_tail() const {
    return (state_ == State::kChunkSize && chunk_digits_ > 0) || state_ == State::kChunkSizeWs ||
           state_ == State::kChunkExt;
  }
  // True while reading the hex digits of a chunk size.
  bool in_chunk_size() const { return state_ == State::kChunkSize; }
  // True once the empty line that ends the head was fed.
  bool head_done() const { return state_ != State::kStartLine && state_ != State::kHeaderLines; }

  // The start line, once its CRLF was fed: its length (without CRLF), its
  // first kEdge bytes and its last kEdge bytes (fewer when it is shorter).
  // The adapter compares them with what http_parser reported, because
  // non-strict http_parser accepts e.g. "HTTQ/1.1" or several spaces.
  static constexpr size_t kEdge = 9;
  uint32_t start_line_length() const { return start_line_len_; }
  std::string_view start_line_prefix() const {
    return std::string_view(prefix_, start_line_len_ < kEdge ? start_line_len_ : kEdge);
  }
  std::string_view start_line_suffix() const {
    return std::string_view(suffix_, start_line_len_ < kEdge ? start_line_len_ : kEdge);
  }

 private:
  enum class State {
    kStartLine,
    kHeaderLines,
    kOpaqueBody,  // Content-Length, until-close or no body: nothing to check
    kChunkSize,
    kChunkSizeWs,
    kChunkExt,
    kChunkLf,
    kDataCr,
    kDataLf,
    kTrailerLines,
    kDone,
  };

  class LineBreaks;
  Result FeedLines(const char*& p, const char* end);
  void SkipPlainFieldLines(const char*& p, const char* end, LineBreaks& breaks);
  void RecordStartLine(const char* p, size_t n);
  Result EndLine();
  Result FeedChunkByte(unsigned char c);

  State state_ = State::kStartLine;
  bool chunked_body_ = false;
  bool cr_pending_ = false;
  uint32_t line_len_ = 0;
  uint32_t leading_empty_lines_ = 0;
  uint64_t section_bytes_ = 0;  // header section or trailer section so far
  uint32_t max_start_line_ = 0;
  uint32_t max_header_bytes_ = 0;
  uint32_t chunk_line_len_ = 0;
  uint32_t chunk_digits_ = 0;
  bool chunk_nonzero_ = false;
  uint32_t start_line_len_ = 0;
  char prefix_[kEdge] = {};
  char suffix_[kEdge] = {};
};

}  // namespace tidegate::proxy::http1
