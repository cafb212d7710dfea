#include "benches/uring_relay/framing.h"

#include <string.h>
#include <strings.h>

#include <string_view>

namespace uring_relay {
namespace {

constexpr std::string_view kEnd = "\r\n\r\n";

// Content-Length of a head (its value's digits), 0 when absent.
uint64_t ContentLength(std::string_view head) {
  constexpr std::string_view kName = "\ncontent-length:";
  for (size_t i = 0; i + kName.size() <= head.size(); ++i) {
    if (head[i] != '\n' || strncasecmp(head.data() + i, kName.data(), kName.size()) != 0) continue;
    uint64_t value = 0;
    for (size_t j = i + kName.size(); j < head.size(); ++j) {
      char c = head[j];
      if (c == ' ' || c == '\t') continue;
      if (c < '0' || c > '9') break;
      value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    return value;
  }
  return 0;
}

}  // namespace

size_t MessageFramer::EndHead(const char* head, size_t head_len) {
  body_left_ = ContentLength(std::string_view(head, head_len));
  in_body_ = true;
  return head_len;
}

int MessageFramer::Feed(const char* data, size_t n) {
  int ended = 0;
  while (n > 0) {
    if (in_body_) {
      size_t take = body_left_ < n ? static_cast<size_t>(body_left_) : n;
      body_left_ -= take;
      data += take;
      n -= take;
    } else if (partial_head_.empty()) {
      // Common case: the whole head is in this read; no copy.
      const void* end = memmem(data, n, kEnd.data(), kEnd.size());
      if (end == nullptr) {
        partial_head_.assign(data, n);
        return ended;
      }
      size_t head_len = static_cast<const char*>(end) - data + kEnd.size();
      EndHead(data, head_len);
      data += head_len;
      n -= head_len;
    } else {
      // Look for the end across the seam: the last 3 kept bytes plus new ones.
      size_t from = partial_head_.size() >= 3 ? partial_head_.size() - 3 : 0;
      size_t old = partial_head_.size();
      partial_head_.append(data, n);
      size_t at = partial_head_.find(kEnd, from);
      if (at == std::string::npos) return ended;
      size_t head_len = at + kEnd.size();
      EndHead(partial_head_.data(), head_len);
      size_t used = head_len - old;
      data += used;
      n -= used;
      partial_head_.clear();
    }
    if (in_body_ && body_left_ == 0) {
      in_body_ = false;
      ++ended;
    }
  }
  return ended;
}

}  // namespace uring_relay
