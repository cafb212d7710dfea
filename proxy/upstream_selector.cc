#include "proxy/upstream_selector.h"

namespace tidegate::proxy {

UpstreamSelector::UpstreamSelector(size_t server_count, uint32_t max_fails, Duration fail_timeout)
    : servers_(server_count), max_fails_(max_fails), fail_timeout_(fail_timeout) {}

size_t UpstreamSelector::Pick(TimePoint now) {
  const size_t n = servers_.size();
  size_t soonest = next_ % n;
  for (size_t i = 0; i < n; ++i) {
    size_t candidate = (next_ + i) % n;
    if (!IsEjected(candidate, now)) {
      next_ = candidate + 1;
      return candidate;
    }
    if (servers_[candidate].ejected_until < servers_[soonest].ejected_until) soonest = candidate;
  }
  next_ = soonest + 1;
  return soonest;
}

void UpstreamSelector::ReportSuccess(size_t server) {
  servers_[server].failures = 0;
  servers_[server].ejected_until = TimePoint{};
}

void UpstreamSelector::ReportFailure(size_t server, TimePoint now) {
  ServerState& state = servers_[server];
  if (state.failures < UINT32_MAX) ++state.failures;
  if (max_fails_ != 0 && state.failures >= max_fails_) state.ejected_until = now + fail_timeout_;
}

bool UpstreamSelector::IsEjected(size_t server, TimePoint now) const {
  if (health_ != nullptr && !health_[server].load(std::memory_order_relaxed)) return true;
  return max_fails_ != 0 && servers_[server].failures >= max_fails_ &&
         now < servers_[server].ejected_until;
}

}  // namespace tidegate::proxy
