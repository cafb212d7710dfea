// Per-worker counters, later exposed on /metrics.
//
// Contract: one WorkerStats per worker. Only the owning worker thread
// increments (single writer: a relaxed load + store, no lock, no atomic
// read-modify-write); any thread may read a value at any time (relaxed; a
// reader sees a recent value, never a torn one).
#pragma once

#include <atomic>
#include <cstdint>
#include <iterator>

#include "proxy/answerer.h"

namespace tidegate::proxy {

class Counter {
 public:
  void Add(int64_t delta) {
    value_.store(value_.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A latency histogram with fixed buckets (microseconds): 1 ms … 30 s and
// +Inf, the same bounds as the /metrics histograms (admin/metrics.h
// DefaultLatencyBuckets, in seconds). Single writer, like Counter.
class LatencyHistogram {
 public:
  static constexpr int64_t kUpperBoundsUs[] = {
      1'000,   2'500,   5'000,     10'000,    25'000,    50'000,     100'000,
      250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000, 30'000'000};
  static constexpr size_t kBuckets = std::size(kUpperBoundsUs) + 1;  // + overflow

  void Record(int64_t micros) {
    size_t i = 0;
    while (i < std::size(kUpperBoundsUs) && micros > kUpperBoundsUs[i]) ++i;
    buckets_[i].Inc();
    sum_us_.Add(micros);
  }
  // Not cumulative: each bucket on its own; [kBuckets - 1] is the overflow.
  int64_t bucket(size_t i) const { return buckets_[i].value(); }
  int64_t sum_us() const { return sum_us_.value(); }

 private:
  Counter buckets_[kBuckets];
  Counter sum_us_;
};

struct WorkerStats {
  // Finished exchanges by status class: [1]=1xx … [5]=5xx, [0]=no status
  // (client went away before a response head).
  Counter responses_by_class[6];
  // Who answered: one counter per Answerer value (index static_cast<size_t>).
  Counter answered[kAnswererCount];
  Counter& answered_by(Answerer a) { return answered[static_cast<size_t>(a)]; }
  const Counter& answered_by(Answerer a) const { return answered[static_cast<size_t>(a)]; }
  // Origin failures by kind. origin_own_cookie: responses whose Set-Cookie
  // for one of tidegate's own cookies was removed (proxy/origin_set_cookie.h).
  Counter origin_connect_refused, origin_connect_timeout, origin_response_timeout,
      origin_read_timeout, origin_reset, origin_bad_response, origin_closed_early, origin_retries,
      origin_extra_bytes, origin_own_cookie;
  // Client side.
  Counter connections_accepted, connections_active, connections_idle_closed, client_header_timeouts,
      client_body_timeouts, client_send_timeouts, client_parse_errors, accept_errors;
  // Idle keep-alive connections whose buffers were freed, and connections
  // closed by lingering after an answer (ClientConnection).
  Counter connections_compacted, connections_lingered;
  // Upstream pool.
  Counter pool_idle, pool_reused, pool_connects;
  // Latency: the whole exchange (request start → response done), and the
  // origin's part (request sent → response complete or failed).
  LatencyHistogram request_duration, origin_duration;
};

}  // namespace tidegate::proxy
