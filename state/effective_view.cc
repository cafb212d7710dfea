#include "state/effective_view.h"

namespace tidegate::state {
namespace {

template <typename T>
Sourced<T> Pick(const T& config_value, const std::optional<T>& override_value) {
  if (override_value) return {*override_value, ValueSource::kRuntime};
  return {config_value, ValueSource::kConfig};
}

}  // namespace

EffectiveRoom EffectiveRoomSettings(const config::RoomConfig& room, const RuntimeState& state) {
  EffectiveRoom e;
  e.name = room.name;
  static const RoomOverride kNone;
  auto it = state.rooms.find(room.name);
  const RoomOverride& o = it == state.rooms.end() ? kNone : it->second;
  e.mode = Pick(room.mode, o.mode);
  e.total_active_users = Pick(room.total_active_users, o.total_active_users);
  e.new_users_per_minute = Pick(room.new_users_per_minute, o.new_users_per_minute);
  e.session_duration = Pick(room.session_duration, o.session_duration);
  e.queueing_method = Pick(room.queueing_method, o.queueing_method);
  e.protect = Pick(room.protect.enabled, o.protect);
  return e;
}

EffectiveBanner EffectiveBannerSettings(const config::BannerConfig& banner,
                                        const RuntimeState& state, common::TimePoint now) {
  EffectiveBanner e;
  if (state.banner && BannerPhase(*state.banner, now) == Phase::kActive) {
    e.enabled = true;
    e.message = state.banner->message;
    e.severity = state.banner->severity;
    e.next_update_at = state.banner->next_update_at;
    e.expires_at = state.banner->expires_at;
    e.source = ValueSource::kRuntime;
    return e;
  }
  e.enabled = banner.enabled && !banner.message.empty();
  e.message = banner.message;
  e.severity = banner.severity;
  e.source = ValueSource::kConfig;
  return e;
}

const MaintenanceOverride* ActiveMaintenance(const RuntimeState& state, std::string_view feature,
                                             common::TimePoint now) {
  auto it = state.maintenance.find(feature);
  if (it == state.maintenance.end()) return nullptr;
  if (it->second.reopened) return nullptr;
  return MaintenancePhase(it->second, now) == Phase::kActive ? &it->second : nullptr;
}

bool WindowInForce(const config::ConfigMaintenanceWindow& window, common::TimePoint now) {
  if (window.starts_at && now < *window.starts_at) return false;
  if (window.until && now >= *window.until) return false;
  return true;
}

EffectiveMaintenance EffectiveMaintenanceOf(const config::FeatureConfig& feature,
                                            const RuntimeState& state, common::TimePoint now) {
  EffectiveMaintenance e;
  if (!feature.enabled) return e;
  auto it = state.maintenance.find(feature.name);
  if (it != state.maintenance.end() && MaintenancePhase(it->second, now) == Phase::kActive) {
    e.source = ValueSource::kRuntime;
    e.active = !it->second.reopened;
    e.message = it->second.message;
    e.until = it->second.until;
    return e;
  }
  if (feature.maintenance && WindowInForce(*feature.maintenance, now)) {
    e.active = true;
    e.message = feature.maintenance->message;
    e.until = feature.maintenance->until;
  }
  return e;
}

}  // namespace tidegate::state
