// The relay under test of splice_relay_bench: one thread that forwards
// requests from client sockets to origin sockets and relays each response
// (a head and a Content-Length body) back, the way a pass-through proxy
// does, with one of three body paths:
//   kCopy     read() into a user buffer (read_chunk, 32 KiB as tidegate),
//             then writev() head + body (what tidegate does today: every
//             body byte is copied into user space and out again);
//   kSplice   the first read() takes at most `head_read` bytes (the head and
//             the start of the body), the rest of the body goes
//             socket -> pipe -> socket with splice(2), never into user space;
//   kZerocopy as kCopy, but the client write is send(MSG_ZEROCOPY) (the
//             pages are pinned instead of copied; completions are reaped from
//             the socket's error queue before the buffer is reused).
//
// Contract: Run() owns the thread that calls it until `stop` is set; the
// sockets are non-blocking, connected pairs (client_fds[i] <-> origin_fds[i]),
// owned by the caller. The relay measures its own CPU (getrusage
// RUSAGE_THREAD) between the moments `measure` becomes true and `stop`
// becomes true, and counts the responses and system calls in that window.
// A measuring device, not a proxy: a full socket blocks the whole relay in
// poll() (at most 5 s), requests are forwarded as bytes, and only
// Content-Length responses whose head fits the first read are understood.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace splice_bench {

enum class Mode { kCopy, kSplice, kZerocopy };

struct RelayFigures {
  uint64_t responses = 0;        // complete responses relayed in the window
  double user_us = 0;            // relay thread's user CPU in the window
  double sys_us = 0;             // relay thread's system CPU in the window
  uint64_t syscalls = 0;         // read/write/splice/epoll/poll calls in the window
  uint64_t zerocopy_copied = 0;  // kZerocopy: completions marked "copied"
};

struct RelayOptions {
  Mode mode = Mode::kCopy;
  size_t read_chunk = 32 * 1024;  // size of a read (tidegate's upstream read size)
  size_t head_read = 1024;        // kSplice: size of the first read of a response
  size_t pipe_size = 0;           // kSplice: F_SETPIPE_SZ when non-zero
  bool cork = false;              // kSplice: head sent with MSG_MORE before the spliced body
};

// Relays until *stop; returns the figures of the measured window.
RelayFigures RunRelay(const RelayOptions& options, const std::vector<int>& client_fds,
                      const std::vector<int>& origin_fds, const std::atomic<bool>& measure,
                      const std::atomic<bool>& stop);

// Serve mode, for a load generator and a real origin (splice_relay_wrk.sh):
// accepts clients on the non-blocking `listen_fd`, connects each to
// 127.0.0.1:`origin_port` and relays until *stop. Owns the accepted and
// connected sockets; a connection that ends closes its pair. Measures
// nothing (the caller reads the process's CPU time).
void ServeRelay(const RelayOptions& options, int listen_fd, uint16_t origin_port,
                const std::atomic<bool>& stop);

}  // namespace splice_bench
