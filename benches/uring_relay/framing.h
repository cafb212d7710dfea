// MessageFramer: where HTTP/1.1 messages end in a byte stream, with no other
// parsing — the head ends at the first "\r\n\r\n", the body is Content-Length
// bytes (0 when absent). Enough for GET requests and static-file responses;
// chunked bodies are not understood (uring_relay_bench is a measuring device).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace uring_relay {

class MessageFramer {
 public:
  // Consumes `n` bytes of the stream; returns how many messages ended in them.
  int Feed(const char* data, size_t n);

 private:
  // The head's end is in data[0, n): starts the body; returns bytes consumed.
  size_t EndHead(const char* head, size_t head_len);

  std::string partial_head_;  // a head split over reads (rare: heads are small)
  uint64_t body_left_ = 0;
  bool in_body_ = false;
};

}  // namespace uring_relay
