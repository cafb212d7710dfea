// HealthBoard: which parts of this instance run degraded now, for
// /.tidegate/health (proxy/health_route.h). A part is a short name such as
// "state_store" or "room:shop"; its detail says why ("redis: connection
// refused").
//
// Contract:
// * Set(), Clear() and Parts() may be called from any thread (a mutex; the
//   board is read once per health request, never on the shop's hot path).
// * Parts that are not posted but computed on demand (the rooms' store
//   failures) are added by a probe: SetProbe() once, before the workers
//   start; the probe runs on the reading thread, must be thread-safe and
//   must not block.
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

class HealthBoard {
 public:
  using Probe = std::function<void(std::vector<DegradedPart>*)>;

  // Marks `part` degraded (replacing its detail) or no longer degraded.
  void Set(const std::string& part, const std::string& detail);
  void Clear(const std::string& part);
  void SetProbe(Probe probe);

  // The posted parts in name order, then the probe's.
  std::vector<DegradedPart> Parts() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> posted_;
  Probe probe_;
};

}  // namespace tidegate::proxy
