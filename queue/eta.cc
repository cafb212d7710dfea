#include "queue/eta.h"

#include <algorithm>
#include <cmath>

namespace tidegate::queue {

void AdmissionRate::Observe(int64_t now_ms, uint64_t admitted_total) {
  if (last_ms_ == 0 || admitted_total < last_total_) {
    last_ms_ = now_ms;
    last_total_ = admitted_total;
    return;
  }
  int64_t elapsed = now_ms - last_ms_;
  if (elapsed < 1000) return;
  double seconds = static_cast<double>(elapsed) / 1000.0;
  double sample = static_cast<double>(admitted_total - last_total_) / seconds;
  double alpha = 1.0 - std::exp(-seconds / kTimeConstantSeconds);
  rate_ = measured_ms_ == 0 ? sample : rate_ + alpha * (sample - rate_);
  measured_ms_ += elapsed;
  last_ms_ = now_ms;
  last_total_ = admitted_total;
}

double AdmissionRate::PerSecond(double fallback) const {
  return measured_ms_ >= 30'000 ? rate_ : fallback;
}

WaitRange EstimateWait(uint64_t position, double rate_per_second) {
  double rate = std::max(rate_per_second, 1.0 / 600.0);  // at least one admission per 10 min
  double center = static_cast<double>(position) / rate;
  double low = center * 0.8;
  double high = center * 1.25;
  double step = high < 120 ? 10 : high < 600 ? 60 : high < 3600 ? 300 : 900;
  WaitRange r;
  r.low_seconds = static_cast<int64_t>(std::floor(low / step) * step);
  r.high_seconds = static_cast<int64_t>(std::ceil(high / step) * step);
  if (r.high_seconds <= r.low_seconds) r.high_seconds = r.low_seconds + static_cast<int64_t>(step);
  return r;
}

}  // namespace tidegate::queue
