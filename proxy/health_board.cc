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
    probe = probe_;
  }
  if (probe) probe(&out);  // outside the lock: it takes locks of its own
  return out;
}

}  // namespace tidegate::proxy
