// /.tidegate/health: the proxy's own health page, one route of the built-in
// router (proxy/builtin_router.h, registered in app/filter_chain.cc).
//
// Contract: 200 JSON {status, degraded, version, workers, uptime_seconds};
// status is "ok", or "degraded" while a part listed in
// `degraded` ([{part, detail}], from the HealthBoard) runs in its configured
// failure mode — still 200: the instance is alive and serving; HEAD gets
// the head only (the core drops the body). Answered by Answerer::kBuiltin,
// with Cache-Control: no-store. The answer does not depend on the origin,
// so it works when the origin is down. The route is public: it names no
// file, path or address of the host (operators read those in GET
// /v1/state). The factory is immutable and shared by all workers; its
// filter answers every request it is given (the router gives it only
// /.tidegate/health).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "proxy/filter.h"
#include "proxy/health_board.h"

namespace tidegate::proxy {

struct HealthRouteConfig {
  int workers = 1;
  std::string version;
  std::chrono::steady_clock::time_point started;
  const HealthBoard* health = nullptr;  // null: never degraded; must outlive the factory
};

// `detail` with every IP address (with its port) and unix socket path
// replaced by "(address hidden)": the public route's degraded details
// ("redis (address hidden): connect: Connection refused; …").
std::string WithoutAddresses(std::string detail);

class HealthRouteFactory : public FilterFactory {
 public:
  explicit HealthRouteFactory(HealthRouteConfig config);
  std::unique_ptr<StreamFilter> CreateFilter(FilterCallbacks& callbacks) const override;

  // The body of /.tidegate/health at `now`.
  std::string HealthJson(std::chrono::steady_clock::time_point now) const;

 private:
  HealthRouteConfig config_;
};

}  // namespace tidegate::proxy
