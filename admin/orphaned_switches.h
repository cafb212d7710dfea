// Run-time switches a new configuration would orphan (audit 20 F2): an
// operator's or an incident's maintenance switch (feature off, active or
// scheduled) whose [features.NAME] the configuration no longer has, and a
// room switched on at run time (`auto`, `queue_all`) whose [rooms.NAME] it
// no longer has. Such a switch stops applying while GET /v1/state, the
// incident and its banner go on saying it holds; a reload that would do
// that is refused (app/admin_control_plane.cc, AcceptsReload), as a reload
// that would leave a switched-on room unable to queue is.
//
// Contract: pure functions (thread-safe, no I/O).
#pragma once

#include <string>
#include <vector>

#include "common/time_source.h"
#include "config/config.h"
#include "state/runtime_state.h"

namespace tidegate::admin {

struct OrphanedSwitch {
  enum class Kind { kFeatureOff, kRoomOn };
  Kind kind = Kind::kFeatureOff;
  std::string name;         // the feature or room
  std::string incident_id;  // the incident that holds it; "" = set by hand
};

// In name order, features first. An expired maintenance switch, a switch
// that reopens a feature, a room switched off or with only its limits
// overridden orphan nothing anyone is told about, and are not listed.
std::vector<OrphanedSwitch> SwitchesOrphanedBy(const config::Config& config,
                                               const state::RuntimeState& state,
                                               common::TimePoint now);

// "feature 'checkout' is switched off at run time (by incident inc-…), and
// the new configuration has no [features.checkout]: …; clear the switch
// first (…) or keep the feature" — the reload refusal's wording.
std::string DescribeOrphanedSwitch(const OrphanedSwitch& orphan);

}  // namespace tidegate::admin
