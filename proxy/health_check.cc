#include "proxy/health_check.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tidegate::proxy {
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` until `deadline`; false on timeout or error.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, static_cast<int>(left.count()));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

HealthCheckResult Fail(std::string detail) { return {false, std::move(detail)}; }

// Reads until the status line is complete; returns its 3-digit code or 0.
int ReadStatus(int fd, Clock::time_point deadline, std::string* detail) {
  std::string head;
  while (head.find("\r\n") == std::string::npos && head.size() < 1024) {
    if (!WaitFor(fd, POLLIN, deadline)) {
      *detail = "timeout";
      return 0;
    }
    char buffer[512];
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      *detail = n == 0 ? "closed before a status line" : std::string("read: ") + strerror(errno);
      return 0;
    }
    head.append(buffer, static_cast<size_t>(n));
  }
  // "HTTP/1.x NNN ..."
  if (head.size() < 12 || head.compare(0, 7, "HTTP/1.") != 0 || head[8] != ' ') {
    *detail = "not an HTTP/1 status line";
    return 0;
  }
  int code = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (head[i] < '0' || head[i] > '9') {
      *detail = "not an HTTP/1 status line";
      return 0;
    }
    code = code * 10 + (head[i] - '0');
  }
  return code;
}

}  // namespace

HealthCheckResult RunHealthCheck(const UpstreamServer& server, const std::string& host,
                                 const std::string& path, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  Fd fd(socket(server.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Fail(std::string("socket: ") + strerror(errno));
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&server.addr), server.addr_len) != 0 &&
      errno != EINPROGRESS) {
    return Fail(std::string("connect: ") + strerror(errno));
  }
  if (!WaitFor(fd.get(), POLLOUT, deadline)) return Fail("connect: timeout");
  int so_error = 0;
  socklen_t len = sizeof(so_error);
  getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len);
  if (so_error != 0) return Fail(std::string("connect: ") + strerror(so_error));

  std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host +
                        "\r\nUser-Agent: tidegate-health-check\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd.get(), POLLOUT, deadline)) return Fail("timeout");
    } else {
      return Fail(std::string("write: ") + strerror(errno));
    }
  }
  std::string detail;
  int code = ReadStatus(fd.get(), deadline, &detail);
  if (code == 0) return Fail(detail);
  std::string status = "status " + std::to_string(code);
  return {code >= 200 && code < 400, status};
}

}  // namespace tidegate::proxy
