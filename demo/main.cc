// demo_shop: a small shop origin for tidegate's demo, tests and benches.
//
//   demo_shop --listen 127.0.0.1:9000     (port 0 picks a free port)
//   demo_shop --listen 127.0.0.1:0 --capacity 50 --service-time 20ms
//             [--backlog K] [--max-wait 2s]   (a shop with a fixed capacity,
//                                              see demo/capacity.h)
//
// Once listening it prints exactly one line to stdout,
//   demo_shop listening on HOST:PORT
// and flushes it. SIGTERM or SIGINT stops it cleanly (exit status 0).
#include <event2/event.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "demo/shop_server.h"

namespace {

constexpr const char* kUsage =
    "usage: demo_shop --listen HOST:PORT [--capacity N --service-time D [--backlog K] "
    "[--max-wait D]]\n"
    "  D: milliseconds with a unit, e.g. 20ms, 2s\n";

struct Options {
  std::string host = "127.0.0.1";
  int port = 9000;
  tidegate::demo::CapacityOptions capacity;
};

// A whole number in [min, max].
bool ParseBounded(std::string_view text, long min, long max, long* out) {
  if (text.empty() || text.size() > 9) return false;
  long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value < min || value > max) return false;
  *out = value;
  return true;
}

// --capacity, --service-time, --backlog, --max-wait (value in `value`).
bool ParseCapacityFlag(std::string_view flag, const std::string& value, Options* options) {
  tidegate::demo::CapacityOptions& c = options->capacity;
  long number = 0;
  if (flag == "--capacity") {
    if (!ParseBounded(value, 1, 100000, &number)) return false;
    c.workers = static_cast<int>(number);
    return true;
  }
  if (flag == "--backlog") {
    if (!ParseBounded(value, 0, 100000000, &number)) return false;
    c.backlog = number;
    return true;
  }
  if (flag == "--service-time") return tidegate::demo::ParseMilliseconds(value, &c.service_time);
  if (flag == "--max-wait") return tidegate::demo::ParseMilliseconds(value, &c.max_wait);
  return false;
}

// Parses "HOST:PORT" or "[V6]:PORT".
bool ParseListen(std::string_view text, Options* options) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (port.empty() || port.size() > 5) return false;
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return false;
  options->host = std::string(host);
  options->port = value;
  return true;
}

bool ParseArgs(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--listen" && i + 1 < argc) {
      if (!ParseListen(argv[++i], options)) return false;
    } else if (arg.substr(0, 9) == "--listen=") {
      if (!ParseListen(arg.substr(9), options)) return false;
    } else if ((arg == "--capacity" || arg == "--service-time" || arg == "--backlog" ||
                arg == "--max-wait") &&
               i + 1 < argc) {
      if (!ParseCapacityFlag(arg, argv[++i], options)) return false;
    } else {
      return false;
    }
  }
  // The capacity knobs mean nothing without --capacity.
  const tidegate::demo::CapacityOptions& c = options->capacity;
  if (c.workers == 0 && (c.service_time.count() > 0 || c.backlog >= 0 || c.max_wait.count() > 0)) {
    return false;
  }
  return true;
}

void OnStopSignal(evutil_socket_t, short, void* arg) {
  event_base_loopexit(static_cast<event_base*>(arg), nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!ParseArgs(argc, argv, &options)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<event_base, decltype(&event_base_free)> base(event_base_new(), &event_base_free);
  if (!base) {
    std::fputs("demo_shop: cannot create event base\n", stderr);
    return 1;
  }
  int exit_code = 0;
  {
    tidegate::demo::ShopServer server(base.get(), options.capacity);
    int port = 0;
    std::string error;
    if (!server.Listen(options.host, options.port, &port, &error)) {
      std::fprintf(stderr, "demo_shop: %s\n", error.c_str());
      return 1;
    }
    std::unique_ptr<event, decltype(&event_free)> sigterm(
        evsignal_new(base.get(), SIGTERM, &OnStopSignal, base.get()), &event_free);
    std::unique_ptr<event, decltype(&event_free)> sigint(
        evsignal_new(base.get(), SIGINT, &OnStopSignal, base.get()), &event_free);
    evsignal_add(sigterm.get(), nullptr);
    evsignal_add(sigint.get(), nullptr);

    const bool v6 = options.host.find(':') != std::string::npos;
    std::printf(v6 ? "demo_shop listening on [%s]:%d\n" : "demo_shop listening on %s:%d\n",
                options.host.c_str(), port);
    std::fflush(stdout);

    if (event_base_dispatch(base.get()) < 0) exit_code = 1;
  }
  return exit_code;
}
