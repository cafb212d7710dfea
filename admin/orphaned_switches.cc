#include "admin/orphaned_switches.h"

#include <algorithm>

namespace tidegate::admin {
namespace {

bool HasFeature(const config::Config& config, const std::string& name) {
  return std::any_of(config.features.begin(), config.features.end(),
                     [&](const config::FeatureConfig& f) { return f.name == name; });
}

bool HasRoom(const config::Config& config, const std::string& name) {
  return std::any_of(config.rooms.begin(), config.rooms.end(),
                     [&](const config::RoomConfig& r) { return r.name == name; });
}

}  // namespace

std::vector<OrphanedSwitch> SwitchesOrphanedBy(const config::Config& config,
                                               const state::RuntimeState& state,
                                               common::TimePoint now) {
  std::vector<OrphanedSwitch> out;
  for (const auto& [name, m] : state.maintenance) {
    if (m.reopened || state::MaintenancePhase(m, now) == state::Phase::kExpired) continue;
    if (!HasFeature(config, name)) {
      out.push_back({OrphanedSwitch::Kind::kFeatureOff, name, m.incident_id});
    }
  }
  for (const auto& [name, room] : state.rooms) {
    if (!room.mode || *room.mode == config::RoomMode::kOff) continue;
    if (!HasRoom(config, name)) {
      out.push_back({OrphanedSwitch::Kind::kRoomOn, name, room.mode_incident_id});
    }
  }
  return out;
}

std::string DescribeOrphanedSwitch(const OrphanedSwitch& orphan) {
  bool feature = orphan.kind == OrphanedSwitch::Kind::kFeatureOff;
  std::string by = orphan.incident_id.empty() ? "by hand" : "by incident " + orphan.incident_id;
  std::string clear = orphan.incident_id.empty()
                          ? (feature ? "tidegate ctl maintenance off " + orphan.name
                                     : "tidegate ctl room set " + orphan.name + " mode=off")
                          : "resolve incident " + orphan.incident_id;
  return (feature ? "feature '" : "room '") + orphan.name + "' is switched " +
         (feature ? "off" : "on") + " at run time (" + by +
         "), and the new configuration has no [" + (feature ? "features." : "rooms.") +
         orphan.name + "]: the switch would stop applying while it is shown as in force; " +
         "clear it first (" + clear + ") or keep the " + (feature ? "feature" : "room");
}

}  // namespace tidegate::admin
