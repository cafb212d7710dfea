// Which origin server gets the next request: round-robin with passive
// ejection (nginx's max_fails / fail_timeout).
//
// Contract: one selector per worker, used on that worker's thread only; pure
// logic (time is passed in), so it is unit-tested without sockets.
// * A server that fails `max_fails` times in a row (connect or I/O failures)
//   is ejected for `fail_timeout`; max_fails == 0 disables ejection.
// * When the period ends the server is tried again; one more failure ejects
//   it again at once, a success re-admits it fully.
// * Active health checks (proxy/upstream_monitor.h) feed the same ejection:
//   with SetHealthFlags(), a server whose flag is false is skipped like an
//   ejected one (the flags are atomics written by the monitor's thread,
//   read here with relaxed loads).
// * When every server is ejected, Pick() still returns the one whose
//   ejection ends first: the caller then fails fast with a real error rather
//   than never trying.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tidegate::proxy {

class UpstreamSelector {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::milliseconds;

  UpstreamSelector(size_t server_count, uint32_t max_fails, Duration fail_timeout);

  // Index of the server for the next attempt. Requires server_count() > 0.
  size_t Pick(TimePoint now);
  void ReportSuccess(size_t server);
  void ReportFailure(size_t server, TimePoint now);

  // `flags` (server_count() entries, or null: no active checks) must outlive
  // the selector.
  void SetHealthFlags(const std::atomic<bool>* flags) { health_ = flags; }

  bool IsEjected(size_t server, TimePoint now) const;
  size_t server_count() const { return servers_.size(); }
  uint32_t consecutive_failures(size_t server) const { return servers_[server].failures; }

 private:
  struct ServerState {
    uint32_t failures = 0;
    TimePoint ejected_until{};
  };

  std::vector<ServerState> servers_;
  uint32_t max_fails_;
  Duration fail_timeout_;
  size_t next_ = 0;
  const std::atomic<bool>* health_ = nullptr;
};

}  // namespace tidegate::proxy
