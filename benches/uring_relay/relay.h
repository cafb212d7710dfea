// The relay of uring_relay_bench: a minimal HTTP/1.1 keep-alive pass-through
// proxy on one thread, written twice — once on epoll, once on io_uring — to
// measure what the I/O mechanism alone costs per proxied request (issue 15).
//
// Both relays accept client connections on `listen_fd`, open one upstream
// connection to 127.0.0.1:`origin_port` per client connection on its first
// request (blocking connect: once per connection, not per request) and keep
// it for the connection's life. Each request's bytes go upstream as they
// arrive; each response (a head up to the blank line, then a Content-Length
// body) goes back to the client. The only HTTP work is finding "\r\n\r\n" and
// Content-Length (MessageFramer): a lower bound of what any proxy pays.
//
// A measuring device, not a proxy: no chunked bodies, no pipelining beyond
// what arrives in one read, no timeouts. Run*Relay owns the calling thread
// until *stop is set (a signal handler), then closes every connection it
// opened and returns its counters. Errors at start-up exit the process.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace uring_relay {

struct RelayCounters {
  uint64_t connections = 0;  // client connections accepted
  uint64_t requests = 0;     // request heads forwarded upstream
  uint64_t responses = 0;    // complete responses relayed to clients
  uint64_t loop_turns = 0;   // epoll_wait / io_uring_submit_and_wait calls
};

struct EpollOptions {
  size_t read_size = 32 * 1024;  // one recv per readable event (tidegate's upstream read size)
};

// Level-triggered epoll; per direction one recv and one writev per readable
// event (tidegate's system-call pattern). A short write parks the rest and
// stops reading the source until the sink drains.
RelayCounters RunEpollRelay(const EpollOptions& options, int listen_fd, uint16_t origin_port,
                            const std::atomic<bool>& stop);

struct UringOptions {
  // Ring set-up: "plain" (0), "coop" (COOP_TASKRUN), "single" (SINGLE_ISSUER |
  // COOP_TASKRUN), "defer" (SINGLE_ISSUER | DEFER_TASKRUN).
  std::string setup = "defer";
  // "oneshot": one recv per SQE, re-armed after the data was sent on;
  // "multishot": multishot recv into a provided buffer ring.
  std::string recv = "oneshot";
  bool poll_first = false;  // oneshot: IORING_RECVSEND_POLL_FIRST on upstream recvs
  size_t read_size = 32 * 1024;
  unsigned entries = 1024;  // submission queue entries
  unsigned max_connections = 4096;
};

// io_uring through liburing: multishot accept, every socket in the ring's
// registered file table (IOSQE_FIXED_FILE: no per-call file reference), the
// ring's own descriptor registered, and one io_uring_submit_and_wait per loop
// turn that submits every connection's SQEs at once.
RelayCounters RunUringRelay(const UringOptions& options, int listen_fd, uint16_t origin_port,
                            const std::atomic<bool>& stop);

// Opens a TCP connection to 127.0.0.1:port (blocking connect, TCP_NODELAY);
// -1 when the origin refused.
int ConnectOrigin(uint16_t port);

}  // namespace uring_relay
