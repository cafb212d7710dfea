#include "queue/protect_health.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace tidegate::queue {
namespace {

constexpr int kFirstDoubling = 8;  // bucket 0 holds everything under 2^8 µs

}  // namespace

uint32_t QuantileRank(uint32_t n) {
  if (n == 0) return 0;
  uint32_t rank = (9 * n + 9) / 10;  // ceil(0.9 n)
  if (n >= 2 && rank > n - 1) rank = n - 1;
  return rank;
}

int OriginHealthWindow::BucketOf(int64_t latency_us) {
  if (latency_us < (int64_t{1} << kFirstDoubling)) return 0;
  auto v = static_cast<uint64_t>(latency_us);
  int doubling = std::bit_width(v) - 1;  // 2^doubling <= v < 2^(doubling+1)
  if (doubling >= kFirstDoubling + kDoublings) return kLatencyBuckets - 1;
  // The kBucketsPerDoubling sub-buckets split [2^d, 2^(d+1)) linearly.
  int sub = static_cast<int>((v - (uint64_t{1} << doubling)) >> (doubling - 3));
  return 1 + (doubling - kFirstDoubling) * kBucketsPerDoubling + sub;
}

int64_t OriginHealthWindow::BucketMiddleUs(int bucket) {
  if (bucket <= 0) return (int64_t{1} << kFirstDoubling) / 2;
  if (bucket >= kLatencyBuckets - 1) return int64_t{1} << (kFirstDoubling + kDoublings);
  int doubling = kFirstDoubling + (bucket - 1) / kBucketsPerDoubling;
  int sub = (bucket - 1) % kBucketsPerDoubling;
  double low = std::ldexp(1.0 + sub / double(kBucketsPerDoubling), doubling);
  double high = std::ldexp(1.0 + (sub + 1) / double(kBucketsPerDoubling), doubling);
  return static_cast<int64_t>(std::sqrt(low * high));
}

void OriginHealthWindow::Record(int64_t now_ms, int64_t latency_us, bool error) {
  int64_t index = now_ms / kBinMillis;
  int bucket = BucketOf(latency_us < 0 ? 0 : latency_us);
  std::lock_guard<std::mutex> lock(mutex_);
  Bin& bin = bins_[static_cast<size_t>(index % kBins)];
  if (bin.index != index) {
    if (bin.index > index) return;  // a late sample from a bin already reused
    bin = Bin{};
    bin.index = index;
  }
  ++bin.samples;
  if (error) ++bin.errors;
  ++bin.latency[static_cast<size_t>(bucket)];
}

void OriginHealthWindow::MarkError(int64_t recorded_ms) {
  int64_t index = recorded_ms / kBinMillis;
  std::lock_guard<std::mutex> lock(mutex_);
  Bin& bin = bins_[static_cast<size_t>(index % kBins)];
  if (bin.index != index || bin.errors >= bin.samples) return;
  ++bin.errors;
}

void OriginHealthWindow::Begin(int64_t start_ms) {
  int64_t index = start_ms / kPendingBinMillis;
  std::lock_guard<std::mutex> lock(mutex_);
  PendingBin& bin = pending_[static_cast<size_t>(index % kPendingBins)];
  if (bin.index != index) {
    if (bin.count > 0) {
      // Exchanges pending for the whole ring: kept as one overflow count
      // (their age read as the oldest's).
      int64_t start = bin.index * kPendingBinMillis;
      pending_overflow_start_ =
          pending_overflow_ == 0 ? start : std::min(pending_overflow_start_, start);
      pending_overflow_ += bin.count;
    }
    bin = PendingBin{index, 0};
  }
  ++bin.count;
}

void OriginHealthWindow::End(int64_t start_ms) {
  int64_t index = start_ms / kPendingBinMillis;
  std::lock_guard<std::mutex> lock(mutex_);
  PendingBin& bin = pending_[static_cast<size_t>(index % kPendingBins)];
  if (bin.index == index && bin.count > 0) {
    --bin.count;
  } else if (pending_overflow_ > 0) {
    --pending_overflow_;
  }
}

OriginHealth OriginHealthWindow::Read(int64_t now_ms, int64_t window_ms, int64_t since_ms,
                                      int64_t slow_after_ms) const {
  int64_t last = now_ms / kBinMillis;
  int64_t bins = std::min<int64_t>(kBins, (window_ms + kBinMillis - 1) / kBinMillis);
  int64_t first = last - bins + 1;
  // A bin is judged only when it started at or after since_ms.
  int64_t first_since = (since_ms + kBinMillis - 1) / kBinMillis;
  if (first_since > first) first = first_since;
  OriginHealth health;
  std::array<uint32_t, kLatencyBuckets> latency{};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Bin& bin : bins_) {
      if (bin.index < first || bin.index > last) continue;
      health.samples += bin.samples;
      health.errors += bin.errors;
      for (size_t i = 0; i < latency.size(); ++i) latency[i] += bin.latency[i];
    }
    auto pending = [&](int64_t start_ms, uint32_t count) {
      health.in_flight += count;
      int64_t age = now_ms - start_ms;
      if (slow_after_ms <= 0 || age <= slow_after_ms) return;
      health.samples += count;
      health.overdue += count;
      latency[static_cast<size_t>(BucketOf(age * 1000))] += count;
    };
    if (pending_overflow_ > 0) pending(pending_overflow_start_, pending_overflow_);
    for (const PendingBin& bin : pending_) {
      if (bin.count > 0) pending(bin.index * kPendingBinMillis, bin.count);
    }
  }
  uint32_t rank = QuantileRank(health.samples);
  uint32_t seen = 0;
  for (size_t i = 0; i < latency.size() && rank > 0; ++i) {
    seen += latency[i];
    if (seen >= rank) {
      health.p90_ms = BucketMiddleUs(static_cast<int>(i)) / 1000;
      break;
    }
  }
  return health;
}

}  // namespace tidegate::queue
