#include "proxy/upstream_demand.h"

#include <algorithm>

namespace tidegate::proxy {

void UpstreamDemand::Roll(ServerDemand& server, TimePoint now) {
  if (now - server.window_start < kWindow) return;
  // One window later: the current peak becomes the previous one. Two or more
  // windows later: nothing recent is left but what is busy now.
  server.previous_peak = now - server.window_start < 2 * kWindow ? server.peak : server.busy;
  server.peak = server.busy;
  server.window_start = now;
}

void UpstreamDemand::Begin(size_t server, TimePoint now) {
  ServerDemand& s = servers_[server];
  Roll(s, now);
  ++s.busy;
  s.peak = std::max(s.peak, s.busy);
}

void UpstreamDemand::End(size_t server) {
  ServerDemand& s = servers_[server];
  if (s.busy > 0) --s.busy;
}

uint32_t UpstreamDemand::RecentPeak(size_t server, TimePoint now) {
  ServerDemand& s = servers_[server];
  Roll(s, now);
  return std::max({s.peak, s.previous_peak, s.busy});
}

}  // namespace tidegate::proxy
