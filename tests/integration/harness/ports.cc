#include "tests/integration/harness/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <random>
#include <set>

namespace tidegate::itest {
namespace {

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// The kernel's ephemeral range: ports it hands out for port-0 binds and as
// source ports of outgoing connections. A probed port outside it cannot be
// taken by some test's client connection between the probe and the bind.
std::pair<int, int> EphemeralRange() {
  int low = 32768, high = 60999;
  if (FILE* f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (fscanf(f, "%d %d", &low, &high) != 2) {
      low = 32768;
      high = 60999;
    }
    fclose(f);
  }
  return {low, high};
}

}  // namespace

uint16_t FreeLoopbackPort() {
  static std::mutex mu;
  static std::set<uint16_t> handed_out;
  static std::mt19937 random(std::random_device{}() ^ static_cast<unsigned>(getpid()));
  std::lock_guard<std::mutex> lock(mu);
  auto [low, high] = EphemeralRange();
  // Below the ephemeral range when there is room (10000..low-1), else port 0.
  const bool below = low > 11000;
  for (int attempt = 0; attempt < 256; ++attempt) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    uint16_t candidate = 0;
    if (below && attempt < 200) {
      candidate = static_cast<uint16_t>(10000 + random() % static_cast<unsigned>(low - 10000));
    }
    sockaddr_in addr = Loopback(candidate);
    socklen_t len = sizeof(addr);
    uint16_t port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    close(fd);
    if (port != 0 && handed_out.insert(port).second) return port;
  }
  return 0;
}

bool PortAccepts(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr = Loopback(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace tidegate::itest
