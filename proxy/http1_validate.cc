#include "proxy/http1_validate.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "proxy/byte_scan.h"

namespace tidegate::proxy::http1 {
namespace {

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

// kHostChars with the answer folded in: the lower-case form of a host
// character, 0 for any other byte.
constexpr std::array<char, 256> MakeHostLowerTable() {
  std::array<char, 256> t{};
  for (int c = 0; c < 256; ++c) {
    if (!kHostChars[c]) continue;
    t[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  }
  return t;
}
constexpr std::array<char, 256> kHostLower = MakeHostLowerTable();

// Bit i set when byte i of the sixteen at `p` is CR or LF.
#if defined(__SSE2__)
inline uint32_t LineBreakBits(const char* p) {
  __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i hit =
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
  return static_cast<uint32_t>(_mm_movemask_epi8(hit));
}
#else
inline uint32_t LineBreakBits(const char* p) {
  uint32_t bits = 0;
  for (uint32_t i = 0; i < 16; ++i) bits |= uint32_t{p[i] == '\r' || p[i] == '\n'} << i;
  return bits;
}
#endif

}  // namespace

// The CR and LF bytes of one fed piece [begin, end), in order: sixteen
// bytes per load, and the bits of one load serve every line end among
// those sixteen bytes (head lines are 10-40 bytes: two memchr calls per
// line, as before, cost more). Never reads outside [begin, end).
class FramingCheck::LineBreaks {
 public:
  LineBreaks(const char* begin, const char* end) : begin_(begin), end_(end) {}

  // The first CR or LF at or after `p` (in [begin, end]), or end.
  const char* From(const char* p) {
    if (loaded_ && p >= block_ && p < block_ + 16) {  // in the bits at hand
      uint32_t skip = static_cast<uint32_t>(p - block_);
      uint32_t rest = bits_ >> skip << skip;
      if (rest != 0) return block_ + std::countr_zero(rest);
      p = block_ + 16;
    }
    while (end_ - p >= 16) {
      Load(p);
      if (bits_ != 0) return p + std::countr_zero(bits_);
      p += 16;
    }
    if (p == end_) return end_;
    if (end_ - begin_ >= 16) {  // the last sixteen bytes, those before `p` masked off
      Load(end_ - 16);
      uint32_t skip = static_cast<uint32_t>(p - block_);
      uint32_t rest = bits_ >> skip << skip;
      return rest != 0 ? block_ + std::countr_zero(rest) : end_;
    }
    while (p < end_ && *p != '\r' && *p != '\n') ++p;
    return p;
  }

 private:
  void Load(const char* block) {
    block_ = block;
    bits_ = LineBreakBits(block);
    loaded_ = true;
  }

  const char* const begin_;
  const char* const end_;
  const char* block_ = nullptr;
  uint32_t bits_ = 0;
  bool loaded_ = false;
};

namespace {

bool IsHexDigit(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

bool ParseContentLength(std::string_view value, uint64_t* out) {
  if (value.empty()) return false;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t n = 0;
  if (value.size() <= 18) {  // below 10^18: no overflow test needed
    for (char c : value) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = n;
    return true;
  }
  for (char c : value) {
    if (c < '0' || c > '9') return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (n > (kMax - digit) / 10) return false;
    n = n * 10 + digit;
  }
  *out = n;
  return true;
}

namespace {

// The shape of uri-host [":" port] once every byte is a host character
// (RFC 3986 §3.2.2-3): an IP-literal in brackets, or a reg-name / IPv4
// address with no ':', '[' or ']' and no empty label inside (".."); then at
// most one ':' and a port of up to five digits, 65535 at most (empty is
// allowed, as the grammar does). A Host such as "shop.example:80:80" is
// refused: a server behind the proxy may read it as "shop.example" while a
// rule comparing hosts would not (RFC 9112 §3.2: 400 for an invalid Host).
bool HostShapeValid(std::string_view v) {
  size_t end;  // past the host part
  if (v.front() == '[') {
    end = v.find(']');
    if (end == std::string_view::npos || end < 2) return false;  // unclosed, or "[]"
    if (v.substr(1, end - 1).find('[') != std::string_view::npos) return false;
    ++end;
  } else {
    // One pass over the name (every request's Host): no bracket, no empty
    // label ("..").
    char previous = 0;
    for (end = 0; end < v.size() && v[end] != ':'; ++end) {
      char c = v[end];
      if (c == '[' || c == ']' || (c == '.' && previous == '.')) return false;
      previous = c;
    }
    if (end == 0) return false;  // no name before the port
  }
  if (end == v.size()) return true;
  if (v[end] != ':') return false;  // "[::1]x"
  std::string_view port = v.substr(end + 1);
  if (port.size() > 5) return false;
  uint32_t number = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    number = number * 10 + static_cast<uint32_t>(c - '0');
  }
  return number <= 65535;
}

}  // namespace

bool IsValidHostValue(std::string_view value) {
  if (value.empty()) return false;
  // Every request's Host: one test at the end, as in IsToken.
  bool bad = false;
  for (char c : value) bad |= !kHostChars[static_cast<unsigned char>(c)];
  return !bad && HostShapeValid(value);
}

bool CopyValidHostLowered(std::string_view value, std::string* out) {
  if (value.empty()) return false;
  out->clear();  // then append: libstdc++'s short path, not assign's _M_replace
  out->append(value.data(), value.size());
  for (char& c : *out) c = kHostLower[static_cast<unsigned char>(c)];
  // A byte outside the host characters became 0 (as did a NUL).
  return std::memchr(out->data(), 0, out->size()) == nullptr && HostShapeValid(*out);
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

// Keeps the first and the last kEdge bytes of the start line; called with
// consecutive pieces of it, `start_line_len_` not yet counting this piece.
void FramingCheck::RecordStartLine(const char* p, size_t n) {
  size_t have = start_line_len_;
  if (have == 0 && n >= kEdge) {  // the usual case: the whole line in one piece
    std::memcpy(prefix_, p, kEdge);
    std::memcpy(suffix_, p + n - kEdge, kEdge);
    return;
  }
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
// Whole field lines from a line start, the usual case, in a tight loop
// with the counter in a register. Takes only lines the general loop of
// FeedLines would accept with the same effect (complete, not empty, ending
// in CRLF, not starting with SP or HTAB, within the section limit) and
// stops at the start of the first other one, which the general loop then
// takes (the empty line, a line cut by the piece's end, an error).
// Inlined into FeedLines, so that the scanner's state stays in registers.
inline void FramingCheck::SkipPlainFieldLines(const char*& p_ref, const char* end,
                                              LineBreaks& breaks) {
  const char* p = p_ref;
  uint64_t section = section_bytes_;
  while (p < end && *p != ' ' && *p != '\t') {
    const char* q = breaks.From(p);
    if (q == p || end - q < 2 || q[0] != '\r' || q[1] != '\n') break;
    uint64_t next = section + static_cast<uint64_t>(q - p) + 2;
    if (next > max_header_bytes_) break;
    section = next;
    p = q + 2;
  }
  section_bytes_ = section;
  p_ref = p;
}

// Field lines and the start line, a line piece at a time.
FramingCheck::Result FramingCheck::FeedLines(const char*& p, const char* end) {
  LineBreaks breaks(p, end);
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
    if (line_len_ == 0 && state_ != State::kStartLine) {
      SkipPlainFieldLines(p, end, breaks);
      if (p == end) break;
      if (*p == ' ' || *p == '\t') {
        return Result::kObsFold;  // obs-fold, or whitespace before the first field
      }
    }
    // The line runs to its CR; an LF before any CR is a bare LF.
    const char* q = breaks.From(p);
    if (q != end && *q == '\n') return Result::kBadLineEnding;
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
    if (end - q < 2) {  // no CR, or a CR whose LF is in the next piece
      cr_pending_ = q != end;
      p = end;
      break;
    }
    // The usual case: the CR's LF is right here; end the line without
    // another turn of the loop.
    if (q[1] != '\n') return Result::kBadLineEnding;  // CR not followed by LF
    p = q + 2;
    Result r = EndLine();
    if (r != Result::kOk) return r;
    if (state_ != State::kStartLine && state_ != State::kHeaderLines &&
        state_ != State::kTrailerLines) {
      return Result::kOk;
    }
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
    case State::kChunkSizeWs:  // BWS: only more whitespace or ';'
      if (c == ';') {
        state_ = State::kChunkExt;
      } else if (c != ' ' && c != '\t') {
        // "5 5", and "5 " CRLF: RFC 9112 §7.1 allows BWS only before a
        // chunk extension; an intermediary in front may read "5 " otherwise.
        return Result::kBadChunkLine;
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
