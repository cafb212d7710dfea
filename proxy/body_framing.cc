#include "proxy/body_framing.h"

namespace tidegate::proxy {

void AddBody(evbuffer* out, const char* data, size_t len, bool chunked) {
  if (chunked) evbuffer_add_printf(out, "%zx\r\n", len);
  evbuffer_add(out, data, len);
  if (chunked) evbuffer_add(out, "\r\n", 2);
}

void MoveBody(evbuffer* out, evbuffer* body, bool chunked) {
  if (chunked) evbuffer_add_printf(out, "%zx\r\n", evbuffer_get_length(body));
  evbuffer_add_buffer(out, body);
  if (chunked) evbuffer_add(out, "\r\n", 2);
}

void AddLastChunk(evbuffer* out) { evbuffer_add(out, "0\r\n\r\n", 5); }

void AddContinue(evbuffer* out) {
  static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
  evbuffer_add(out, kContinue, sizeof(kContinue) - 1);
}

}  // namespace tidegate::proxy
