#include "app/filter_chain.h"

#include <set>

#include "banner/banner_filter.h"
#include "maintenance/maintenance_gate.h"
#include "proxy/builtin_router.h"
#include "proxy/health_route.h"
#include "queue/room_gate.h"
#include "status/status_page.h"

namespace tidegate::app {

TidegateFilterChain::TidegateFilterChain(std::chrono::steady_clock::time_point started,
                                         const proxy::Published<state::RuntimeState>* runtime_state,
                                         proxy::HealthBoard* health, const common::TimeSource& time)
    : started_(started), runtime_state_(runtime_state), health_(health), time_(time) {}

bool TidegateFilterChain::Build(const config::Config& config, int workers,
                                proxy::FilterChain* chain, std::string* error) const {
  auto banner = banner::BannerFilterFactory::Create(config, workers, runtime_state_, time_,
                                                    banner_stats_.get(), error);
  if (!banner) return false;
  std::shared_ptr<const status::StatusPageFactory> status_page =
      status::StatusPageFactory::Create(config, runtime_state_, time_, error);
  if (!status_page) return false;
  rooms_->Configure(config.state, workers);  // [state]: rooms on Redis or local
  auto waiting_room = queue::WaitingRoom::Build(config, rooms_.get(), runtime_state_, time_, error);
  if (!waiting_room) return false;
  auto maintenance = maintenance::MaintenanceGateFactory::Create(config, runtime_state_, time_,
                                                                 error, maintenance_stats_.get());
  if (!maintenance) return false;

  // 1. Built-in router: every /.tidegate/* request is answered here and
  //    never reaches the origin nor the gates below; 404 for the paths not
  //    listed. One cheap scan, no allocation, for the shop's own paths.
  auto router = std::make_unique<proxy::BuiltinRouterFactory>();
  router->Add(std::string(banner::kStylesheetPath), proxy::PathCase::kExact,
              banner->StylesheetRoute());
  for (const char* path : status::StatusPageFactory::kRoutes) {
    router->Add(path, proxy::PathCase::kIgnore, status_page);
  }
  router->Add(std::string(queue::kQueueStatusPath), proxy::PathCase::kIgnore,
              std::make_shared<queue::QueueStatusFactory>(waiting_room));
  proxy::HealthRouteConfig health;
  health.workers = workers;
  health.version = TIDEGATE_VERSION;
  health.started = started_;
  health.health = health_;
  // With and without the trailing slash, as the status page (a probe
  // configured either way must not read a 404 as "down").
  auto health_route = std::make_shared<proxy::HealthRouteFactory>(std::move(health));
  router->Add("/.tidegate/health", proxy::PathCase::kIgnore, health_route);
  router->Add("/.tidegate/health/", proxy::PathCase::kIgnore, health_route);
  chain->factories.push_back(std::move(router));
  // 2. Banner: request side asks for identity encoding when it may inject;
  //    as a response filter it runs last (reverse order).
  chain->factories.push_back(std::move(banner));
  // 3. Maintenance gate: a feature that is off answers 503 before anyone
  //    queues for it.
  chain->factories.push_back(std::move(maintenance));
  // 4. Waiting room gate: after maintenance (nobody queues for a feature
  //    that is off).
  chain->factories.push_back(std::make_unique<queue::RoomGateFactory>(waiting_room));
  if (health_ != nullptr) {
    // A room whose shared store fails runs in [state].on_failure: health
    // says so while it lasts (the idle rooms' ticks keep that true without
    // traffic, RoomRegistry::TickIdle). Only the rooms of this
    // configuration: a room removed by a reload is no longer ticked, and
    // its last mark would stay. Set once the chain is built, so that a
    // refused reload leaves the running configuration's probe.
    std::string detail = "shared store failing; on_failure = " +
                         std::string(config::StoreFailureModeName(rooms_->on_failure()));
    std::set<std::string> configured;
    for (const config::RoomConfig& room : config.rooms) configured.insert(room.name);
    health_->SetProbe([rooms = rooms_, detail, configured = std::move(configured)](
                          std::vector<proxy::DegradedPart>* parts) {
      for (const std::string& room : rooms->DegradedRooms()) {
        if (configured.count(room) != 0) parts->push_back({"room:" + room, detail});
      }
    });
  }
  return true;
}

}  // namespace tidegate::app
