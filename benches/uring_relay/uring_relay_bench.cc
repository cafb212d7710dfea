// uring_relay_bench: serves the relay of relay.h on 127.0.0.1:PORT in front
// of an origin on 127.0.0.1:ORIGIN_PORT until SIGTERM/SIGINT, then prints its
// counters on one line. Driven by benches/run_uring_relay.sh, which measures
// the process's CPU time under wrk.
//
//   uring_relay_bench --port P --origin-port O --mode epoll
//   uring_relay_bench --port P --origin-port O --mode uring
//       [--setup plain|coop|single|defer] [--recv oneshot|multishot]
//       [--poll-first] [--read-size BYTES]
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <atomic>
#include <string>

#include "benches/uring_relay/relay.h"

namespace {

std::atomic<bool> stop_requested{false};

[[noreturn]] void Usage() {
  fprintf(stderr,
          "usage: uring_relay_bench --port P --origin-port O --mode epoll|uring\n"
          "         [--setup plain|coop|single|defer] [--recv oneshot|multishot]\n"
          "         [--poll-first] [--read-size BYTES]\n");
  exit(2);
}

int Listen(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || listen(fd, 4096) < 0) {
    perror("listen");
    exit(2);
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  uint16_t port = 0, origin_port = 0;
  std::string mode;
  uring_relay::UringOptions uring;
  uring_relay::EpollOptions epoll;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--poll-first") {
      uring.poll_first = true;
      continue;
    }
    if (i + 1 >= argc) Usage();
    std::string v = argv[++i];
    if (a == "--port") {
      port = static_cast<uint16_t>(std::stoul(v));
    } else if (a == "--origin-port") {
      origin_port = static_cast<uint16_t>(std::stoul(v));
    } else if (a == "--mode") {
      mode = v;
    } else if (a == "--setup") {
      uring.setup = v;
    } else if (a == "--recv") {
      uring.recv = v;
    } else if (a == "--read-size") {
      uring.read_size = epoll.read_size = std::stoul(v);
    } else {
      Usage();
    }
  }
  if (port == 0 || origin_port == 0 || (mode != "epoll" && mode != "uring")) Usage();
  if (uring.recv != "oneshot" && uring.recv != "multishot") Usage();

  struct sigaction sa {};
  sa.sa_handler = [](int) { stop_requested = true; };
  sigaction(SIGTERM, &sa, nullptr);  // no SA_RESTART: the wait returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  int listen_fd = Listen(port);
  uring_relay::RelayCounters c =
      mode == "epoll" ? uring_relay::RunEpollRelay(epoll, listen_fd, origin_port, stop_requested)
                      : uring_relay::RunUringRelay(uring, listen_fd, origin_port, stop_requested);
  printf("mode=%s connections=%llu requests=%llu responses=%llu loop_turns=%llu\n", mode.c_str(),
         static_cast<unsigned long long>(c.connections),
         static_cast<unsigned long long>(c.requests), static_cast<unsigned long long>(c.responses),
         static_cast<unsigned long long>(c.loop_turns));
  return 0;
}
