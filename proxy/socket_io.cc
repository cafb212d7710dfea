#include "proxy/socket_io.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace tidegate::proxy {
namespace {
IoResult ReadIntoThawedBuffer(evbuffer* buffer, evutil_socket_t fd, size_t max, size_t* n);
}  // namespace

IoResult ReadIntoBuffer(evbuffer* buffer, evutil_socket_t fd, size_t max, size_t* n) {
  // A bufferevent keeps the end of its input buffer frozen outside its own
  // callbacks; thaw it for this read only.
  evbuffer_unfreeze(buffer, 0);
  IoResult result = ReadIntoThawedBuffer(buffer, fd, max, n);
  evbuffer_freeze(buffer, 0);
  return result;
}

namespace {
// recv()/recvmsg() rather than read()/readv(): the socket calls skip the VFS
// layer (file position lock, permission hook, fsnotify) that a read() of a
// socket pays on every call; measured in benches/RESULTS.md.
ssize_t ReceiveInto(evutil_socket_t fd, iovec* iov, int count) {
  if (count == 1) return recv(fd, iov[0].iov_base, iov[0].iov_len, 0);
  msghdr message{};
  message.msg_iov = iov;
  message.msg_iovlen = static_cast<size_t>(count);
  return recvmsg(fd, &message, 0);
}

IoResult ReadIntoThawedBuffer(evbuffer* buffer, evutil_socket_t fd, size_t max, size_t* n) {
  evbuffer_iovec vec[2];
  int count = evbuffer_reserve_space(buffer, static_cast<ev_ssize_t>(max), vec, 2);
  if (count <= 0) return IoResult::kError;
  iovec iov[2];
  size_t room = 0;
  for (int i = 0; i < count; ++i) {
    iov[i].iov_base = vec[i].iov_base;
    iov[i].iov_len = vec[i].iov_len;
    room += vec[i].iov_len;
  }
  // Never read more than asked, even if the reservation is larger.
  if (room > max) {
    size_t excess = room - max;
    for (int i = count - 1; i >= 0 && excess > 0; --i) {
      size_t cut = excess < iov[i].iov_len ? excess : iov[i].iov_len;
      iov[i].iov_len -= cut;
      excess -= cut;
    }
  }
  ssize_t got;
  do {
    got = ReceiveInto(fd, iov, count);
  } while (got < 0 && errno == EINTR);
  if (got <= 0) {
    evbuffer_commit_space(buffer, vec, 0);
    if (got == 0) return IoResult::kEof;
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? IoResult::kWouldBlock : IoResult::kError;
  }
  size_t left = static_cast<size_t>(got);
  for (int i = 0; i < count; ++i) {
    size_t used = left < iov[i].iov_len ? left : iov[i].iov_len;
    vec[i].iov_len = used;
    left -= used;
  }
  int used_vecs = count;
  while (used_vecs > 1 && vec[used_vecs - 1].iov_len == 0) --used_vecs;
  evbuffer_commit_space(buffer, vec, used_vecs);
  *n = static_cast<size_t>(got);
  return IoResult::kOk;
}
}  // namespace

IoResult ReadForParse(evbuffer* input, evutil_socket_t fd, char* stack, size_t max, size_t* n) {
  if (stack == nullptr) return ReadIntoBuffer(input, fd, max, n);
  ssize_t got;
  do {
    got = recv(fd, stack, max, 0);
  } while (got < 0 && errno == EINTR);
  if (got > 0) {
    *n = static_cast<size_t>(got);
    return IoResult::kOk;
  }
  if (got == 0) return IoResult::kEof;
  return (errno == EAGAIN || errno == EWOULDBLOCK) ? IoResult::kWouldBlock : IoResult::kError;
}

bool FirstPiece(evbuffer* buffer, const char** data, size_t* len) {
  evbuffer_iovec vec;
  if (evbuffer_peek(buffer, -1, nullptr, &vec, 1) < 1 || vec.iov_len == 0) return false;
  *data = static_cast<const char*>(vec.iov_base);
  *len = vec.iov_len;
  return true;
}

void SettleParsed(evbuffer* input, const char* data, size_t len, size_t consumed, bool from_stack) {
  if (!from_stack) {
    evbuffer_drain(input, consumed);
  } else if (consumed < len) {
    evbuffer_unfreeze(input, 0);
    evbuffer_add(input, data + consumed, len - consumed);
    evbuffer_freeze(input, 0);
  }
}

IoResult WriteFromBuffer(evbuffer* buffer, evutil_socket_t fd) {
  if (evbuffer_get_length(buffer) == 0) return IoResult::kOk;
  // Likewise the start of a bufferevent's output buffer.
  evbuffer_unfreeze(buffer, 1);
  int written;
  do {
    written = evbuffer_write(buffer, fd);
  } while (written < 0 && errno == EINTR);
  evbuffer_freeze(buffer, 1);
  if (written < 0) {
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? IoResult::kWouldBlock : IoResult::kError;
  }
  // Whatever is left did not fit the socket buffer: wait for EPOLLOUT.
  return evbuffer_get_length(buffer) == 0 ? IoResult::kOk : IoResult::kWouldBlock;
}

IoResult FlushDirect(bufferevent* bev, DirectIo* io) {
  IoResult result = WriteFromBuffer(bufferevent_get_output(bev), bufferevent_getfd(bev));
  if (result == IoResult::kWouldBlock) {
    io->write_pending = true;
    bufferevent_enable(bev, EV_WRITE);
  }
  return result;
}

void EndPendingWrite(bufferevent* bev, DirectIo* io) {
  io->write_pending = false;
  bufferevent_disable(bev, EV_WRITE);
}

}  // namespace tidegate::proxy
