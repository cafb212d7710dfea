// The built-in routes filter: the proxy's own paths under /.tidegate/.
//
// Contract: first filter of every chain. Any request whose normalised path
// (proxy/path_normalizer.h, case-insensitive, ";params" stripped) is
// "/.tidegate" or lies below it is answered by the proxy and never forwarded:
//   /.tidegate/health → 200 JSON {status, degraded, version, workers,
//                       uptime_seconds, config_files}; status is "ok", or
//                       "degraded" while a part listed in `degraded`
//                       ([{part, detail}], from the HealthBoard) runs in its
//                       configured failure mode — still 200: the instance
//                       is alive and serving; HEAD gets the head only;
//   anything else     → 404 (JSON when the client asks for JSON).
// Answers do not depend on the origin, so they work when it is down.
// The factory is immutable and shared by all workers.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "proxy/filter.h"
#include "proxy/health_board.h"

namespace tidegate::proxy {

struct BuiltinRoutesConfig {
  int workers = 1;
  std::string version;
  std::chrono::steady_clock::time_point started;
  std::vector<std::string> config_files;
  const HealthBoard* health = nullptr;  // null: never degraded; must outlive the factory
};

// True when `target` addresses the reserved /.tidegate space.
bool IsBuiltinTarget(std::string_view target);

class BuiltinRoutesFactory : public FilterFactory {
 public:
  explicit BuiltinRoutesFactory(BuiltinRoutesConfig config);
  std::unique_ptr<StreamFilter> CreateFilter(FilterCallbacks& callbacks) const override;

  // The body of /.tidegate/health at `now`.
  std::string HealthJson(std::chrono::steady_clock::time_point now) const;

 private:
  BuiltinRoutesConfig config_;
};

}  // namespace tidegate::proxy
