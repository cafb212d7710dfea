// RunEpollRelay (relay.h): level-triggered epoll, one recv and one writev per
// readable event and direction, as tidegate's workers call them.
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "benches/uring_relay/framing.h"
#include "benches/uring_relay/relay.h"

namespace uring_relay {
namespace {

[[noreturn]] void Die(const char* what) {
  perror(what);
  exit(2);
}

// One client connection and its upstream connection.
struct Conn {
  int client = -1;
  int upstream = -1;
  MessageFramer requests;
  MessageFramer responses;
  std::string to_upstream;  // bytes a short write left, sent when writable
  std::string to_client;
  bool closed = false;
};

// epoll_event.data.u64: the connection's slot, shifted, and the side.
constexpr uint64_t kListenTag = ~uint64_t{0};
constexpr uint64_t Tag(size_t slot, bool upstream) { return (uint64_t{slot} << 1) | upstream; }

class EpollRelay {
 public:
  EpollRelay(const EpollOptions& options, int listen_fd, uint16_t origin_port)
      : buffer_(options.read_size), listen_fd_(listen_fd), origin_port_(origin_port) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) Die("epoll_create1");
    Control(EPOLL_CTL_ADD, listen_fd, EPOLLIN, kListenTag);
  }
  ~EpollRelay() {
    for (auto& c : conns_) {
      if (c) Close(*c);
    }
    close(epoll_);
  }

  RelayCounters Run(const std::atomic<bool>& stop);

 private:
  void Control(int op, int fd, uint32_t events, uint64_t tag);
  void Accept();
  void OnReadable(size_t slot, bool upstream);
  void OnWritable(size_t slot, bool upstream);
  // One writev of `data` to the other side; a short write parks the rest in
  // c.to_upstream / c.to_client (OnReadable then swaps the interests).
  // False: the peer failed.
  bool Send(Conn& c, bool to_upstream, const char* data, size_t n);
  void Close(Conn& c);

  std::vector<char> buffer_;
  int listen_fd_;
  uint16_t origin_port_;
  int epoll_ = -1;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<size_t> free_slots_;
  std::vector<size_t> closed_slots_;  // freed at the end of the loop turn
  RelayCounters counters_;
};

void EpollRelay::Control(int op, int fd, uint32_t events, uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  if (epoll_ctl(epoll_, op, fd, &ev) < 0) Die("epoll_ctl");
}

void EpollRelay::Accept() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
      Die("accept4");
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    size_t slot;
    if (free_slots_.empty()) {
      slot = conns_.size();
      conns_.emplace_back();
    } else {
      slot = free_slots_.back();
      free_slots_.pop_back();
    }
    conns_[slot] = std::make_unique<Conn>();
    conns_[slot]->client = fd;
    Control(EPOLL_CTL_ADD, fd, EPOLLIN, Tag(slot, false));
    ++counters_.connections;
  }
}

void EpollRelay::Close(Conn& c) {
  if (c.closed) return;
  c.closed = true;
  if (c.client >= 0) close(c.client);  // also leaves the epoll set
  if (c.upstream >= 0) close(c.upstream);
}

bool EpollRelay::Send(Conn& c, bool to_upstream, const char* data, size_t n) {
  int fd = to_upstream ? c.upstream : c.client;
  iovec iov{const_cast<char*>(data), n};
  ssize_t w = writev(fd, &iov, 1);
  if (w < 0) {
    if (errno != EAGAIN) return false;
    w = 0;
  }
  if (static_cast<size_t>(w) == n) return true;
  // Rare on loopback: park the rest, stop reading the source until it drains.
  (to_upstream ? c.to_upstream : c.to_client).assign(data + w, n - w);
  return true;
}

void EpollRelay::OnReadable(size_t slot, bool upstream) {
  Conn& c = *conns_[slot];
  if (c.closed) return;
  int fd = upstream ? c.upstream : c.client;
  ssize_t n = recv(fd, buffer_.data(), buffer_.size(), 0);
  if (n <= 0) {
    if (n < 0 && errno == EAGAIN) return;
    Close(c);
    closed_slots_.push_back(slot);
    return;
  }
  if (upstream) {
    counters_.responses += c.responses.Feed(buffer_.data(), n);
  } else {
    counters_.requests += c.requests.Feed(buffer_.data(), n);
    if (c.upstream < 0) {
      c.upstream = ConnectOrigin(origin_port_);
      if (c.upstream < 0) Die("connect origin");
      Control(EPOLL_CTL_ADD, c.upstream, EPOLLIN, Tag(slot, true));
    }
  }
  if (!Send(c, !upstream, buffer_.data(), n)) {
    Close(c);
    closed_slots_.push_back(slot);
    return;
  }
  std::string& parked = upstream ? c.to_client : c.to_upstream;
  if (!parked.empty()) {
    // Stop reading this side; wait for the other side to drain.
    Control(EPOLL_CTL_MOD, fd, 0, Tag(slot, upstream));
    Control(EPOLL_CTL_MOD, upstream ? c.client : c.upstream, EPOLLIN | EPOLLOUT,
            Tag(slot, !upstream));
  }
}

void EpollRelay::OnWritable(size_t slot, bool upstream) {
  Conn& c = *conns_[slot];
  if (c.closed) return;
  std::string& parked = upstream ? c.to_upstream : c.to_client;
  int fd = upstream ? c.upstream : c.client;
  ssize_t w = send(fd, parked.data(), parked.size(), MSG_NOSIGNAL);
  if (w < 0 && errno != EAGAIN) {
    Close(c);
    closed_slots_.push_back(slot);
    return;
  }
  if (w > 0) parked.erase(0, w);
  if (!parked.empty()) return;
  Control(EPOLL_CTL_MOD, fd, EPOLLIN, Tag(slot, upstream));
  Control(EPOLL_CTL_MOD, upstream ? c.client : c.upstream, EPOLLIN, Tag(slot, !upstream));
}

RelayCounters EpollRelay::Run(const std::atomic<bool>& stop) {
  std::vector<epoll_event> events(512);
  while (!stop.load(std::memory_order_relaxed)) {
    int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
    ++counters_.loop_turns;
    if (n < 0) {
      if (errno == EINTR) continue;
      Die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == kListenTag) {
        Accept();
        continue;
      }
      size_t slot = tag >> 1;
      bool upstream = tag & 1;
      if (events[i].events & EPOLLOUT) OnWritable(slot, upstream);
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) OnReadable(slot, upstream);
    }
    // Slots are reused only after the turn: a later event of the same batch
    // may still name a connection closed earlier in it.
    for (size_t slot : closed_slots_) {
      conns_[slot].reset();
      free_slots_.push_back(slot);
    }
    closed_slots_.clear();
  }
  return counters_;
}

}  // namespace

RelayCounters RunEpollRelay(const EpollOptions& options, int listen_fd, uint16_t origin_port,
                            const std::atomic<bool>& stop) {
  EpollRelay relay(options, listen_fd, origin_port);
  return relay.Run(stop);
}

}  // namespace uring_relay
