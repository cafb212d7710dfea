#include "proxy/gathered_write.h"

#include <errno.h>

namespace tidegate::proxy {

IoResult WriteGathered(int fd, const iovec* pieces, int count, evbuffer* rest) {
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += pieces[i].iov_len;
  ssize_t written;
  do {
    written = writev(fd, pieces, count);
  } while (written < 0 && errno == EINTR);
  if (written >= 0 && static_cast<size_t>(written) == total) return IoResult::kOk;
  IoResult result = IoResult::kWouldBlock;
  if (written < 0 && errno != EAGAIN && errno != EWOULDBLOCK) result = IoResult::kError;
  int saved_errno = errno;
  size_t skip = written > 0 ? static_cast<size_t>(written) : 0;
  for (int i = 0; i < count; ++i) {
    size_t len = pieces[i].iov_len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    evbuffer_add(rest, static_cast<const char*>(pieces[i].iov_base) + skip, len - skip);
    skip = 0;
  }
  errno = saved_errno;
  return result;
}

}  // namespace tidegate::proxy
