// splice_relay_bench: does relaying response bodies without copying them
// through user space cut a pass-through proxy's CPU per response on
// loopback? Three threads in one process, all sockets TCP on 127.0.0.1:
//   client  keeps --conns connections busy: a GET, the whole response, again;
//   relay   (relay.h) forwards each request and relays each response with
//           the mode under test (copy, splice, zerocopy);
//   origin  answers every request with a head and a Content-Length body.
// Only the relay's CPU is measured (getrusage RUSAGE_THREAD, user + system),
// over --duration seconds after --warmup, per relayed response. Modes run
// interleaved (rotating order) in --rounds rounds; the table gives medians.
// Bounded: every run stops after warmup + duration; a stuck socket wait
// gives up after 5 s. Usage: see Usage() or benches/run_splice_relay.sh.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "benches/splice_relay/relay.h"

namespace splice_bench {
namespace {

const char kRequest[] =
    "GET /page HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: splice_relay_bench\r\n"
    "Accept: */*\r\n\r\n";
constexpr size_t kRequestLength = sizeof kRequest - 1;

[[noreturn]] void Die(const char* what) {
  perror(what);
  exit(2);
}

std::string Response(size_t body) {
  std::string r =
      "HTTP/1.1 200 OK\r\nServer: origin\r\nDate: Sat, 05 Dec 2026 08:00:00 GMT\r\n"
      "Content-Type: text/html; charset=utf-8\r\nContent-Length: " +
      std::to_string(body) +
      "\r\nLast-Modified: Fri, 04 Dec 2026 12:00:00 GMT\r\nConnection: keep-alive\r\n"
      "ETag: \"5f3a-24000\"\r\nAccept-Ranges: bytes\r\n\r\n";
  for (size_t i = 0; i < body; ++i) r.push_back(static_cast<char>('a' + i % 26));
  return r;
}

void Tune(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int Listen(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || listen(fd, 1024) < 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) < 0) {
    Die("listen");
  }
  *port = ntohs(a.sin_port);
  return fd;
}

// A connected pair through `listener`: {connecting end, accepted end}.
std::pair<int, int> Connect(int listener, uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) Die("connect");
  int accepted = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (accepted < 0) Die("accept");
  Tune(fd);
  Tune(accepted);
  return {fd, accepted};
}

void WriteAll(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno != EAGAIN) return;  // the run is over, a peer closed
      pollfd pfd{fd, POLLOUT, 0};
      if (poll(&pfd, 1, 5000) <= 0) return;
      continue;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
}

// Runs `on_readable(index)` for every readable fd until `stop`.
template <typename F>
void Loop(const std::vector<int>& fds, const std::atomic<bool>& stop, F on_readable) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (size_t i = 0; i < fds.size(); ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
  }
  epoll_event events[64];
  while (!stop.load(std::memory_order_relaxed)) {
    int n = epoll_wait(ep, events, 64, 50);
    for (int i = 0; i < n; ++i) {
      if (!on_readable(events[i].data.u64))
        epoll_ctl(ep, EPOLL_CTL_DEL, fds[events[i].data.u64], nullptr);
    }
  }
  close(ep);
}

void Origin(const std::vector<int>& fds, const std::string& response,
            const std::atomic<bool>& stop) {
  std::vector<size_t> pending(fds.size());
  Loop(fds, stop, [&](size_t i) {
    char buf[4096];
    ssize_t n = read(fds[i], buf, sizeof buf);
    if (n <= 0) return n < 0 && errno == EAGAIN;
    for (pending[i] += n; pending[i] >= kRequestLength; pending[i] -= kRequestLength) {
      WriteAll(fds[i], response.data(), response.size());
    }
    return true;
  });
}

void Client(const std::vector<int>& fds, size_t response_length, const std::atomic<bool>& stop) {
  std::vector<size_t> received(fds.size());
  std::vector<char> buf(response_length + 4096);
  for (int fd : fds) WriteAll(fd, kRequest, kRequestLength);
  Loop(fds, stop, [&](size_t i) {
    ssize_t n = read(fds[i], buf.data(), buf.size());
    if (n <= 0) return n < 0 && errno == EAGAIN;
    received[i] += static_cast<size_t>(n);
    if (received[i] > response_length) {
      fprintf(stderr, "client: more bytes than one response\n");
      exit(2);
    }
    if (received[i] == response_length) {
      received[i] = 0;
      if (!stop.load(std::memory_order_relaxed)) WriteAll(fds[i], kRequest, kRequestLength);
    }
    return true;
  });
}

// One relay set-up under test: a mode and its sizes ("copy:262144" is copy
// with 256 KiB reads, "splice:4096" splice after a 4 KiB first read).
struct Variant {
  std::string label;
  RelayOptions relay;
};

struct Options {
  std::vector<size_t> sizes{1024, 24 * 1024, 256 * 1024};
  std::vector<std::string> variants{"copy", "splice", "zerocopy"};
  int rounds = 5;
  double duration = 2;
  double warmup = 0.5;
  size_t conns = 16;
  RelayOptions relay;
  uint16_t serve_port = 0;   // serve mode (--serve): listen here
  uint16_t origin_port = 0;  // and relay to 127.0.0.1:origin_port
};

std::atomic<bool> g_serve_stop{false};  // set by SIGTERM/SIGINT in serve mode

// Serve mode: relays a load generator's connections to a real origin with
// the first --modes variant until SIGTERM (see relay.h ServeRelay).
int Serve(const Options& o, const Variant& variant) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(o.serve_port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || listen(fd, 1024) < 0) {
    Die("serve: listen");
  }
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_serve_stop = true; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  fprintf(stderr, "relay %s listening on 127.0.0.1:%u, origin 127.0.0.1:%u\n",
          variant.label.c_str(), o.serve_port, o.origin_port);
  ServeRelay(variant.relay, fd, o.origin_port, g_serve_stop);
  close(fd);
  return 0;
}

RelayFigures RunOnce(const Options& o, size_t size, const RelayOptions& relay) {
  uint16_t relay_port, origin_port;
  int relay_listener = Listen(&relay_port);
  int origin_listener = Listen(&origin_port);
  std::vector<int> client, relay_client, relay_origin, origin;
  for (size_t i = 0; i < o.conns; ++i) {
    auto [c, rc] = Connect(relay_listener, relay_port);
    auto [ro, og] = Connect(origin_listener, origin_port);
    client.push_back(c);
    relay_client.push_back(rc);
    relay_origin.push_back(ro);
    origin.push_back(og);
  }
  close(relay_listener);
  close(origin_listener);
  std::string response = Response(size);
  std::atomic<bool> measure{false}, stop{false};
  RelayFigures figures;
  std::thread origin_thread(Origin, std::cref(origin), std::cref(response), std::cref(stop));
  std::thread relay_thread([&] {
    pthread_setname_np(pthread_self(), "relay");  // for perf --comm relay
    figures = RunRelay(relay, relay_client, relay_origin, measure, stop);
  });
  std::thread client_thread(Client, std::cref(client), response.size(), std::cref(stop));
  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
  measure = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(o.duration));
  stop = true;
  client_thread.join();
  relay_thread.join();
  origin_thread.join();
  for (auto* v : {&client, &relay_client, &relay_origin, &origin}) {
    for (int fd : *v) close(fd);
  }
  return figures;
}

// "copy", "splice", "zerocopy", each optionally ":BYTES" (copy, zerocopy:
// the read size; splice: the first read's size). False when malformed.
bool ParseVariant(const std::string& text, const RelayOptions& defaults, Variant* out) {
  out->label = text;
  out->relay = defaults;
  size_t colon = text.find(':');
  std::string name = text.substr(0, colon);
  if (name == "copy") {
    out->relay.mode = Mode::kCopy;
  } else if (name == "splice") {
    out->relay.mode = Mode::kSplice;
  } else if (name == "zerocopy") {
    out->relay.mode = Mode::kZerocopy;
  } else {
    return false;
  }
  if (colon == std::string::npos) return true;
  size_t bytes = strtoul(text.c_str() + colon + 1, nullptr, 10);
  if (bytes < 1024) return false;
  (name == "splice" ? out->relay.head_read : out->relay.read_chunk) = bytes;
  return true;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t comma; (comma = s.find(',', start)) != std::string::npos; start = comma + 1) {
    out.push_back(s.substr(start, comma - start));
  }
  out.push_back(s.substr(start));
  return out;
}

void Usage() {
  fprintf(stderr,
          "usage: splice_relay_bench [--sizes 1024,24576,262144] [--modes copy,splice,zerocopy]\n"
          "  [--rounds 5] [--duration 2] [--warmup 0.5] [--conns 16] [--read-chunk 32768]\n"
          "  [--head-read 1024] [--pipe-size BYTES] [--cork] [--per-run]\n"
          "  or: splice_relay_bench --serve PORT --origin-port PORT --modes MODE [--cork]\n"
          "copy: read(read-chunk) + writev; splice: read(head-read) + writev of the head,\n"
          "then splice socket -> pipe -> socket (--cork: the head with MSG_MORE);\n"
          "zerocopy: as copy, writes with MSG_ZEROCOPY. A mode may carry its own size:\n"
          "copy:262144 (read size), splice:4096 (first read size). Ratios are to the\n"
          "first mode listed.\n");
  exit(2);
}

Options Parse(int argc, char** argv, bool* per_run) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--per-run") {
      *per_run = true;
      continue;
    }
    if (a == "--cork") {
      o.relay.cork = true;
      continue;
    }
    if (i + 1 >= argc) Usage();
    std::string v = argv[++i];
    if (a == "--sizes") {
      o.sizes.clear();
      for (auto& s : Split(v)) o.sizes.push_back(std::stoul(s));
    } else if (a == "--modes") {
      o.variants = Split(v);
    } else if (a == "--rounds")
      o.rounds = std::stoi(v);
    else if (a == "--duration")
      o.duration = std::stod(v);
    else if (a == "--warmup")
      o.warmup = std::stod(v);
    else if (a == "--conns")
      o.conns = std::stoul(v);
    else if (a == "--head-read")
      o.relay.head_read = std::stoul(v);
    else if (a == "--read-chunk")
      o.relay.read_chunk = std::stoul(v);
    else if (a == "--serve")
      o.serve_port = static_cast<uint16_t>(std::stoul(v));
    else if (a == "--origin-port")
      o.origin_port = static_cast<uint16_t>(std::stoul(v));
    else if (a == "--pipe-size")
      o.relay.pipe_size = std::stoul(v);
    else
      Usage();
  }
  if (o.rounds < 1 || o.duration <= 0 || o.conns < 1 || o.variants.empty() ||
      o.relay.read_chunk < 1024 || o.relay.head_read < 1) {
    Usage();
  }
  return o;
}

}  // namespace
}  // namespace splice_bench

int main(int argc, char** argv) {
  using namespace splice_bench;
  bool per_run = false;
  Options o = Parse(argc, argv, &per_run);
  std::vector<Variant> variants(o.variants.size());
  for (size_t i = 0; i < variants.size(); ++i) {
    if (!ParseVariant(o.variants[i], o.relay, &variants[i])) Usage();
  }
  signal(SIGPIPE, SIG_IGN);  // a closed peer is an error return, not a signal
  if (o.serve_port != 0) {
    if (o.origin_port == 0) Usage();
    return Serve(o, variants[0]);
  }
  // results[size][variant] = one RelayFigures per round
  std::map<size_t, std::vector<std::vector<RelayFigures>>> results;
  for (int round = 0; round < o.rounds; ++round) {
    for (size_t size : o.sizes) {
      results[size].resize(variants.size());
      for (size_t k = 0; k < variants.size(); ++k) {
        size_t v = (k + round) % variants.size();  // rotating order
        RelayFigures f = RunOnce(o, size, variants[v].relay);
        results[size][v].push_back(f);
        if (per_run) {
          fprintf(stderr, "round %d size %zu %-14s responses %lu user %.0f us sys %.0f us\n", round,
                  size, variants[v].label.c_str(), static_cast<unsigned long>(f.responses),
                  f.user_us, f.sys_us);
        }
      }
    }
  }
  printf(
      "| body | mode | CPU us/response | user | sys | syscalls/response | responses/s | CPU vs %s "
      "|\n"
      "|---|---|---|---|---|---|---|---|\n",
      variants[0].label.c_str());
  for (auto& [size, by_variant] : results) {
    double first_cpu = 0;
    for (size_t v = 0; v < variants.size(); ++v) {
      std::vector<double> cpu, user, sys, calls, rate;
      uint64_t copied = 0;
      for (const RelayFigures& f : by_variant[v]) {
        double r = f.responses > 0 ? static_cast<double>(f.responses) : 1;
        cpu.push_back((f.user_us + f.sys_us) / r);
        user.push_back(f.user_us / r);
        sys.push_back(f.sys_us / r);
        calls.push_back(f.syscalls / r);
        rate.push_back(f.responses / o.duration);
        copied += f.zerocopy_copied;
      }
      double c = Median(cpu);
      if (v == 0) first_cpu = c;
      printf("| %zu B | %s%s | %.2f | %.2f | %.2f | %.2f | %.0f | %.2fx |\n", size,
             variants[v].label.c_str(), copied > 0 ? " (kernel copied)" : "", c, Median(user),
             Median(sys), Median(calls), Median(rate), first_cpu > 0 ? c / first_cpu : 0);
    }
  }
  return 0;
}
