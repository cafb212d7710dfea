#include "proxy/health_board.h"

namespace tidegate::proxy {

void HealthBoard::Set(const std::string& part, const std::string& detail) {
  std::lock_guard<std::mutex> lock(mutex_);
  posted_[part] = detail;
}

void HealthBoard::Clear(const std::string& part) {
  std::lock_guard<std::mutex> lock(mutex_);
  posted_.erase(part);
}

void HealthBoard::SetProbe(Probe probe) {
  std::lock_guard<std::mutex> lock(mutex_);
  probe_ = std::move(probe);
}

std::vector<DegradedPart> HealthBoard::Parts() const {
  std::vector<DegradedPart> out;
  Probe probe;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [part, detail] : posted_) out.push_back({part, detail});
    // Public (/.tidegate/health): a count, never the origins' names.
    size_t unhealthy = 0;
    for (const UpstreamReport& upstream : upstreams_) unhealthy += upstream.healthy ? 0 : 1;
    if (unhealthy > 0) {
      out.push_back({"upstream", std::to_string(unhealthy) + " of " +
                                     std::to_string(upstreams_.size()) +
                                     " origin servers fail their health checks"});
    }
    probe = probe_;
  }
  if (probe) probe(&out);  // outside the lock: it takes locks of its own
  return out;
}

void HealthBoard::SetUpstreams(uint64_t generation, std::vector<UpstreamReport> reports) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (generation < upstream_generation_) return;
  upstream_generation_ = generation;
  upstreams_ = std::move(reports);
}

std::vector<UpstreamReport> HealthBoard::Upstreams() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return upstreams_;
}

}  // namespace tidegate::proxy
