#include "proxy/body_framing.h"

namespace tidegate::proxy {

namespace {
constexpr char kCrlf[] = "\r\n";
}  // namespace

size_t FormatChunkLine(size_t len, char* line) {
  static constexpr char kHex[] = "0123456789abcdef";
  char digits[16];
  size_t n = 0;
  do {
    digits[n++] = kHex[len & 0xf];
    len >>= 4;
  } while (len != 0);
  for (size_t i = 0; i < n; ++i) line[i] = digits[n - 1 - i];
  line[n] = '\r';
  line[n + 1] = '\n';
  return n + 2;
}

int FrameBody(const char* data, size_t len, bool chunked, char* line, iovec* pieces) {
  int n = 0;
  if (chunked) pieces[n++] = {line, FormatChunkLine(len, line)};
  pieces[n++] = {const_cast<char*>(data), len};
  if (chunked) pieces[n++] = {const_cast<char*>(kCrlf), 2};
  return n;
}

size_t AddBody(evbuffer* out, const char* data, size_t len, bool chunked) {
  if (!chunked) {
    evbuffer_add(out, data, len);
    return len;
  }
  char line[kChunkLineMax];
  size_t line_len = FormatChunkLine(len, line);
  evbuffer_add(out, line, line_len);
  evbuffer_add(out, data, len);
  evbuffer_add(out, kCrlf, 2);
  return line_len + len + 2;
}

size_t MoveBody(evbuffer* out, evbuffer* body, bool chunked) {
  size_t len = evbuffer_get_length(body);
  if (!chunked) {
    evbuffer_add_buffer(out, body);
    return len;
  }
  char line[kChunkLineMax];
  size_t line_len = FormatChunkLine(len, line);
  evbuffer_add(out, line, line_len);
  evbuffer_add_buffer(out, body);
  evbuffer_add(out, kCrlf, 2);
  return line_len + len + 2;
}

void AddLastChunk(evbuffer* out) { evbuffer_add(out, "0\r\n\r\n", 5); }

void AddContinue(evbuffer* out) {
  static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
  evbuffer_add(out, kContinue, sizeof(kContinue) - 1);
}

}  // namespace tidegate::proxy
