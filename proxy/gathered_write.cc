#include "proxy/gathered_write.h"

#include <errno.h>

namespace tidegate::proxy {
namespace {

// Appends the part of `pieces` after the first `skip` bytes to `out`.
void KeepRest(evbuffer* out, const iovec* pieces, int count, size_t skip) {
  for (int i = 0; i < count; ++i) {
    size_t len = pieces[i].iov_len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    evbuffer_add(out, static_cast<const char*>(pieces[i].iov_base) + skip, len - skip);
    skip = 0;
  }
}

// Too many pieces for one gathered call: copy, then write as libevent does.
IoResult CopyThenWrite(int fd, evbuffer* out, const iovec* pieces, int count) {
  KeepRest(out, pieces, count, 0);
  return WriteFromBuffer(out, fd);
}

// Drains `n` written bytes from the start of `out` (frozen by its
// bufferevent outside its callbacks).
void DrainWritten(evbuffer* out, size_t n) {
  evbuffer_unfreeze(out, 1);
  evbuffer_drain(out, n);
  evbuffer_freeze(out, 1);
}

}  // namespace

IoResult WriteGathered(int fd, evbuffer* out, const iovec* pieces, int count) {
  if (count > kMaxGatheredPieces) return CopyThenWrite(fd, out, pieces, count);
  iovec iov[kMaxQueuedPieces + kMaxGatheredPieces];
  size_t queued = evbuffer_get_length(out);
  int n = 0;
  if (queued > 0) {
    evbuffer_iovec vec[kMaxQueuedPieces];
    // With a length (not -1), peek counts every chain needed, also those
    // past the vectors it fills.
    n = evbuffer_peek(out, static_cast<ev_ssize_t>(queued), nullptr, vec, kMaxQueuedPieces);
    if (n > kMaxQueuedPieces || n < 0) return CopyThenWrite(fd, out, pieces, count);
    for (int i = 0; i < n; ++i) {
      iov[i].iov_base = vec[i].iov_base;
      iov[i].iov_len = vec[i].iov_len;
    }
  }
  size_t total = queued;
  for (int i = 0; i < count; ++i) {
    iov[n + i] = pieces[i];
    total += pieces[i].iov_len;
  }
  ssize_t written;
  do {
    written = writev(fd, iov, n + count);
  } while (written < 0 && errno == EINTR);
  size_t done = written > 0 ? static_cast<size_t>(written) : 0;
  if (queued > 0 && done > 0) DrainWritten(out, done < queued ? done : queued);
  if (done == total) return IoResult::kOk;
  IoResult result = IoResult::kWouldBlock;
  if (written < 0 && errno != EAGAIN && errno != EWOULDBLOCK) result = IoResult::kError;
  int saved_errno = errno;
  KeepRest(out, pieces, count, done > queued ? done - queued : 0);
  errno = saved_errno;
  return result;
}

}  // namespace tidegate::proxy
