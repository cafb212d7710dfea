// The relay loop of splice_relay_bench (see relay.h): level-triggered epoll,
// one read (or one splice) per readable event, as tidegate's workers do.
#include "benches/splice_relay/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <string_view>

namespace splice_bench {
namespace {

[[noreturn]] void Die(const char* what) {
  perror(what);
  exit(2);
}

double Micros(const timeval& tv) { return tv.tv_sec * 1e6 + tv.tv_usec; }

struct Pair {
  int client = -1;
  int origin = -1;
  bool in_body = false;  // the head was relayed, body_left bytes remain
  size_t body_left = 0;
  int pipe_r = -1, pipe_w = -1;  // kSplice
  size_t in_pipe = 0;
  uint32_t zc_sent = 0, zc_done = 0;  // kZerocopy: sends and completions
  std::vector<char> buffer;           // kZerocopy: pinned until completion
};

class Relay {
 public:
  Relay(const RelayOptions& options, const std::vector<int>& clients,
        const std::vector<int>& origins)
      : options_(options), pairs_(clients.size()), buffer_(options.read_chunk) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) Die("epoll_create1");
    for (size_t i = 0; i < pairs_.size(); ++i) Setup(i, clients[i], origins[i]);
  }
  ~Relay() {
    for (Pair& p : pairs_) {
      if (p.pipe_r >= 0) close(p.pipe_r);
      if (p.pipe_w >= 0) close(p.pipe_w);
      if (listen_fd_ >= 0 && p.client >= 0) close(p.client);
      if (listen_fd_ >= 0 && p.origin >= 0) close(p.origin);
    }
    close(epoll_);
  }

  // Serve mode: accept clients on `listen_fd`, connect each to the origin.
  Relay(const RelayOptions& options, int listen_fd, uint16_t origin_port)
      : options_(options),
        buffer_(options.read_chunk),
        listen_fd_(listen_fd),
        origin_port_(origin_port) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) Die("epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenEvent;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, listen_fd, &ev) < 0) Die("epoll_ctl listen");
  }

  RelayFigures Run(const std::atomic<bool>& measure, const std::atomic<bool>& stop);

 private:
  static constexpr uint64_t kListenEvent = ~uint64_t{0};

  void Setup(size_t i, int client, int origin);
  void Accept();
  // A connection ended: serve mode closes the pair, pair mode gives up.
  void Close(Pair& p, const char* what);
  void OnClientReadable(Pair& p);
  void OnOriginReadable(Pair& p);
  void StartResponse(Pair& p, char* data, size_t n);
  void SpliceBody(Pair& p);
  // False when the socket failed (serve mode; pair mode exits).
  bool WriteAll(int fd, iovec* iov, int count, Pair* zerocopy, int flags = 0);
  bool WaitWritable(int fd);
  void ReapCompletions(Pair& p, bool wait);
  void Done(Pair& p) {
    p.in_body = false;
    ++responses_;
  }

  RelayOptions options_;
  std::vector<Pair> pairs_;
  int epoll_ = -1;
  std::vector<char> buffer_;  // kCopy, kSplice: options_.read_chunk bytes
  uint64_t responses_ = 0;
  uint64_t syscalls_ = 0;
  uint64_t copied_ = 0;  // zerocopy completions the kernel copied anyway
  int listen_fd_ = -1;   // serve mode: the relay owns every pair's sockets
  uint16_t origin_port_ = 0;
};

void Relay::Accept() {
  for (;;) {
    int client = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      Die("accept4");
    }
    int origin = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(origin_port_);
    if (connect(origin, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) Die("connect origin");
    int one = 1;
    for (int fd : {client, origin}) {
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    pairs_.emplace_back();
    Setup(pairs_.size() - 1, client, origin);
  }
}

void Relay::Close(Pair& p, const char* what) {
  if (listen_fd_ < 0) Die(what);
  for (int* fd : {&p.client, &p.origin, &p.pipe_r, &p.pipe_w}) {
    if (*fd >= 0) close(*fd);  // also leaves the epoll set
    *fd = -1;
  }
}

void Relay::Setup(size_t i, int client, int origin) {
  Pair& p = pairs_[i];
  p.client = client;
  p.origin = origin;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = i * 2;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, client, &ev) < 0) Die("epoll_ctl");
  ev.data.u64 = i * 2 + 1;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, origin, &ev) < 0) Die("epoll_ctl");
  if (options_.mode == Mode::kSplice) {
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) Die("pipe2");
    p.pipe_r = fds[0];
    p.pipe_w = fds[1];
    if (options_.pipe_size != 0 &&
        fcntl(p.pipe_w, F_SETPIPE_SZ, static_cast<int>(options_.pipe_size)) < 0) {
      Die("F_SETPIPE_SZ");
    }
  }
  if (options_.mode == Mode::kZerocopy) {
    int one = 1;
    if (setsockopt(client, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof one) < 0) Die("SO_ZEROCOPY");
    p.buffer.resize(options_.read_chunk);
  }
}

bool Relay::WaitWritable(int fd) {
  pollfd pfd{fd, POLLOUT, 0};
  ++syscalls_;
  if (poll(&pfd, 1, 5000) > 0 && (pfd.revents & POLLOUT)) return true;
  if (listen_fd_ < 0) Die("poll POLLOUT");
  return false;
}

// Writes every byte of iov (the relay has nothing else to do meanwhile: the
// bench's sockets have room for a response almost always).
bool Relay::WriteAll(int fd, iovec* iov, int count, Pair* zerocopy, int flags) {
  while (count > 0) {
    ssize_t n;
    ++syscalls_;
    if (zerocopy != nullptr || flags != 0) {
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = count;
      n = sendmsg(fd, &msg, flags | (zerocopy ? MSG_ZEROCOPY : 0) | MSG_NOSIGNAL);
      if (n > 0 && zerocopy != nullptr) ++zerocopy->zc_sent;
    } else {
      n = writev(fd, iov, count);
    }
    if (n < 0) {
      if (errno == EAGAIN) {
        if (!WaitWritable(fd)) return false;
        continue;
      }
      if (errno == ENOBUFS && zerocopy != nullptr) {  // optmem full: reap first
        ReapCompletions(*zerocopy, true);
        continue;
      }
      if (listen_fd_ >= 0) return false;
      Die("writev");
    }
    size_t left = static_cast<size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

// MSG_ZEROCOPY completions: ranges of send numbers on the error queue.
void Relay::ReapCompletions(Pair& p, bool wait) {
  while (p.zc_done != p.zc_sent) {
    char control[128];
    msghdr msg{};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ++syscalls_;
    if (recvmsg(p.client, &msg, MSG_ERRQUEUE) < 0) {
      if (errno != EAGAIN) Die("recvmsg MSG_ERRQUEUE");
      if (!wait) return;
      pollfd pfd{p.client, 0, 0};  // POLLERR is always reported
      ++syscalls_;
      poll(&pfd, 1, 5000);
      continue;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      auto* err = reinterpret_cast<sock_extended_err*>(CMSG_DATA(c));
      if (err->ee_origin != SO_EE_ORIGIN_ZEROCOPY) continue;
      p.zc_done += err->ee_data - err->ee_info + 1;
      if (err->ee_code & SO_EE_CODE_ZEROCOPY_COPIED) ++copied_;
    }
  }
}

void Relay::OnClientReadable(Pair& p) {
  char request[4096];
  ++syscalls_;
  ssize_t n = read(p.client, request, sizeof request);
  if (n <= 0) {
    if (n < 0 && errno == EAGAIN) return;
    if (listen_fd_ >= 0) return Close(p, "client closed");
    epoll_ctl(epoll_, EPOLL_CTL_DEL, p.client, nullptr);
    epoll_ctl(epoll_, EPOLL_CTL_DEL, p.origin, nullptr);
    return;
  }
  iovec iov{request, static_cast<size_t>(n)};
  if (!WriteAll(p.origin, &iov, 1, nullptr)) Close(p, "origin write");
}

// The first bytes of a response: parse the head (status line, headers,
// Content-Length), then write the head and the body bytes that came with it.
void Relay::StartResponse(Pair& p, char* data, size_t n) {
  std::string_view bytes(data, n);
  size_t end = bytes.find("\r\n\r\n");
  size_t length_at = bytes.find("\r\nContent-Length: ");
  if (end == std::string_view::npos || length_at == std::string_view::npos || length_at > end) {
    fprintf(stderr, "relay: the first read holds no complete head (%zu bytes)\n", n);
    exit(2);
  }
  size_t head = end + 4;
  size_t length = strtoull(data + length_at + 18, nullptr, 10);
  size_t body = n - head;
  if (body > length) {
    fprintf(stderr, "relay: more bytes than Content-Length\n");
    exit(2);
  }
  iovec iov[2] = {{data, head}, {data + head, body}};
  Pair* zc = options_.mode == Mode::kZerocopy ? &p : nullptr;
  // kSplice: the spliced rest of the body follows at once; MSG_MORE lets
  // the head leave in the same segment as the body (one wake-up of the peer).
  int more = options_.mode == Mode::kSplice && options_.cork && length > body ? MSG_MORE : 0;
  if (!WriteAll(p.client, iov, body > 0 ? 2 : 1, zc, more)) return Close(p, "client write");
  p.body_left = length - body;
  p.in_body = p.body_left > 0;
  if (!p.in_body) Done(p);
}

void Relay::OnOriginReadable(Pair& p) {
  if (options_.mode == Mode::kSplice && p.in_body) return SpliceBody(p);
  char* buffer = buffer_.data();
  size_t max = options_.read_chunk;
  if (options_.mode == Mode::kZerocopy) {
    ReapCompletions(p, true);  // the buffer is the kernel's until then
    buffer = p.buffer.data();
  }
  if (options_.mode == Mode::kSplice) max = std::min(options_.head_read, max);
  ++syscalls_;
  ssize_t n = read(p.origin, buffer, max);
  if (n <= 0) {
    if (n < 0 && errno == EAGAIN) return;
    return Close(p, "origin read");
  }
  if (!p.in_body) {
    StartResponse(p, buffer, static_cast<size_t>(n));
    // A full first read of a spliced response: the rest is there already.
    if (p.in_body && options_.mode == Mode::kSplice && static_cast<size_t>(n) == max) {
      SpliceBody(p);
    }
    return;
  }
  size_t got = static_cast<size_t>(n);
  if (got > p.body_left) Die("origin sent more than Content-Length");
  iovec iov{buffer, got};
  if (!WriteAll(p.client, &iov, 1, options_.mode == Mode::kZerocopy ? &p : nullptr)) {
    return Close(p, "client write");
  }
  p.body_left -= got;
  if (p.body_left == 0) Done(p);
}

// One splice from the origin socket into the pipe, then the pipe emptied
// into the client socket.
void Relay::SpliceBody(Pair& p) {
  ++syscalls_;
  ssize_t in =
      splice(p.origin, nullptr, p.pipe_w, nullptr, p.body_left, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (in < 0) {
    if (errno == EAGAIN) return;
    Die("splice in");
  }
  if (in == 0) return Close(p, "origin closed in a body");
  p.in_pipe += static_cast<size_t>(in);
  p.body_left -= static_cast<size_t>(in);
  while (p.in_pipe > 0) {
    ++syscalls_;
    ssize_t out = splice(p.pipe_r, nullptr, p.client, nullptr, p.in_pipe,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK | (p.body_left > 0 ? SPLICE_F_MORE : 0));
    if (out < 0) {
      if (errno != EAGAIN || !WaitWritable(p.client)) return Close(p, "splice out");
      continue;
    }
    p.in_pipe -= static_cast<size_t>(out);
  }
  if (p.body_left == 0) Done(p);
}

RelayFigures Relay::Run(const std::atomic<bool>& measure, const std::atomic<bool>& stop) {
  RelayFigures figures;
  rusage start{};
  uint64_t responses_at = 0, syscalls_at = 0, copied_at = 0;
  bool measuring = false;
  epoll_event events[64];
  while (!stop.load(std::memory_order_relaxed)) {
    if (!measuring && measure.load(std::memory_order_relaxed)) {
      measuring = true;
      getrusage(RUSAGE_THREAD, &start);
      responses_at = responses_;
      syscalls_at = syscalls_;
      copied_at = copied_;
    }
    ++syscalls_;
    int n = epoll_wait(epoll_, events, 64, 50);
    if (n < 0 && errno != EINTR) Die("epoll_wait");
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kListenEvent) {
        Accept();
        continue;
      }
      Pair& p = pairs_[events[i].data.u64 / 2];
      if (p.client < 0) continue;  // closed earlier in this batch
      if (events[i].data.u64 % 2 == 0) {
        OnClientReadable(p);
      } else {
        OnOriginReadable(p);
      }
    }
  }
  if (!measuring) return figures;
  rusage end{};
  getrusage(RUSAGE_THREAD, &end);
  figures.responses = responses_ - responses_at;
  figures.syscalls = syscalls_ - syscalls_at;
  figures.zerocopy_copied = copied_ - copied_at;
  figures.user_us = Micros(end.ru_utime) - Micros(start.ru_utime);
  figures.sys_us = Micros(end.ru_stime) - Micros(start.ru_stime);
  return figures;
}

}  // namespace

RelayFigures RunRelay(const RelayOptions& options, const std::vector<int>& client_fds,
                      const std::vector<int>& origin_fds, const std::atomic<bool>& measure,
                      const std::atomic<bool>& stop) {
  Relay relay(options, client_fds, origin_fds);
  return relay.Run(measure, stop);
}

void ServeRelay(const RelayOptions& options, int listen_fd, uint16_t origin_port,
                const std::atomic<bool>& stop) {
  Relay relay(options, listen_fd, origin_port);
  std::atomic<bool> measure{false};
  relay.Run(measure, stop);
}

}  // namespace splice_bench
