// The run-time overrides operators set through the admin API, and the
// changes that produce them.
//
// Precedence (docs/admin-api.md, "Precedence"): a run-time value overrides the
// configuration value until an operator clears it. A SIGHUP reload replaces
// configuration values only, so overrides survive it. With the local store
// they live in the process and are saved to the state file at every change
// (app/state_persistence.h, docs/state.md), so they survive restarts and
// crashes; with a shared store (Redis) every instance shares them.
//
// This is the model every gate reads per request; it has no JSON in it (the
// JSON forms are admin/runtime_state_json.h).
//
// Contract: RuntimeState is a plain value. Once published (StateStore,
// admin/state_store.h) it is held as std::shared_ptr<const RuntimeState> and
// never mutated, so workers may read a published one from any thread without
// a lock. ApplyChange() is a pure function (thread-safe, no I/O).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/time_source.h"
#include "config/config.h"
#include "state/incident.h"
#include "state/incident_changes.h"

namespace tidegate::state {

// A feature switched off by an operator. It is in force from `starts_at`
// (immediately when absent) until `until` (until cleared when absent).
// `reopened`: the opposite, set by DELETE /v1/features/NAME/maintenance while
// a configured window ([features.NAME.maintenance]) applies: the feature is
// open (the window is ignored) until `until` (the window's end; absent = until
// an operator puts it under maintenance again). state::EffectiveMaintenanceOf
// reads both kinds.
struct MaintenanceOverride {
  bool reopened = false;
  std::string message;
  std::optional<common::TimePoint> starts_at;
  std::optional<common::TimePoint> until;
  std::string set_by;  // admin token name
  common::TimePoint set_at;
  std::string incident_id;  // set by that incident's opening (state/incident.h); "" = by hand
};

// The banner set by an operator; replaces [banner] of the configuration
// (enabled, message, severity) while set and not expired.
struct BannerOverride {
  std::string message;
  std::string severity = "info";  // "info" | "warning" | "critical"
  std::optional<common::TimePoint> next_update_at;
  std::optional<common::TimePoint> expires_at;
  std::string set_by;
  common::TimePoint set_at;
  std::string incident_id;  // set (and kept current) by that incident; "" = by hand
};

// Per-room overrides; an unset field keeps the configuration value.
struct RoomOverride {
  std::optional<config::RoomMode> mode;
  std::optional<uint32_t> total_active_users;
  std::optional<uint32_t> new_users_per_minute;
  std::optional<config::Duration> session_duration;
  std::optional<config::QueueingMethod> queueing_method;
  std::string set_by;  // last change
  common::TimePoint set_at;
  std::string mode_incident_id;  // `mode` was set by that incident; "" = by hand
  bool empty() const {
    return !mode && !total_active_users && !new_users_per_minute && !session_duration &&
           !queueing_method;
  }
};

struct RuntimeState {
  uint64_t version = 0;  // +1 for every applied change
  std::map<std::string, MaintenanceOverride, std::less<>> maintenance;  // by feature name
  std::optional<BannerOverride> banner;
  std::map<std::string, RoomOverride, std::less<>> rooms;  // by room name; never empty overrides
  // Open incidents and resolved ones still in the history
  // ([site].status_history_days), by started_at, oldest first.
  std::vector<Incident> incidents;
};

// Where an effective value comes from.
enum class ValueSource { kConfig, kRuntime };
std::string_view ValueSourceName(ValueSource source);  // "config" | "runtime"

// "off" | "auto" | "queue_all"; "fifo" | "random" | "passthrough" | "reject".
std::string_view RoomModeName(config::RoomMode mode);
std::optional<config::RoomMode> ParseRoomMode(std::string_view text);
std::string_view QueueingMethodName(config::QueueingMethod method);
std::optional<config::QueueingMethod> ParseQueueingMethod(std::string_view text);
bool IsBannerSeverity(std::string_view text);

// "scheduled" (before starts_at), "active", "expired" (at or after until).
enum class Phase { kScheduled, kActive, kExpired };
Phase MaintenancePhase(const MaintenanceOverride& m, common::TimePoint now);
Phase BannerPhase(const BannerOverride& b, common::TimePoint now);  // never kScheduled
std::string_view PhaseName(Phase phase);

// One field of a room PATCH: keep it, set it, or clear its override (JSON null).
template <typename T>
struct FieldPatch {
  enum class Op { kKeep, kSet, kClear };
  Op op = Op::kKeep;
  T value{};
};

struct RoomPatch {
  FieldPatch<config::RoomMode> mode;
  FieldPatch<uint32_t> total_active_users;
  FieldPatch<uint32_t> new_users_per_minute;
  FieldPatch<config::Duration> session_duration;
  FieldPatch<config::QueueingMethod> queueing_method;
};

// The changes the admin API can apply. Serializable (a RedisStore sends them).
struct SetMaintenance {
  std::string feature;
  MaintenanceOverride value;  // set_by / set_at are filled by ApplyChange
};
struct ClearMaintenance {
  std::string feature;
};
struct SetBanner {
  BannerOverride value;
};
struct ClearBanner {};
struct PatchRoom {
  std::string room;
  RoomPatch patch;
};
struct ResetRoom {  // clears every override of a room
  std::string room;
};
// OpenIncident, UpdateIncident, ResolveIncident: state/incident_changes.h.
using StateChange =
    std::variant<SetMaintenance, ClearMaintenance, SetBanner, ClearBanner, PatchRoom, ResetRoom,
                 OpenIncident, UpdateIncident, ResolveIncident>;

// Applies `change` to a copy of `state`, stamping set_by = actor and
// set_at = now. *changed is false (and the copy returned unchanged, same
// version) when the change is a no-op (clearing what is not set, setting the
// same values); otherwise the version is incremented.
RuntimeState ApplyChange(const RuntimeState& state, const StateChange& change,
                         const std::string& actor, common::TimePoint now, bool* changed);

}  // namespace tidegate::state
