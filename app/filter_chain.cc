#include "app/filter_chain.h"

#include "banner/banner_filter.h"
#include "maintenance/maintenance_gate.h"
#include "proxy/builtin_routes.h"
#include "queue/room_gate.h"
#include "status/status_page.h"

namespace tidegate::app {

TidegateFilterChain::TidegateFilterChain(std::chrono::steady_clock::time_point started,
                                         const proxy::Published<admin::RuntimeState>* runtime_state,
                                         proxy::HealthBoard* health)
    : started_(started), runtime_state_(runtime_state), health_(health) {}

bool TidegateFilterChain::Build(const config::Config& config, int workers,
                                proxy::FilterChain* chain, std::string* error) const {
  // 0. Banner: first, because its request side serves
  //    /.tidegate/assets/banner.css before the built-in routes 404 the rest
  //    of /.tidegate/*; as a response filter it then runs last.
  auto banner = banner::BannerFilterFactory::Create(config, workers, runtime_state_,
                                                    banner_stats_.get(), error);
  if (!banner) return false;
  chain->factories.push_back(std::move(banner));
  // 1. Status page: /.tidegate/status* (before the built-in routes, which
  //    answer 404 for the rest of /.tidegate/).
  auto status_page = status::StatusPageFactory::Create(config, runtime_state_, error);
  if (!status_page) return false;
  chain->factories.push_back(std::move(status_page));
  // Waiting room: /.tidegate/queue (status JSON) before the built-in routes.
  rooms_->Configure(config.state, workers);  // [state]: rooms on Redis or local
  if (health_ != nullptr) {
    // A room whose shared store fails runs in [state].on_failure: health
    // says so while it lasts.
    std::string detail = "shared store failing; on_failure = " +
                         std::string(config::StoreFailureModeName(config.state.on_failure));
    health_->SetProbe([rooms = rooms_, detail](std::vector<proxy::DegradedPart>* parts) {
      for (const std::string& room : rooms->DegradedRooms()) {
        parts->push_back({"room:" + room, detail});
      }
    });
  }
  auto waiting_room = queue::WaitingRoom::Build(config, rooms_.get(), runtime_state_, error);
  if (!waiting_room) return false;
  chain->factories.push_back(std::make_unique<queue::QueueStatusFactory>(waiting_room));
  // 2. Built-in routes: /.tidegate/* never reaches the origin.
  proxy::BuiltinRoutesConfig builtin;
  builtin.workers = workers;
  builtin.version = TIDEGATE_VERSION;
  builtin.started = started_;
  builtin.config_files = config.source_files;
  builtin.health = health_;
  chain->factories.push_back(std::make_unique<proxy::BuiltinRoutesFactory>(std::move(builtin)));
  // 3. Maintenance gate: a feature that is off answers 503 before anyone
  //    queues for it.
  auto maintenance =
      maintenance::MaintenanceGateFactory::Create(config, runtime_state_, error,
                                                  /*clock=*/{}, maintenance_stats_.get());
  if (!maintenance) return false;
  chain->factories.push_back(std::move(maintenance));
  // 4. Waiting room gate: after maintenance (nobody queues for a feature
  //    that is off).
  chain->factories.push_back(std::make_unique<queue::RoomGateFactory>(waiting_room));
  return true;
}

}  // namespace tidegate::app
