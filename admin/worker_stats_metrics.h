// Maps the core's per-worker counters (proxy/worker_stats.h) onto the
// MetricsSnapshot rendered by /metrics: a MetricsSource implementation sums
// every worker's WorkerStats at scrape time with AddWorkerStats().
//
// Contract: AddWorkerStats() only reads the counters (relaxed atomic loads,
// as WorkerStats allows from any thread); call it on the control thread. It
// adds to *out, so call it once per worker on the same snapshot. Histograms
// and the waiting-room, maintenance and banner fields are not in WorkerStats
// yet and are left as they are.
#pragma once

#include <functional>
#include <vector>

#include "admin/metrics.h"
#include "proxy/worker_stats.h"

namespace tidegate::admin {

void AddWorkerStats(const proxy::WorkerStats& stats, MetricsSnapshot* out);

// A MetricsSource for the binary: sums the WorkerStats of every worker at
// each scrape, then lets `extra` add what WorkerStats does not hold (config
// reload counts, room counters, …). Both functions run on the control thread
// inside Collect(); the WorkerStats they return must stay alive meanwhile.
class WorkerStatsMetricsSource : public MetricsSource {
 public:
  using WorkersFn = std::function<std::vector<const proxy::WorkerStats*>()>;
  using ExtraFn = std::function<void(MetricsSnapshot*)>;

  explicit WorkerStatsMetricsSource(WorkersFn workers, ExtraFn extra = nullptr)
      : workers_(std::move(workers)), extra_(std::move(extra)) {}

  MetricsSnapshot Collect() const override;

 private:
  WorkersFn workers_;
  ExtraFn extra_;
};

}  // namespace tidegate::admin
