#include "tests/integration/harness/connection.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tidegate::itest {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

}  // namespace

const char* ToString(ReadStatus status) {
  switch (status) {
    case ReadStatus::kData:
      return "data";
    case ReadStatus::kTimeout:
      return "timeout";
    case ReadStatus::kClosed:
      return "closed";
    case ReadStatus::kReset:
      return "reset";
    case ReadStatus::kError:
      return "error";
  }
  return "?";
}

Connection::Connection(int fd) : fd_(fd) {
  int flags = fcntl(fd_, F_GETFL, 0);
  fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

Connection::~Connection() { Close(); }

void Connection::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void Connection::ShutdownWrite() {
  if (fd_ >= 0) shutdown(fd_, SHUT_WR);
}

void Connection::Reset() {
  if (fd_ < 0) return;
  linger lin{1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
  Close();
}

std::string Connection::TakeBuffer() {
  std::string out;
  out.swap(buffer_);
  return out;
}

Connection::IoResult Connection::RecvSome(char* data, size_t len, int timeout_ms) {
  pollfd pfd{fd_, POLLIN, 0};
  int r;
  do {
    r = poll(&pfd, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return {ReadStatus::kTimeout};
  if (r < 0) return {ReadStatus::kError};
  ssize_t n;
  do {
    n = recv(fd_, data, len, 0);
  } while (n < 0 && errno == EINTR);
  if (n > 0) return {ReadStatus::kData, static_cast<size_t>(n)};
  if (n == 0) return {ReadStatus::kClosed};
  if (errno == EAGAIN || errno == EWOULDBLOCK) return {ReadStatus::kTimeout};
  if (errno == ECONNRESET) return {ReadStatus::kReset};
  return {ReadStatus::kError};
}

long Connection::SendSome(const char* data, size_t len) {
  ssize_t n;
  do {
    n = send(fd_, data, len, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) return n;
  if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
  return -1;
}

bool Connection::Send(std::string_view bytes) {
  if (fd_ < 0) return false;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!bytes.empty()) {
    long n = SendSome(bytes.data(), bytes.size());
    if (n < 0) {
      if ((errno == EPIPE || errno == ECONNRESET) && !peer_closed_) {
        peer_closed_ = true;
        peer_reset_ = errno == ECONNRESET;
        OnPeerClosed(peer_reset_);
      }
      return false;
    }
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (Clock::now() >= deadline) return false;
    pollfd pfd{fd_, POLLOUT, 0};
    poll(&pfd, 1, 50);
  }
  return true;
}

ReadStatus Connection::ReadMore(milliseconds timeout) {
  if (fd_ < 0) return ReadStatus::kError;
  if (peer_closed_) return peer_reset_ ? ReadStatus::kReset : ReadStatus::kClosed;
  auto deadline = Clock::now() + timeout;
  char chunk[65536];
  for (;;) {
    IoResult r = RecvSome(chunk, sizeof(chunk), RemainingMs(deadline));
    switch (r.status) {
      case ReadStatus::kData:
        buffer_.append(chunk, r.bytes);
        bytes_received_ += r.bytes;
        OnReceived(std::string_view(chunk, r.bytes));
        return ReadStatus::kData;
      case ReadStatus::kTimeout:
        if (RemainingMs(deadline) == 0) return ReadStatus::kTimeout;
        continue;  // spurious wake-up (or TLS record not complete yet)
      case ReadStatus::kClosed:
      case ReadStatus::kReset:
        peer_closed_ = true;
        peer_reset_ = r.status == ReadStatus::kReset;
        OnPeerClosed(peer_reset_);
        return r.status;
      case ReadStatus::kError:
        return r.status;
    }
  }
}

ReadStatus Connection::ReadUntilClose(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    ReadStatus s = ReadMore(milliseconds(RemainingMs(deadline)));
    if (s != ReadStatus::kData) return s;
  }
}

bool Connection::ReadUntilContains(std::string_view needle, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (buffer_.find(needle) == std::string::npos) {
    if (ReadMore(milliseconds(RemainingMs(deadline))) != ReadStatus::kData) {
      return buffer_.find(needle) != std::string::npos;
    }
  }
  return true;
}

bool Connection::ReadAtLeast(size_t n, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (buffer_.size() < n) {
    if (ReadMore(milliseconds(RemainingMs(deadline))) != ReadStatus::kData) {
      return buffer_.size() >= n;
    }
  }
  return true;
}

std::unique_ptr<RawConnection> RawConnection::Connect(uint16_t port, std::string* error) {
  return ConnectFrom("", port, error);
}

std::unique_ptr<RawConnection> RawConnection::ConnectFrom(const std::string& source, uint16_t port,
                                                          std::string* error) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return nullptr;
  }
  if (!source.empty()) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    if (inet_pton(AF_INET, source.c_str(), &from.sin_addr) != 1 ||
        bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0) {
      *error = "bind " + source + ": " + strerror(errno);
      close(fd);
      return nullptr;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      *error = "connect 127.0.0.1:" + std::to_string(port) + ": " + strerror(errno);
      close(fd);
      return nullptr;
    }
    pollfd pfd{fd, POLLOUT, 0};
    if (poll(&pfd, 1, 5000) != 1) {
      *error = "connect 127.0.0.1:" + std::to_string(port) + ": timed out";
      close(fd);
      return nullptr;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      *error = "connect 127.0.0.1:" + std::to_string(port) + ": " + strerror(err);
      close(fd);
      return nullptr;
    }
  }
  return std::make_unique<RawConnection>(fd);
}

std::unique_ptr<RawConnection> ConnectOrFail(uint16_t port) {
  std::string error;
  auto conn = RawConnection::Connect(port, &error);
  if (!conn) ADD_FAILURE() << error;
  return conn;
}

std::unique_ptr<RawConnection> ConnectFromOrFail(const std::string& source, uint16_t port) {
  std::string error;
  auto conn = RawConnection::ConnectFrom(source, port, &error);
  if (!conn) ADD_FAILURE() << error;
  return conn;
}

}  // namespace tidegate::itest
