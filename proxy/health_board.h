// HealthBoard: which parts of this instance run degraded now, for
// /.tidegate/health (proxy/health_route.h). A part is a short name such as
// "state_store", "state_file" (a local state file cannot be written),
// "room:shop" (its shared store fails) or "room_mode:shop" (switched on at
// run time, cannot queue); its detail says why ("redis: connection
// refused").
//
// Contract:
// * Set(), Clear() and Parts() may be called from any thread (a mutex; the
//   board is read once per health request, never on the shop's hot path).
// * Parts that are not posted but computed on demand (the rooms' store
//   failures) are added by a probe: SetProbe() once, before the workers
//   start; the probe runs on the reading thread, must be thread-safe and
//   must not block.
// * The origin servers' state (address, active health checks) is posted as
//   a whole by the upstream monitor of the newest snapshot
//   (proxy/upstream_monitor.h) with SetUpstreams(); a post from an older
//   snapshot's monitor is ignored. While servers fail their health checks,
//   Parts() lists the part "upstream" ("1 of 2 origin servers fail their
//   health checks": a count, no names, as the health route is public).
// * The board must outlive every reader (it is owned by main).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tidegate::proxy {

struct DegradedPart {
  std::string part;
  std::string detail;
  bool operator==(const DegradedPart&) const = default;
};

// One origin server as the upstream monitor last saw it.
struct UpstreamReport {
  std::string server;    // as configured, "shop.internal:8080"
  std::string address;   // what it resolves to now, "10.0.0.5:8080"
  bool checked = false;  // [upstream.health] path is set
  bool healthy = true;   // false: ejected by active checks
  uint64_t checks_passed = 0;
  uint64_t checks_failed = 0;
  std::string last_check;  // "status 200", "connect: Connection refused"; "" before the first
  uint64_t resolve_failures = 0;
  std::string resolve_error;  // of the latest failed lookup; "" while lookups succeed
  bool operator==(const UpstreamReport&) const = default;
};

class HealthBoard {
 public:
  using Probe = std::function<void(std::vector<DegradedPart>*)>;

  // Marks `part` degraded (replacing its detail) or no longer degraded.
  void Set(const std::string& part, const std::string& detail);
  void Clear(const std::string& part);
  void SetProbe(Probe probe);

  // The posted parts in name order, the unhealthy origin servers, then the
  // probe's.
  std::vector<DegradedPart> Parts() const;

  // Replaces the origin servers' reports, unless `generation` (the
  // snapshot's) is older than the last one posted.
  void SetUpstreams(uint64_t generation, std::vector<UpstreamReport> reports);
  std::vector<UpstreamReport> Upstreams() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> posted_;
  Probe probe_;
  uint64_t upstream_generation_ = 0;
  std::vector<UpstreamReport> upstreams_;
};

}  // namespace tidegate::proxy
