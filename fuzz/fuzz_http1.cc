// libFuzzer target: the HTTP/1 codec adapter (proxy/http1_codec.h).
//
// Input: byte 0 picks the kind (request or response, and for responses
// whether the request was HEAD) and byte 1 how the rest is cut into pieces;
// the rest is what a peer sends, pipelined messages included. Every piece
// goes through Execute() the way the connections do it: after a complete
// message the caller resets and feeds the bytes left over. Checks the
// contract's invariants: Execute never consumes more than it was given, a
// failed parser stays failed with a status in 400..599, a completed message
// is reported once.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "proxy/http1_codec.h"

namespace {

using tidegate::proxy::Http1Parser;

class Sink : public Http1Parser::Callbacks {
 public:
  void OnRequestHead(tidegate::proxy::RequestHead&& head) override { ++heads; }
  void OnResponseHead(tidegate::proxy::ResponseHead&& head) override { ++heads; }
  void OnBody(const char* data, size_t len) override {
    for (size_t i = 0; i < len; ++i) checksum += static_cast<unsigned char>(data[i]);
  }
  void OnMessageComplete() override { complete = true; }

  int heads = 0;
  bool complete = false;
  uint64_t checksum = 0;
};

void Check(bool condition) {
  if (!condition) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool response = data[0] & 1;
  const bool head_request = data[0] & 2;
  const size_t piece = 1 + (data[1] % 64);  // 1..64 bytes, or all at once for 64
  const char* bytes = reinterpret_cast<const char*>(data + 2);
  size_t left = size - 2;

  tidegate::proxy::ParseLimits limits;
  limits.max_request_line = 1024;
  limits.max_header_bytes = 4096;
  limits.max_headers = 32;
  limits.max_body_bytes = 1 << 16;
  Sink sink;
  Http1Parser parser(response ? Http1Parser::Kind::kResponse : Http1Parser::Kind::kRequest, limits,
                     &sink);
  if (response) parser.ExpectNoBody(head_request);

  int messages = 0;
  while (left > 0 && !parser.failed()) {
    size_t n = (data[1] % 64 == 63) ? left : std::min(piece, left);
    size_t consumed = parser.Execute(bytes, n);
    Check(consumed <= n);
    bytes += consumed;
    left -= consumed;
    if (sink.complete) {
      sink.complete = false;
      ++messages;
      parser.Reset();
      Check(parser.idle());
      if (response) parser.ExpectNoBody(head_request);
      continue;
    }
    if (parser.failed()) break;
    if (consumed == 0) break;  // paused or stuck: a caller would wait for more
  }
  if (parser.failed()) {
    Check(parser.error().status >= 400 && parser.error().status < 600);
    Check(!parser.error().reason.empty());
    // Stays failed: more bytes are refused.
    parser.Execute("GET / HTTP/1.1\r\n", 16);
    Check(parser.failed());
  } else if (response) {
    parser.FinishOnEof();
  }
  Check(sink.heads >= messages);
  return 0;
}
