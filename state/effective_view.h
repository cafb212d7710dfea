// The effective view: configuration values merged with run-time overrides,
// each value tagged with where it comes from ("config" | "runtime").
//
// Precedence: an override (RuntimeState) wins over the configuration until it
// is cleared; an expired maintenance window or banner no longer applies (it
// is still shown, with phase "expired", until cleared). Overrides that name a
// room or feature no longer in the configuration (after a reload) apply to
// nothing and are listed as orphaned.
//
// Contract: pure functions (thread-safe, no I/O). They are what the
// maintenance gate, banner injector, status page and waiting room read on
// workers, from the snapshots they were given. The JSON document of
// GET /v1/state is admin/effective_state_json.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "state/runtime_state.h"

namespace tidegate::state {

template <typename T>
struct Sourced {
  T value{};
  ValueSource source = ValueSource::kConfig;
};

struct EffectiveRoom {
  std::string name;
  Sourced<config::RoomMode> mode;
  Sourced<uint32_t> total_active_users;
  Sourced<uint32_t> new_users_per_minute;
  Sourced<config::Duration> session_duration;
  Sourced<config::QueueingMethod> queueing_method;
  Sourced<bool> protect;  // auto-protection on ([rooms.NAME.protect] enabled, or the override)
};
EffectiveRoom EffectiveRoomSettings(const config::RoomConfig& room, const RuntimeState& state);

struct EffectiveBanner {
  bool enabled = false;  // shown on pages now
  std::string message;
  std::string severity;
  std::optional<common::TimePoint> next_update_at;
  std::optional<common::TimePoint> expires_at;
  ValueSource source = ValueSource::kConfig;
};
EffectiveBanner EffectiveBannerSettings(const config::BannerConfig& banner,
                                        const RuntimeState& state, common::TimePoint now);

// The operator's maintenance in force for `feature` at `now`, or nullptr (not
// under maintenance, scheduled for later, expired, or a `reopened` override).
// Points into `state`.
const MaintenanceOverride* ActiveMaintenance(const RuntimeState& state, std::string_view feature,
                                             common::TimePoint now);

// Whether a configured window is in force at `now` (started, not ended).
bool WindowInForce(const config::ConfigMaintenanceWindow& window, common::TimePoint now);

// Whether `feature` is under maintenance at `now`, and why. Precedence: a
// disabled feature never is; an operator's override in force wins (a
// `reopened` one keeps the feature open); otherwise the configured window.
struct EffectiveMaintenance {
  bool active = false;
  ValueSource source = ValueSource::kConfig;  // what decided
  std::string message;
  std::optional<common::TimePoint> until;
};
EffectiveMaintenance EffectiveMaintenanceOf(const config::FeatureConfig& feature,
                                            const RuntimeState& state, common::TimePoint now);

}  // namespace tidegate::state
