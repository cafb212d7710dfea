// How many origin connections each server had in use recently: sizes the
// worker's idle pool (proxy/upstream_pool.h) by what traffic needed, so the
// default configuration pools as many connections as a tuned one.
//
// Contract: one UpstreamDemand per worker pool generation, worker thread
// only, no locks; pure logic (time is passed in), unit-tested without
// sockets. Connections hold it through a DemandToken (shared ownership: a
// connection may outlive the pool generation that counted it).
// * Begin() counts a connection going into use (a stream acquired it) and
//   records the new busy count in the current window's peak; End() counts
//   it out (pooled again or discarded).
// * RecentPeak() is the highest busy count seen in the current window and
//   the previous one: what was concurrently in use in the last 10 to 20
//   seconds (kWindow each).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace tidegate::proxy {

class UpstreamDemand {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr std::chrono::seconds kWindow{10};

  explicit UpstreamDemand(size_t server_count) : servers_(server_count) {}

  void Begin(size_t server, TimePoint now);
  void End(size_t server);
  uint32_t busy(size_t server) const { return servers_[server].busy; }
  uint32_t RecentPeak(size_t server, TimePoint now);

 private:
  struct ServerDemand {
    uint32_t busy = 0;
    uint32_t peak = 0;           // highest busy in the window starting at window_start
    uint32_t previous_peak = 0;  // highest busy in the window before it
    TimePoint window_start{};
  };
  void Roll(ServerDemand& server, TimePoint now);

  std::vector<ServerDemand> servers_;
};

// One connection's share of the busy count: counted in while held, counted
// out when reset or destroyed (whichever comes first; exactly once).
class DemandToken {
 public:
  DemandToken() = default;
  DemandToken(std::shared_ptr<UpstreamDemand> demand, size_t server)
      : demand_(std::move(demand)), server_(server) {}
  DemandToken(DemandToken&& other) noexcept { *this = std::move(other); }
  DemandToken& operator=(DemandToken&& other) noexcept {
    if (this != &other) {
      Reset();
      demand_ = std::move(other.demand_);
      server_ = other.server_;
    }
    return *this;
  }
  ~DemandToken() { Reset(); }
  void Reset() {
    if (demand_) demand_->End(server_);
    demand_.reset();
  }

 private:
  std::shared_ptr<UpstreamDemand> demand_;
  size_t server_ = 0;
};

}  // namespace tidegate::proxy
