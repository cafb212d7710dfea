// SurgeLoad: shoppers browsing a capacity-limited shop through tidegate, for
// the auto-protection tests (tests/integration/protect_test.cc).
//
// Contract:
// * `shoppers` threads, thread t starting at start + t × ramp; each thread is
//   one shopper at a time (closed loop): it arrives (GET /), follows the queue
//   (polls /.tidegate/queue every `poll_interval`) until admitted, then
//   browses `pages` product pages with `think` between them, checks out
//   (Tidegate-Session: end frees its place; also when `until` came while it
//   browsed, so that no session outlives the run) and closes the tab; the
//   next shopper of that thread arrives at once. Threads stop at `until`.
// * Every answer from the shop (not a queue page) is an origin request:
//   status >= 500 counts in origin_5xx, no answer within `timeout` in
//   failures; 2xx–4xx answers record their latency (ms, client side) in
//   `latencies` (admitted shoppers' requests only).
// * Start() returns at once; Join() waits (bounded by `until` plus one
//   request timeout). Results are read after Join(); counters any time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tidegate::itest {

struct SurgeOptions {
  std::vector<uint16_t> ports;  // shopper i uses ports[i % size]
  int shoppers = 16;
  std::chrono::milliseconds ramp{100};
  int pages = 8;
  std::chrono::milliseconds think{200};
  std::chrono::milliseconds poll_interval{500};
  std::chrono::milliseconds timeout{8000};
};

class SurgeLoad {
 public:
  explicit SurgeLoad(SurgeOptions options) : options_(std::move(options)) {}
  ~SurgeLoad() { Join(); }

  void Start(std::chrono::steady_clock::time_point until);
  void Join();

  // Percentile (0–100) of the recorded latencies, ms; 0 when none.
  double LatencyPercentile(double p) const;
  size_t latency_count() const;
  // Origin 5xx + failures over every origin request, as a share.
  double OriginErrorShare() const;

  std::atomic<uint64_t> origin_requests{0};  // shop answers + failures
  std::atomic<uint64_t> origin_5xx{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> queued{0};    // arrivals that got the queue page
  std::atomic<uint64_t> admitted{0};  // shoppers who reached the shop
  std::atomic<uint64_t> checkouts{0};
  std::atomic<uint64_t> inside_max{0};  // most shoppers browsing at once
  std::atomic<uint64_t> inside_now{0};

 private:
  void Run(int index);
  void Record(double ms);

  SurgeOptions options_;
  std::chrono::steady_clock::time_point start_{};
  std::chrono::steady_clock::time_point until_{};
  std::vector<std::thread> threads_;
  mutable std::mutex mutex_;
  std::vector<double> latencies_;
};

}  // namespace tidegate::itest
