// The request line's protocol name, as non-strict http_parser read it (part
// of the HTTP/1 codec adapter, proxy/http1_codec.h): after an 'H' it took
// any four bytes as "TTP/" and read the version after them, so a mangled
// name with a version other than 1.0/1.1 was answered 505 and one with
// 1.0/1.1 400 (the start-line check). llhttp refuses the name at its first
// wrong byte; the adapter skips the rest of the five bytes itself and puts
// llhttp in its "major version" state, so the answers stay the same. And
// llhttp accepts "RTSP/" after GET, POST and OPTIONS, which http_parser
// refused at the 'R' (400): refused again, before the version is used.
#include <algorithm>
#include <cstring>

#include "proxy/http1_parser_impl.h"

namespace tidegate::proxy {
namespace {

constexpr char kLiteral[] = "HTTP/";

// llhttp's internal state "reading the major version digit after HTTP/".
void* MajorVersionState() {
  static void* const state = LlhttpStateAfter(HTTP_REQUEST, "GET / HTTP/");
  return state;
}

}  // namespace

// Keeps the last bytes llhttp consumed of a start line that is not complete
// yet: the look-back below needs them when the line is cut across reads.
void Http1Parser::Impl::RememberLineTail(const char* begin, const char* end) {
  for (const char* p = end - std::min<size_t>(end - begin, sizeof line_tail); p < end; ++p) {
    if (line_tail_len == sizeof line_tail) {
      std::memmove(line_tail, line_tail + 1, sizeof line_tail - 1);
      --line_tail_len;
    }
    line_tail[line_tail_len++] = *p;
  }
}

// Up to `want` bytes of the start line right before `at` (inside the bytes
// of this llhttp_execute, then the remembered tail), into the end of `out`.
// Returns how many were found.
size_t Http1Parser::Impl::LookBack(const char* at, char* out, size_t want) const {
  size_t got = 0;
  for (const char* p = at; got < want && p > exec_begin;) out[want - ++got] = *--p;
  for (size_t i = line_tail_len; got < want && i > 0;) out[want - ++got] = line_tail[--i];
  return got;
}

// llhttp refused a byte of the protocol name at `at`. When the 'H' and the
// bytes after it matched "HTTP/" up to there, skip the rest the way
// http_parser did. Returns false for anything else (http_parser refused
// a first byte other than 'H' too).
bool Http1Parser::Impl::StartLiteralSkip(const char* at) {
  char before[4];
  const size_t got = LookBack(at, before, sizeof before);
  for (size_t k = 1; k <= got; ++k) {
    const char* start = before + sizeof before - k;
    if (std::memcmp(start, kLiteral, k) == 0) {
      literal_skip = static_cast<uint8_t>(5 - k);
      return true;
    }
  }
  return false;
}

size_t Http1Parser::Impl::SkipLiteral(const char* begin, const char* end) {
  const size_t n = std::min<size_t>(literal_skip, end - begin);
  if (n == 0) return 0;
  started = true;
  if (!CheckFraming(begin, begin + n)) return n;
  cursor = begin + n;
  literal_skip = static_cast<uint8_t>(literal_skip - n);
  if (literal_skip == 0) {
    parser.error = HPE_OK;
    parser.reason = nullptr;
    parser._current = MajorVersionState();
  }
  return n;
}

int Http1Parser::Impl::OnVersion(llhttp_t* p, const char* at, size_t len) {
  Impl* self = Self(p);
  if (!self->is_request() || self->version_seen) return 0;
  self->version_seen = true;
  char before[5];
  if (self->LookBack(at, before, sizeof before) == sizeof before &&
      std::memcmp(before, "RTSP/", 5) == 0) {
    self->SetError(400, "invalid constant string");
    return -1;
  }
  return 0;
}

}  // namespace tidegate::proxy
