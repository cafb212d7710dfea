// Per-worker counters, later exposed on /metrics.
//
// Contract: one WorkerStats per worker. Only the owning worker thread
// increments (single writer: a relaxed load + store, no lock, no atomic
// read-modify-write); any thread may read a value at any time (relaxed; a
// reader sees a recent value, never a torn one).
#pragma once

#include <atomic>
#include <cstdint>

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

struct WorkerStats {
  // Finished exchanges by status class: [1]=1xx … [5]=5xx, [0]=no status
  // (client went away before a response head).
  Counter responses_by_class[6];
  // Who answered.
  Counter answered_origin, answered_builtin, answered_proxy;
  // Origin failures by kind.
  Counter origin_connect_refused, origin_connect_timeout, origin_response_timeout,
      origin_read_timeout, origin_reset, origin_bad_response, origin_closed_early, origin_retries;
  // Client side.
  Counter connections_accepted, connections_active, connections_idle_closed, client_header_timeouts,
      client_body_timeouts, client_send_timeouts, client_parse_errors, accept_errors;
  // Upstream pool.
  Counter pool_idle, pool_reused, pool_connects;
};

}  // namespace tidegate::proxy
