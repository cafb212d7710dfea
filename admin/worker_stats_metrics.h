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

#include "admin/metrics.h"
#include "proxy/worker_stats.h"

namespace tidegate::admin {

void AddWorkerStats(const proxy::WorkerStats& stats, MetricsSnapshot* out);

}  // namespace tidegate::admin
