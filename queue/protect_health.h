// The origin's health as one waiting room's admitted shoppers see it: a
// sliding window of origin samples (time to response headers, and whether
// the exchange failed: 5xx, connect failure, timeout), summarised as a p90
// latency and an error share for the auto-protection controller
// (queue/protect_controller.h, docs/waiting-room.md "Auto-protection").
//
// Contract:
// * Record() is called by worker threads, once per forwarded exchange of
//   the room (RoomGateFilter::OnUpstreamOutcome), with the caller's clock;
//   Read() by whoever runs the controller (the room's tick). Thread-safe:
//   one small mutex, held for a few increments (Record) or one pass over the
//   window (Read). No allocation after construction.
// * Memory is fixed: kBins bins of kBinMillis, each a latency histogram of
//   kLatencyBuckets counts (log scale, 8 buckets per doubling from 0.25 ms
//   to about 67 s: a quantile is known within ±5 %).
// * Clock: callers pass now_ms (wall or fake, but the same clock for Record
//   and Read). A sample older than the window, or from the future by more
//   than one bin, is dropped.
// * Exchanges in flight (Begin/End): an origin that stops answering sends
//   no samples at all, and no samples must never read as healthy. The
//   window also keeps the start times of the exchanges not answered yet
//   (kPendingBins bins of kPendingBinMillis, older ones merged into one
//   overflow count), and Read() with slow_after_ms > 0 counts each one
//   pending longer than that as a sample at its current age (as TCP's RTO
//   or Envoy's adaptive concurrency treat a request outstanding past the
//   deadline): a hung origin reads as slow within slow_after_ms.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>

namespace tidegate::queue {

// One window's summary.
struct OriginHealth {
  uint32_t samples = 0;    // exchanges that reached the origin (+ overdue)
  uint32_t errors = 0;     // of which 5xx, connect failures, timeouts, resets
  int64_t p90_ms = 0;      // 90th percentile of time to response headers, the
                           // slowest sample never counting (see QuantileRank)
  uint32_t overdue = 0;    // of the samples: exchanges still in flight, pending
                           // longer than slow_after_ms (counted at their age)
  uint32_t in_flight = 0;  // exchanges not answered yet (all ages)
  double error_rate() const { return samples == 0 ? 0.0 : double(errors) / samples; }
};

// The rank (1-based, among `n` sorted samples) read as the p90: ceil(0.9 n),
// but never the largest of two or more samples, so that one slow request
// alone never moves the p90.
uint32_t QuantileRank(uint32_t n);

class OriginHealthWindow {
 public:
  static constexpr int64_t kBinMillis = 250;
  static constexpr int kBins = 8;  // the window: 2 s
  static constexpr int64_t kWindowMillis = kBinMillis * kBins;
  static constexpr int kBucketsPerDoubling = 8;
  static constexpr int kDoublings = 18;  // 2^8 µs (0.25 ms) .. 2^26 µs (67 s)
  static constexpr int kLatencyBuckets = kBucketsPerDoubling * kDoublings + 1;

  // One exchange: its time to response headers and whether it failed.
  void Record(int64_t now_ms, int64_t latency_us, bool error);
  // A sample recorded at `recorded_ms` without error turned out to be a
  // failure (the proxy replaced the response by its 502): one more error in
  // that sample's bin, never more errors than samples. Nothing when that
  // bin has left the window (its bin was reused).
  void MarkError(int64_t recorded_ms);
  // The samples of the last `window_ms` (at most kWindowMillis; whole bins)
  // that were recorded at or after `since_ms` (bins starting before it are
  // left out: the controller judges only what followed its last move).
  // With slow_after_ms > 0, every exchange in flight for longer than that
  // is one more sample (and `overdue`) at its age now, whatever since_ms (it
  // is slow now); `in_flight` counts them all.
  OriginHealth Read(int64_t now_ms, int64_t window_ms = kWindowMillis, int64_t since_ms = 0,
                    int64_t slow_after_ms = 0) const;

  // An exchange is handed to the origin at start_ms (Begin) and answered,
  // failed or abandoned (End, with the same start_ms): exactly one End per
  // Begin. Thread-safe, no allocation.
  static constexpr int64_t kPendingBinMillis = 50;
  static constexpr int kPendingBins = 2048;  // about 100 s, then the overflow
  void Begin(int64_t start_ms);
  void End(int64_t start_ms);

  // Histogram bucket of a latency and a representative latency of a bucket
  // (its geometric middle), exposed for tests.
  static int BucketOf(int64_t latency_us);
  static int64_t BucketMiddleUs(int bucket);

 private:
  struct Bin {
    int64_t index = -1;  // now_ms / kBinMillis of the samples in it; -1 = empty
    uint32_t samples = 0;
    uint32_t errors = 0;
    std::array<uint32_t, kLatencyBuckets> latency{};
  };

  struct PendingBin {
    int64_t index = -1;  // start_ms / kPendingBinMillis; -1 = empty
    uint32_t count = 0;
  };

  mutable std::mutex mutex_;
  std::array<Bin, kBins> bins_;
  std::array<PendingBin, kPendingBins> pending_{};
  uint32_t pending_overflow_ = 0;       // exchanges older than the ring
  int64_t pending_overflow_start_ = 0;  // the oldest start among them
};

}  // namespace tidegate::queue
