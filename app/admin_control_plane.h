// The admin API (admin/AdminRuntime: state store, audit log, evhttp
// listener, /metrics) as the Server's ControlPlane. This is where the binary
// wires admin/ to the proxy core: proxy/ only knows proxy::ControlPlane.
//
// Contract: control thread only (every method is called by proxy::Server on
// the thread running the control base). Start() opens the audit log
// ([admin].audit_log, default "audit.log" beside the first configuration
// file) and starts the listener on [admin].listen; Stop() destroys the
// runtime (closes the listener and its connections) and must run before the
// control base is freed — Server does both. The runtime borrows the metrics
// source, which lives as long as this object.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "admin/admin_runtime.h"
#include "admin/worker_stats_metrics.h"
#include "app/state_persistence.h"
#include "banner/banner_filter.h"
#include "maintenance/maintenance_gate.h"
#include "notify/notifier.h"
#include "proxy/control_plane.h"
#include "proxy/health_board.h"
#include "proxy/libevent_handles.h"
#include "proxy/published.h"
#include "queue/room_registry.h"
#include "state/runtime_state.h"

namespace tidegate::app {

class AdminControlPlane : public proxy::ControlPlane {
 public:
  // Every new run-time state is published to `runtime_state` (read by the
  // gates on the workers). The state store's health is posted to `health`
  // as part "state_store" every second while running (/.tidegate/health),
  // and every room switched on at run time that the configuration cannot
  // queue as part "room_mode:NAME" (every second, on every state change
  // and reload; one warning in the error log when it appears). With the
  // local backend, part "state_file" while runtime_state.json or rooms.json
  // cannot be written (posted after each write; the rooms are saved, and a
  // failed runtime_state.json written again, every second), cleared by the
  // next write that succeeds.
  // `health`, `rooms` (the waiting rooms' live counters, for /metrics and
  // GET /v1/state), `banner_stats` and `maintenance_stats` may be null. All
  // must outlive this object. While running, the rooms on Redis that no
  // shopper visits are ticked once a second from this thread
  // (RoomRegistry::TickIdle), so that their degraded mark, and with it
  // /.tidegate/health, follows their shared store without traffic.
  AdminControlPlane(proxy::Published<state::RuntimeState>* runtime_state,
                    proxy::HealthBoard* health, queue::RoomRegistry* rooms,
                    const banner::BannerStats* banner_stats,
                    const maintenance::MaintenanceStats* maintenance_stats);
  ~AdminControlPlane() override;

  // The local state file (may be null, or disabled with backend = "redis"):
  // Start() restores the operators' state read from it, saves every change
  // before acknowledging it, and saves the rooms every second; Stop() saves
  // the rooms once more. Must outlive this object; set before Start().
  void SetPersistence(StatePersistence* persistence) { persistence_ = persistence; }

  bool Start(event_base* control_base, std::shared_ptr<const config::Config> config,
             const proxy::ControlPlaneHost& host, std::string* error) override;
  // Refuses a configuration under which a room the run-time state switched
  // on (an operator's or an incident's mode) could not queue: no signing
  // key, or `enabled = false` (it would say queue_all and queue nobody).
  bool AcceptsReload(const config::Config& config, std::string* error) const override;
  void Reconfigure(std::shared_ptr<const config::Config> config) override;
  void Stop() override;
  std::vector<proxy::ListenSocket> ListenSockets() const override;
  void BeforeHandover() override;
  void AfterHandover() override;

 private:
  void Warn(std::string_view key, std::string_view message) const;
  void FillRoomMetrics(admin::MetricsSnapshot* m) const;
  void PostStoreHealth();
  // Part "state_file" while a local state file cannot be written
  // (StatePersistence::WriteProblem), after every write of either file.
  void PostFileHealth();
  void PostRoomModeHealth();
  void StartPersistence(event_base* control_base);
  void SaveRooms();
  // backend = "redis": shared_rooms.json (StatePersistence::SaveSharedRooms),
  // every second from TickIdleRooms(); a failed write is warned when its
  // error changes.
  void SaveSharedRooms();
  void TickIdleRooms();
  void StartNotifier(event_base* control_base, std::shared_ptr<const config::Config> config);

  const proxy::ControlPlaneHost* host_ = nullptr;
  std::shared_ptr<const config::Config> started_config_;
  proxy::Published<state::RuntimeState>* runtime_state_;
  proxy::HealthBoard* health_;
  proxy::EventPtr health_timer_;
  StatePersistence* persistence_ = nullptr;
  proxy::EventPtr rooms_timer_;
  // The parts "room_mode:NAME" posted to health_ (rooms switched on at run
  // time that cannot queue), with their detail: a warning when one appears
  // or changes, not every second.
  std::map<std::string, std::string> room_mode_parts_;
  int64_t last_save_warning_ = 0;   // unix seconds; warnings at most every 10 s
  std::string shared_rooms_error_;  // of the last SaveSharedRooms(), "" when saved
  queue::RoomRegistry* rooms_;
  event_base* control_base_ = nullptr;  // from Start() to Stop()
  proxy::EventPtr idle_rooms_timer_;    // TickIdleRooms(), every second
  const banner::BannerStats* banner_stats_;
  const maintenance::MaintenanceStats* maintenance_stats_;
  std::shared_ptr<const config::Config> current_config_;  // latest applied, for room limits
  admin::WorkerStatsMetricsSource metrics_;
  std::unique_ptr<admin::AdminRuntime> runtime_;
  // Webhooks ([[notify.webhooks]]); uses runtime_, so destroyed before it.
  std::unique_ptr<notify::Notifier> notifier_;  // last: destroyed first
};

}  // namespace tidegate::app
