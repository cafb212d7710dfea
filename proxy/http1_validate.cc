#include "proxy/http1_validate.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "proxy/byte_scan.h"

namespace tidegate::proxy::http1 {
namespace {

constexpr std::array<bool, 256> MakeTokenTable() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kTokenChars = MakeTokenTable();

// uri-host [":" port]: reg-name (unreserved / pct-encoded / sub-delims),
// IP-literal brackets, ':' for the port. No '@' (userinfo), no '/', '?', '#'.
constexpr std::array<bool, 256> MakeHostTable() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("-._~!$&'()*+,;=%:[]")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kHostChars = MakeHostTable();

bool IsHexDigit(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

bool IsTokenChar(unsigned char c) { return kTokenChars[c]; }

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!kTokenChars[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

bool ParseContentLength(std::string_view value, uint64_t* out) {
  if (value.empty()) return false;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (n > (kMax - digit) / 10) return false;
    n = n * 10 + digit;
  }
  *out = n;
  return true;
}

bool IsValidHostValue(std::string_view value) {
  if (value.empty()) return false;
  for (char c : value) {
    if (!kHostChars[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

bool IsValidTargetChars(std::string_view target) {
  // Eight bytes per step (every request's target passes here).
  const char* p = target.data();
  size_t i = 0;
  for (; i + 8 <= target.size(); i += 8) {
    uint64_t v = bytescan::Load8(p + i);
    if (bytescan::HasLess(v, 0x21) || bytescan::HasMore(v, 0x7e) || bytescan::HasByte(v, '#')) {
      return false;
    }
  }
  for (; i < target.size(); ++i) {
    unsigned char u = static_cast<unsigned char>(p[i]);
    if (u <= 0x20 || u >= 0x7f || u == '#') return false;
  }
  return true;
}

bool IsValidReason(std::string_view reason) {
  for (char c : reason) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return false;
  }
  return true;
}

void FramingCheck::Reset(uint32_t max_start_line, uint32_t max_header_bytes) {
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

// Keeps the first and the last kEdge bytes of the start line; called with
// consecutive pieces of it, `start_line_len_` not yet counting this piece.
void FramingCheck::RecordStartLine(const char* p, size_t n) {
  size_t have = start_line_len_;
  for (size_t i = 0; have + i < kEdge && i < n; ++i) prefix_[have + i] = p[i];
  if (n >= kEdge) {
    std::memcpy(suffix_, p + n - kEdge, kEdge);
    return;
  }
  size_t keep = std::min(have, kEdge - n);
  std::memmove(suffix_, suffix_ + (std::min(have, kEdge) - keep), keep);
  std::memcpy(suffix_ + keep, p, n);
}

FramingCheck::Result FramingCheck::Feed(const char* data, size_t len) {
  const char* p = data;
  const char* end = data + len;
  while (p < end) {
    switch (state_) {
      case State::kStartLine:
      case State::kHeaderLines:
      case State::kTrailerLines: {
        Result r = FeedLines(p, end);
        if (r != Result::kOk) return r;
        break;
      }
      case State::kOpaqueBody:
      case State::kDone:
        return Result::kOk;
      default: {
        Result r = FeedChunkByte(static_cast<unsigned char>(*p++));
        if (r != Result::kOk) return r;
        break;
      }
    }
  }
  return Result::kOk;
}

// Field lines and the start line, a line piece at a time.
FramingCheck::Result FramingCheck::FeedLines(const char*& p, const char* end) {
  while (p < end) {
    if (cr_pending_) {
      if (*p != '\n') return Result::kBadLineEnding;  // CR not followed by LF
      ++p;
      cr_pending_ = false;
      Result r = EndLine();
      if (r != Result::kOk) return r;
      if (state_ != State::kStartLine && state_ != State::kHeaderLines &&
          state_ != State::kTrailerLines) {
        return Result::kOk;
      }
      continue;
    }
    if (line_len_ == 0 && state_ != State::kStartLine && (*p == ' ' || *p == '\t')) {
      return Result::kObsFold;  // obs-fold, or whitespace before the first field
    }
    // memchr is vectorised: find the CR, then make sure no LF hides before it.
    const void* cr = std::memchr(p, '\r', static_cast<size_t>(end - p));
    const char* q = cr != nullptr ? static_cast<const char*>(cr) : end;
    if (std::memchr(p, '\n', static_cast<size_t>(q - p)) != nullptr) {
      return Result::kBadLineEnding;  // bare LF
    }
    uint64_t line = line_len_ + static_cast<uint64_t>(q - p);
    if (state_ == State::kStartLine) {
      if (line > max_start_line_) return Result::kStartLineTooLong;
      if (q > p) {
        RecordStartLine(p, static_cast<size_t>(q - p));
        start_line_len_ = static_cast<uint32_t>(line);
      }
    } else if (section_bytes_ + line > max_header_bytes_) {
      return state_ == State::kHeaderLines ? Result::kHeadersTooLarge : Result::kTrailersTooLarge;
    }
    line_len_ = static_cast<uint32_t>(line);
    p = q;
    if (p == end) break;
    cr_pending_ = true;
    ++p;
  }
  return Result::kOk;
}

FramingCheck::Result FramingCheck::EndLine() {
  uint32_t line = line_len_;
  line_len_ = 0;
  switch (state_) {
    case State::kStartLine:
      if (line == 0) {
        return ++leading_empty_lines_ > kMaxLeadingEmptyLines ? Result::kBadLineEnding
                                                              : Result::kOk;
      }
      state_ = State::kHeaderLines;
      return Result::kOk;
    case State::kHeaderLines:
    case State::kTrailerLines: {
      bool trailers = state_ == State::kTrailerLines;
      if (line == 0) {
        state_ = trailers ? State::kDone : (chunked_body_ ? State::kChunkSize : State::kOpaqueBody);
        return Result::kOk;
      }
      section_bytes_ += line + 2;
      if (section_bytes_ > max_header_bytes_) {
        return trailers ? Result::kTrailersTooLarge : Result::kHeadersTooLarge;
      }
      return Result::kOk;
    }
    default:
      return Result::kOk;
  }
}

FramingCheck::Result FramingCheck::FeedChunkByte(unsigned char c) {
  switch (state_) {
    case State::kChunkSize:
    case State::kChunkSizeWs:
    case State::kChunkExt:
      if (++chunk_line_len_ > kMaxChunkLine) return Result::kChunkLineTooLong;
      break;
    default:
      break;
  }
  switch (state_) {
    case State::kChunkSize:
      if (IsHexDigit(c)) {
        ++chunk_digits_;
        chunk_nonzero_ = chunk_nonzero_ || c != '0';
        return Result::kOk;
      }
      if (chunk_digits_ == 0) return Result::kBadChunkLine;
      if (c == ';') {
        state_ = State::kChunkExt;
      } else if (c == ' ' || c == '\t') {
        state_ = State::kChunkSizeWs;
      } else if (c == '\r') {
        state_ = State::kChunkLf;
      } else {
        return Result::kBadChunkLine;
      }
      return Result::kOk;
    case State::kChunkSizeWs:  // BWS: only more whitespace, ';' or the line end
      if (c == ';') {
        state_ = State::kChunkExt;
      } else if (c == '\r') {
        state_ = State::kChunkLf;
      } else if (c != ' ' && c != '\t') {
        return Result::kBadChunkLine;  // "5 5"
      }
      return Result::kOk;
    case State::kChunkExt:
      if (c == '\r') {
        state_ = State::kChunkLf;
      } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
        return Result::kBadChunkLine;
      }
      return Result::kOk;
    case State::kChunkLf:
      if (c != '\n') return Result::kBadLineEnding;
      if (chunk_nonzero_) {
        state_ = State::kDataCr;
      } else {
        state_ = State::kTrailerLines;
        section_bytes_ = 0;
        line_len_ = 0;
        cr_pending_ = false;
      }
      return Result::kOk;
    case State::kDataCr:
      if (c != '\r') return Result::kBadChunkLine;  // chunk data not followed by CRLF
      state_ = State::kDataLf;
      return Result::kOk;
    case State::kDataLf:
      if (c != '\n') return Result::kBadLineEnding;
      state_ = State::kChunkSize;
      chunk_line_len_ = 0;
      chunk_digits_ = 0;
      chunk_nonzero_ = false;
      return Result::kOk;
    default:
      return Result::kOk;
  }
}

}  // namespace tidegate::proxy::http1
