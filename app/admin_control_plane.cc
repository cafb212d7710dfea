#include "app/admin_control_plane.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>

#include "admin/orphaned_switches.h"
#include "admin/redis_store.h"
#include "admin/request_validation.h"
#include "queue/room_events.h"
#include "queue/waiting_room.h"
#include "state/effective_view.h"

namespace tidegate::app {

namespace {
constexpr char kStorePart[] = "state_store";
constexpr char kFilePart[] = "state_file";
}  // namespace

AdminControlPlane::AdminControlPlane(proxy::Published<state::RuntimeState>* runtime_state,
                                     proxy::HealthBoard* health, queue::RoomRegistry* rooms,
                                     const banner::BannerStats* banner_stats,
                                     const maintenance::MaintenanceStats* maintenance_stats)
    : runtime_state_(runtime_state),
      health_(health),
      rooms_(rooms),
      banner_stats_(banner_stats),
      maintenance_stats_(maintenance_stats),
      metrics_(
          [this] {
            return host_ ? host_->WorkerStatsList() : std::vector<const proxy::WorkerStats*>{};
          },
          [this](admin::MetricsSnapshot* m) {
            if (host_ == nullptr) return;
            m->config_reloads_total = host_->ConfigReloads();
            m->config_reload_failures_total = host_->ConfigReloadFailures();
            if (rooms_ != nullptr && current_config_ != nullptr) FillRoomMetrics(m);
            if (health_ != nullptr) {
              for (proxy::UpstreamReport& u : health_->Upstreams()) {
                m->upstream_servers.push_back(admin::UpstreamServerMetrics{
                    std::move(u.server), std::move(u.address), u.checked, u.healthy,
                    u.checks_passed, u.checks_failed, std::move(u.last_check), u.resolve_failures,
                    std::move(u.resolve_error)});
              }
            }
            if (maintenance_stats_ != nullptr) {
              // Requests stopped by the gate, by feature (shadowed and
              // bypassed requests are not hits: they reached the origin,
              // and are counted apart).
              maintenance_stats_->ForEach([m](const std::string& feature,
                                              const maintenance::MaintenanceStats::Counters& c) {
                m->maintenance_hits_by_feature[feature] +=
                    c.blocked.load(std::memory_order_relaxed);
                m->maintenance_undecided_by_feature[feature] +=
                    c.undecided.load(std::memory_order_relaxed);
                m->maintenance_shadowed_by_feature[feature] +=
                    c.shadowed.load(std::memory_order_relaxed);
                m->maintenance_bypassed_by_feature[feature] +=
                    c.bypassed.load(std::memory_order_relaxed);
              });
            }
            if (notifier_ != nullptr) {
              const notify::Notifier::Counters& c = notifier_->counters();
              m->notify = admin::NotifyMetrics{
                  true,           c.events_by_type,       c.delivered_total, c.retried_total,
                  c.failed_total, c.outbox_errors_total,  c.outbox_pending,  c.overdue_total,
                  c.overdue_now,  c.outbox_restored_total};
            }
            if (banner_stats_ != nullptr) {
              m->banner_injections_total =
                  banner_stats_->injections.load(std::memory_order_relaxed);
              m->banner_gzipped_total = banner_stats_->gzipped.load(std::memory_order_relaxed);
              m->banner_hide_injections_total =
                  banner_stats_->hide_injections.load(std::memory_order_relaxed);
              for (size_t r = 0; r < banner::kSkipReasonCount; ++r) {
                uint64_t n = banner_stats_->skips[r].load(std::memory_order_relaxed);
                if (n > 0) {
                  m->banner_skips_by_reason[std::string(
                      banner::SkipReasonName(static_cast<banner::SkipReason>(r)))] += n;
                }
              }
            }
          }) {}

namespace {

// A room's auto-protection as the admin API shows it (admin/ does not
// include queue/).
admin::RoomProtectMetrics ProtectMetricsOf(const queue::RoomRegistry::RoomReport& r) {
  const queue::ProtectStatus& p = r.protect;
  admin::RoomProtectMetrics out;
  out.enabled = p.enabled;
  out.limiting = p.limiting();
  out.target_latency_ms = p.settings.target_latency_ms;
  out.max_error_rate = p.settings.max_error_rate;
  out.ceiling_total_active_users = p.ceilings.total_active_users;
  out.ceiling_new_users_per_minute = p.ceilings.new_users_per_minute;
  out.effective_total_active_users = p.effective.total_active_users;
  out.effective_new_users_per_minute = p.effective.new_users_per_minute;
  out.samples = p.measured.samples;
  out.error_rate = p.measured.error_rate();
  out.p90_ms = p.measured.p90_ms;
  out.move = std::string(queue::ProtectMoveName(p.state.move));
  out.direction = p.state.direction;
  out.reason = p.state.reason;
  out.decided_ms = p.state.decided_ms;
  out.moved_ms = p.state.moved_ms;
  out.last_change = std::string(queue::ProtectMoveName(p.state.last_change));
  if (r.shared) {
    out.shared = true;
    out.leader = r.shared->leader;
    out.leader_id = r.shared->leader_id;
    out.shared_error = r.shared->last_error;
  }
  return out;
}

}  // namespace

void AdminControlPlane::FillRoomMetrics(admin::MetricsSnapshot* m) const {
  // The limits in force, as the rooms' gates apply them: configuration
  // merged with the operators' overrides and the current scheduled event's
  // limits. During a pre-queue nobody is admitted until the event starts:
  // the estimate is the wait from the start at the event's limits, plus the
  // time left until the start (the draw).
  std::shared_ptr<const state::RuntimeState> state = runtime_state_->Load();
  const config::Config& config = *current_config_;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  std::map<std::string, int64_t> until_start_ms;  // rooms in a pre-queue
  // The operators' protection switch, as the next request would apply it
  // (audit 16 F5: the old cut was shown until then).
  for (const config::RoomConfig& room : config.rooms) {
    rooms_->SwitchProtection(room.name, state::EffectiveRoomSettings(room, *state).protect.value);
  }
  queue::RoomRegistry::Report report =
      rooms_->Snapshot([&](const std::string& name) -> std::optional<queue::RoomLimits> {
        for (const config::RoomConfig& room : config.rooms) {
          if (room.name != name) continue;
          state::EffectiveRoom effective = state::EffectiveRoomSettings(room, *state);
          queue::EventState events = queue::EventStateAt(room.events, now_ms);
          if (events.phase != queue::EventPhase::kPrequeue) {
            return queue::LimitsInForce(room, effective, now_ms);
          }
          until_start_ms[name] =
              std::max<int64_t>(0, queue::ToUnixMs(events.event->start) - now_ms);
          queue::EventState live = events;
          live.phase = queue::EventPhase::kLive;
          return queue::LimitsWithEvents(effective, live);
        }
        return std::nullopt;  // a room removed by a reload
      });
  m->room_counters_available = true;
  m->store_errors_total += report.store_errors;
  for (queue::RoomRegistry::RoomReport& r : report.rooms) {
    auto prequeue = until_start_ms.find(r.name);
    if (prequeue != until_start_ms.end()) {
      r.estimated_wait_seconds += static_cast<double>((prequeue->second + 999) / 1000);
    }
    admin::RoomMetrics room{
        r.name, r.queued,           r.active, r.admitted_total, r.estimated_wait_seconds,
        {},     ProtectMetricsOf(r)};
    room.counter_restores = r.counter_restores;
    room.mark_restores = r.mark_restores;
    for (size_t i = 0; i < queue::kAbuseReasonCount; ++i) {
      room.abuse.emplace_back(
          std::string(queue::AbuseReasonName(static_cast<queue::AbuseReason>(i))), r.abuse[i]);
    }
    m->rooms.push_back(std::move(room));
  }
}

AdminControlPlane::~AdminControlPlane() { Stop(); }

bool AdminControlPlane::Start(event_base* control_base,
                              std::shared_ptr<const config::Config> config,
                              const proxy::ControlPlaneHost& host, std::string* error) {
  host_ = &host;
  // The rooms' lines (auto-protection, store failures) go to the same log.
  if (rooms_ != nullptr) rooms_->log().Use(&host.error_log());
  started_config_ = config;
  current_config_ = config;
  const config::AdminConfig& admin = config->admin;
  std::string audit_path =
      admin.audit_log.empty() ? admin::DefaultAuditLogPath(*config) : admin.audit_log;
  admin::AdminServerOptions options;
  options.api.metrics_open_on_loopback = admin.metrics_open_on_loopback;
  // The shop listeners' header deadline, for the admin request's head and
  // body (evhttp itself only has an idle timeout, which a drip resets).
  options.request_deadline = config->server.header_timeout;
  // Binary upgrade: the previous process's admin socket, when it had one
  // for the same address (connections queued on it are kept).
  options.listen_fd = host.TakeInheritedSocket(proxy::AdminListenKey(admin.listen.text));
  runtime_ = admin::AdminRuntime::Start(
      control_base, config, audit_path, &metrics_,
      [this](std::string_view key, std::string_view message) { Warn(key, message); }, error,
      options, persistence_ != nullptr ? persistence_->SharedStateCopyPath() : "");
  if (!runtime_) {
    if (error->rfind("admin", 0) != 0) *error = "admin: " + *error;
    host_ = nullptr;
    return false;
  }
  StartPersistence(control_base);
  // Workers read the operators' switches from runtime_state_: publish the
  // state the store starts with, then every change (made here or, with a
  // shared store, by another instance).
  runtime_state_->Publish(runtime_->state());
  runtime_->SetStateCallback([this](std::shared_ptr<const state::RuntimeState> state) {
    runtime_state_->Publish(std::move(state));
    PostRoomModeHealth();
  });
  StartNotifier(control_base, config);
  if (health_ != nullptr) {
    PostStoreHealth();
    PostRoomModeHealth();
    health_timer_.reset(event_new(
        control_base, -1, EV_PERSIST,
        [](evutil_socket_t, short, void* self) {
          static_cast<AdminControlPlane*>(self)->PostStoreHealth();
          static_cast<AdminControlPlane*>(self)->PostRoomModeHealth();
        },
        this));
    timeval every_second{1, 0};
    event_add(health_timer_.get(), &every_second);
  }
  if (rooms_ != nullptr) {
    // Rooms on Redis without traffic (nothing happens for local ones, and
    // the check is cheap): health follows their store within seconds.
    control_base_ = control_base;
    idle_rooms_timer_.reset(event_new(
        control_base, -1, EV_PERSIST,
        [](evutil_socket_t, short, void* self) {
          static_cast<AdminControlPlane*>(self)->TickIdleRooms();
        },
        this));
    timeval every_second{1, 0};
    event_add(idle_rooms_timer_.get(), &every_second);
  }
  std::string where = runtime_->server().port() != 0
                          ? admin.listen.host + ":" + std::to_string(runtime_->server().port())
                          : admin.listen.text;
  host.error_log().Write(proxy::LogLevel::kInfo, "admin.start",
                         "admin API listening on " + where + " (audit log " + audit_path + ")");
  return true;
}

bool AdminControlPlane::AcceptsReload(const config::Config& config, std::string* error) const {
  if (runtime_state_ == nullptr) return true;
  std::vector<admin::OrphanedSwitch> orphaned =
      admin::SwitchesOrphanedBy(config, runtime_state_->Get(), common::SystemTime().WallNow());
  if (!orphaned.empty()) {
    *error = admin::DescribeOrphanedSwitch(orphaned.front());
    return false;
  }
  std::vector<admin::RoomUnableToQueue> unable =
      admin::RoomsUnableToQueue(config, runtime_state_->Get());
  if (unable.empty()) return true;
  const admin::RoomUnableToQueue& room = unable.front();
  *error = admin::DescribeUnableToQueue(room, "the new configuration") +
           ": it would queue nobody while saying it queues; switch it off first (tidegate "
           "ctl room set " +
           room.room + " mode=off, or resolve the incident that holds it) or keep it able to queue";
  return false;
}

void AdminControlPlane::Reconfigure(std::shared_ptr<const config::Config> config) {
  if (!runtime_) return;
  current_config_ = config;
  const config::AdminConfig& before = started_config_->admin;
  if (config->admin.audit_log != before.audit_log ||
      config->admin.metrics_open_on_loopback != before.metrics_open_on_loopback) {
    Warn("admin.restart_needed",
         "admin: audit_log or metrics_open_on_loopback changed; restart tidegate to apply them");
  }
  if (notifier_ != nullptr) notifier_->Reconfigure(config);
  runtime_->server().SetRequestDeadline(config->server.header_timeout);
  std::string error;
  if (!runtime_->Reconfigure(std::move(config), &error)) Warn("admin.reload", error);
  PostRoomModeHealth();
}

void AdminControlPlane::StartNotifier(event_base* control_base,
                                      std::shared_ptr<const config::Config> config) {
  // Webhooks: events from the changes this instance applies, delivered
  // from this (the control) thread; the outbox is a file beside the state
  // file, or shared in Redis.
  auto warn = [this](std::string_view key, std::string_view message) { Warn(key, message); };
  std::string folder = persistence_ != nullptr ? persistence_->folder() : StateFolder(*config);
  notifier_ = std::make_unique<notify::Notifier>(
      control_base, config, common::SystemTime(), [this] { return runtime_->state(); },
      notify::Notifier::DefaultOutboxFactory(control_base, config, folder, warn), warn);
  runtime_->SetAppliedObserver(
      [this](const state::RuntimeState& before, const state::RuntimeState& after) {
        if (notifier_ != nullptr) notifier_->OnApplied(before, after);
      });
  runtime_->SetNotifyStatus(
      [this](std::function<void(nlohmann::json)> reply) { notifier_->Status(std::move(reply)); });
  notifier_->Start();
}

void AdminControlPlane::Stop() {
  if (runtime_ && host_ != nullptr) {
    host_->error_log().Write(proxy::LogLevel::kInfo, "admin.stop", "admin API stopped");
  }
  health_timer_.reset();
  idle_rooms_timer_.reset();
  control_base_ = nullptr;
  if (rooms_timer_) {
    // Draining: the rooms are saved once more now, and by main() at exit.
    rooms_timer_.reset();
    SaveRooms();
  }
  if (health_ != nullptr) {
    health_->Clear(kStorePart);
    health_->Clear(kFilePart);
    for (const auto& [part, detail] : room_mode_parts_) health_->Clear(part);
  }
  room_mode_parts_.clear();
  if (runtime_) {
    runtime_->SetAppliedObserver(nullptr);
    runtime_->SetNotifyStatus(nullptr);
  }
  notifier_.reset();
  runtime_.reset();
  host_ = nullptr;
}

std::vector<proxy::ListenSocket> AdminControlPlane::ListenSockets() const {
  if (!runtime_ || runtime_->server().listen_fd() < 0) return {};
  return {proxy::ListenSocket{proxy::AdminListenKey(started_config_->admin.listen.text),
                              runtime_->server().listen_fd()}};
}

void AdminControlPlane::BeforeHandover() {
  // The new process reads the local state file at its start. The switches are on disk already
  // (every change is written before it is acknowledged); the rooms' progress is written now, as
  // after a crash (not final: the new process skips the ticket numbers this one may still issue
  // until it hands over).
  if (persistence_ != nullptr && rooms_ != nullptr) SaveRooms();
  // With Redis: the counters the new process seeds from if Redis is down.
  SaveSharedRooms();
}

void AdminControlPlane::AfterHandover() {
  // The new process serves and owns the state folder from now on: this one
  // must not overwrite its files while it drains.
  if (persistence_ != nullptr) persistence_->StopSaving();
  // Likewise the Redis store's local copy of the shared state.
  if (auto* redis = runtime_ ? dynamic_cast<admin::RedisStore*>(&runtime_->store()) : nullptr) {
    redis->StopSavingCopy();
  }
  // The new process delivers the webhooks (it read the outbox at its start).
  if (notifier_ != nullptr) {
    runtime_->SetAppliedObserver(nullptr);
    runtime_->SetNotifyStatus(nullptr);
    notifier_.reset();
  }
}

void AdminControlPlane::StartPersistence(event_base* control_base) {
  if (persistence_ == nullptr || !persistence_->enabled()) return;
  auto* local = dynamic_cast<admin::LocalStore*>(&runtime_->store());
  if (local == nullptr) return;
  // The switches saved before the restart are in force before any worker
  // serves; every change is on disk before the admin API answers 2xx.
  if (auto saved = persistence_->TakeRuntime()) local->Restore(std::move(saved));
  local->SetPersister([this](const state::RuntimeState& state, std::string* error) {
    bool saved = persistence_->SaveRuntime(state, error);
    PostFileHealth();
    return saved;
  });
  if (rooms_ == nullptr) return;
  rooms_timer_.reset(event_new(
      control_base, -1, EV_PERSIST,
      [](evutil_socket_t, short, void* self) {
        static_cast<AdminControlPlane*>(self)->SaveRooms();
      },
      this));
  timeval every_second{1, 0};
  event_add(rooms_timer_.get(), &every_second);
}

void AdminControlPlane::SaveRooms() {
  std::string error;
  bool saved = persistence_->SaveRooms(*rooms_, &error);
  if (persistence_->RuntimeUnsaved() && runtime_) {
    // The state in force again (what the file holds already): the write
    // that failed refused a change; this one only tells whether the disk
    // is back.
    std::string runtime_error;
    if (persistence_->SaveRuntime(*runtime_->state(), &runtime_error)) {
      if (auto* local = dynamic_cast<admin::LocalStore*>(&runtime_->store())) local->SavedAgain();
    }
  }
  PostFileHealth();
  if (saved) return;
  int64_t now = time(nullptr);
  if (now - last_save_warning_ < 10) return;
  last_save_warning_ = now;
  Warn("state.save", "state: the rooms could not be saved (retried every second): " + error);
}

void AdminControlPlane::TickIdleRooms() {
  if (current_config_ == nullptr || control_base_ == nullptr) return;
  std::shared_ptr<const state::RuntimeState> state = runtime_state_->Load();
  const config::Config& config = *current_config_;
  // The clock the gates tick with (the process's wall clock).
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  rooms_->TickIdle(
      control_base_,
      [&](const std::string& name) -> std::optional<queue::RoomLimits> {
        for (const config::RoomConfig& room : config.rooms) {
          if (room.name == name) {
            return queue::LimitsInForce(room, state::EffectiveRoomSettings(room, *state), now_ms);
          }
        }
        return std::nullopt;  // a room removed by a reload
      },
      now_ms);
  SaveSharedRooms();
}

void AdminControlPlane::SaveSharedRooms() {
  if (persistence_ == nullptr || !persistence_->SavesSharedRooms() || rooms_ == nullptr) return;
  std::string error;
  if (persistence_->SaveSharedRooms(*rooms_, &error)) {
    shared_rooms_error_.clear();
    return;
  }
  if (error == shared_rooms_error_) return;
  shared_rooms_error_ = error;
  if (host_ != nullptr) {
    host_->error_log().Write(proxy::LogLevel::kWarn, "state.shared_rooms",
                             "the rooms' counters could not be saved (retried every second; a "
                             "start while Redis is down would number newcomers from older "
                             "counters): " +
                                 error);
  }
}

void AdminControlPlane::PostStoreHealth() {
  if (!runtime_) return;
  admin::StoreHealth h = runtime_->store().Health();
  if (h.healthy) {
    health_->Clear(kStorePart);
  } else {
    // The operators' switches in force are the last known ones; changes
    // are refused until the store is back (docs/state.md).
    health_->Set(kStorePart, h.backend + ": " + h.last_error + "; last known state in force");
  }
}

void AdminControlPlane::PostFileHealth() {
  if (health_ == nullptr || persistence_ == nullptr) return;
  std::string problem = persistence_->WriteProblem();
  if (problem.empty()) {
    health_->Clear(kFilePart);
  } else {
    health_->Set(kFilePart, problem);
  }
}

void AdminControlPlane::PostRoomModeHealth() {
  if (!runtime_ || current_config_ == nullptr || runtime_state_ == nullptr) return;
  // A room the run-time state switched on (an operator's or an incident's
  // mode) that the configuration in force cannot queue. The admin API and a
  // reload refuse to create one; it can still come from the local state
  // file restored at start into a configuration without a key (or with the
  // room disabled), or from another instance's change through Redis. Its
  // gate lets everybody in while the state says it queues: say so.
  std::map<std::string, std::string> now;  // part -> detail
  for (const admin::RoomUnableToQueue& room :
       admin::RoomsUnableToQueue(*current_config_, runtime_state_->Get())) {
    std::string by = room.incident_id.empty() ? std::string("by an operator")
                                              : "by incident " + room.incident_id;
    now["room_mode:" + room.room] =
        "switched to " + std::string(state::RoomModeName(room.mode)) + " at run time (" + by +
        "), but " +
        (room.error == "room_disabled" ? std::string("the room has enabled = false")
                                       : std::string("[secrets].token_keys is empty")) +
        ": nobody is queued";
  }
  for (const auto& [part, detail] : room_mode_parts_) {
    if (now.count(part) != 0) continue;
    if (health_ != nullptr) health_->Clear(part);
    if (host_ != nullptr) {
      host_->error_log().Write(proxy::LogLevel::kInfo, "room.cannot_queue",
                               "room '" + part.substr(part.find(':') + 1) +
                                   "' is switched off or can queue again (it was " + detail + ")");
    }
  }
  for (const auto& [part, detail] : now) {
    auto before = room_mode_parts_.find(part);
    if (before != room_mode_parts_.end() && before->second == detail) continue;
    if (health_ != nullptr) health_->Set(part, detail);
    Warn("room.cannot_queue",
         "room '" + part.substr(part.find(':') + 1) + "' " + detail +
             " (everybody walks in); switch it off (tidegate ctl room set NAME mode=off, or "
             "resolve the incident) or make it able to queue and reload");
  }
  room_mode_parts_ = std::move(now);
}

void AdminControlPlane::Warn(std::string_view key, std::string_view message) const {
  if (host_ != nullptr) host_->error_log().Write(proxy::LogLevel::kWarn, key, message);
}

}  // namespace tidegate::app
