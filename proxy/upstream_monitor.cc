#include "proxy/upstream_monitor.h"

#include <event2/util.h>

#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "proxy/health_check.h"
#include "proxy/health_tally.h"

namespace tidegate::proxy {

using Clock = std::chrono::steady_clock;

struct UpstreamMonitor::Shared {
  Shared(const config::UpstreamConfig& config, std::vector<UpstreamServer> initial)
      : config(config),
        book(config.servers, initial),
        published(std::make_shared<const UpstreamAddresses>(UpstreamAddresses{1, initial})),
        healthy(new std::atomic<bool>[initial.size()]),
        tallies(initial.size(), HealthTally(config.health.rise, config.health.fall)),
        last_check(initial.size()),
        passed(initial.size(), 0),
        failed(initial.size(), 0) {
    for (size_t i = 0; i < initial.size(); ++i) healthy[i].store(true);
  }

  void Run();
  void CheckAll();
  std::vector<UpstreamReport> Reports() const;  // monitor thread (or before it starts)
  void Report();

  const config::UpstreamConfig config;
  uint64_t generation = 0;
  HealthBoard* board = nullptr;  // touched only under `mutex` and while !stop
  AddressBook book;              // monitor thread only
  Published<UpstreamAddresses> published;
  std::unique_ptr<std::atomic<bool>[]> healthy;
  std::vector<HealthTally> tallies;  // monitor thread only
  std::vector<std::string> last_check;
  std::vector<uint64_t> passed, failed;

  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
};

namespace {

std::string AddressText(const UpstreamServer& server) {
  char ip[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (server.addr.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&server.addr);
    evutil_inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof(ip));
    port = ntohs(v4->sin_port);
    return std::string(ip) + ":" + std::to_string(port);
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&server.addr);
  evutil_inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof(ip));
  port = ntohs(v6->sin6_port);
  // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) on
  // "literal" + std::string&&.
  std::string text = "[";
  text += ip;
  text += "]:";
  text += std::to_string(port);
  return text;
}

}  // namespace

std::vector<UpstreamReport> UpstreamMonitor::Shared::Reports() const {
  std::vector<UpstreamReport> out;
  for (size_t i = 0; i < book.servers().size(); ++i) {
    UpstreamReport r;
    r.server = book.servers()[i].text;
    r.address = AddressText(book.servers()[i]);
    r.checked = !config.health.path.empty();
    r.healthy = healthy[i].load(std::memory_order_relaxed);
    r.checks_passed = passed[i];
    r.checks_failed = failed[i];
    r.last_check = last_check[i];
    r.resolve_failures = book.names()[i].resolve_failures;
    r.resolve_error = book.names()[i].last_error;
    out.push_back(std::move(r));
  }
  return out;
}

void UpstreamMonitor::Shared::Report() {
  std::vector<UpstreamReport> reports = Reports();
  std::lock_guard<std::mutex> lock(mutex);
  if (!stop && board != nullptr) board->SetUpstreams(generation, std::move(reports));
}

void UpstreamMonitor::Shared::CheckAll() {
  const UpstreamAddresses& now = *published.Load();
  for (size_t i = 0; i < now.servers.size(); ++i) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (stop) return;
    }
    HealthCheckResult result = RunHealthCheck(now.servers[i], config.servers[i].text,
                                              config.health.path, config.health.timeout);
    ++(result.passed ? passed[i] : failed[i]);
    last_check[i] = result.detail;
    if (tallies[i].Record(result.passed)) {
      healthy[i].store(tallies[i].healthy(), std::memory_order_relaxed);
    }
  }
}

void UpstreamMonitor::Shared::Run() {
  // Signals are the control thread's (evsignal there); none lands here.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  const bool resolving = book.has_names();
  const bool checking = !config.health.path.empty();
  Clock::time_point next_resolve = Clock::now() + config.resolve_interval;
  Clock::time_point next_check = Clock::now();
  for (;;) {
    Clock::time_point next = Clock::time_point::max();
    if (resolving) next = std::min(next, next_resolve);
    if (checking) next = std::min(next, next_check);
    {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait_until(lock, next, [this] { return stop; });
      if (stop) return;
    }
    if (resolving && Clock::now() >= next_resolve) {
      if (book.Refresh(ResolveHost)) {
        auto current = published.Load();
        published.Publish(std::make_shared<const UpstreamAddresses>(
            UpstreamAddresses{current->version + 1, book.servers()}));
      }
      next_resolve = Clock::now() + config.resolve_interval;
    }
    if (checking && Clock::now() >= next_check) {
      CheckAll();
      next_check = Clock::now() + config.health.interval;
    }
    Report();
  }
}

UpstreamMonitor::UpstreamMonitor(const config::UpstreamConfig& config,
                                 std::vector<UpstreamServer> initial, uint64_t generation,
                                 HealthBoard* board)
    : shared_(std::make_shared<Shared>(config, std::move(initial))) {
  shared_->generation = generation;
  shared_->board = board;
  shared_->Report();
  if (shared_->book.has_names() || !config.health.path.empty()) {
    std::thread([shared = shared_] { shared->Run(); }).detach();
  }
}

UpstreamMonitor::~UpstreamMonitor() {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  shared_->stop = true;
  shared_->wake.notify_all();
}

const Published<UpstreamAddresses>& UpstreamMonitor::addresses() const {
  return shared_->published;
}

bool UpstreamMonitor::healthy(size_t index) const {
  return shared_->healthy[index].load(std::memory_order_relaxed);
}

const std::atomic<bool>* UpstreamMonitor::healthy_flags() const { return shared_->healthy.get(); }

}  // namespace tidegate::proxy
