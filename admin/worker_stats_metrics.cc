#include "admin/worker_stats_metrics.h"

#include <algorithm>

namespace tidegate::admin {
namespace {

uint64_t U(const proxy::Counter& c) {
  int64_t v = c.value();
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

// Adds a worker's histogram to `out` (whose bounds are DefaultLatencyBuckets,
// the same as proxy::LatencyHistogram's, in seconds).
void AddHistogram(const proxy::LatencyHistogram& h, HistogramData* out) {
  if (out->upper_bounds.empty()) {
    out->upper_bounds = DefaultLatencyBuckets();
    out->bucket_counts.assign(out->upper_bounds.size() + 1, 0);
  }
  for (size_t i = 0; i < proxy::LatencyHistogram::kBuckets && i < out->bucket_counts.size(); ++i) {
    uint64_t n = static_cast<uint64_t>(std::max<int64_t>(h.bucket(i), 0));
    out->bucket_counts[i] += n;
    out->count += n;
  }
  out->sum += static_cast<double>(h.sum_us()) / 1e6;
}

}  // namespace

void AddWorkerStats(const proxy::WorkerStats& s, MetricsSnapshot* out) {
  for (int i = 0; i < 6; ++i) out->responses_by_class[i] += U(s.responses_by_class[i]);
  for (size_t i = 0; i < proxy::kAnswererCount; ++i) {
    auto answerer = static_cast<proxy::Answerer>(i);
    out->answered_by[std::string(proxy::AnswererName(answerer))] += U(s.answered_by(answerer));
  }
  out->origin_errors_by_kind["connect_refused"] += U(s.origin_connect_refused);
  out->origin_errors_by_kind["connect_timeout"] += U(s.origin_connect_timeout);
  out->origin_errors_by_kind["response_timeout"] += U(s.origin_response_timeout);
  out->origin_errors_by_kind["read_timeout"] += U(s.origin_read_timeout);
  out->origin_errors_by_kind["reset"] += U(s.origin_reset);
  out->origin_errors_by_kind["bad_response"] += U(s.origin_bad_response);
  out->origin_errors_by_kind["closed_early"] += U(s.origin_closed_early);
  out->origin_errors_by_kind["extra_bytes"] += U(s.origin_extra_bytes);
  out->origin_errors_by_kind["own_cookie"] += U(s.origin_own_cookie);
  out->origin_retries_total += U(s.origin_retries);
  out->connections_accepted_total += U(s.connections_accepted);
  out->connections_compacted_total += U(s.connections_compacted);
  out->connections_lingered_total += U(s.connections_lingered);
  out->connections_active += s.connections_active.value();
  out->client_errors_by_kind["idle_closed"] += U(s.connections_idle_closed);
  out->client_errors_by_kind["header_timeout"] += U(s.client_header_timeouts);
  out->client_errors_by_kind["body_timeout"] += U(s.client_body_timeouts);
  out->client_errors_by_kind["send_timeout"] += U(s.client_send_timeouts);
  out->client_errors_by_kind["parse_error"] += U(s.client_parse_errors);
  out->client_errors_by_kind["accept_error"] += U(s.accept_errors);
  out->pool_idle_connections += s.pool_idle.value();
  out->pool_reused_total += U(s.pool_reused);
  out->pool_connects_total += U(s.pool_connects);
  AddHistogram(s.request_duration, &out->request_duration);
  AddHistogram(s.origin_duration, &out->origin_duration);
}

MetricsSnapshot WorkerStatsMetricsSource::Collect() const {
  MetricsSnapshot m;
  m.request_duration.upper_bounds = DefaultLatencyBuckets();
  m.request_duration.bucket_counts.assign(m.request_duration.upper_bounds.size() + 1, 0);
  m.origin_duration = m.request_duration;
  m.store_latency = m.request_duration;
  if (workers_) {
    for (const proxy::WorkerStats* stats : workers_()) {
      if (stats != nullptr) AddWorkerStats(*stats, &m);
    }
  }
  if (extra_) extra_(&m);
  return m;
}

}  // namespace tidegate::admin
