// What the public status page tells, in the order it tells it: the open
// incidents (the headline first — state::HeadlineIncident, the one the
// banner, queue and maintenance pages tell — then the others most recently
// started first, each with its timeline), the
// notices set by hand (status/notices.h), the shop's features as components
// with their current status, then the incidents resolved within
// [site].status_history_days with their closing messages. The HTML page,
// status.json and status.atom are three renderings of one StatusStory.
//
// Statuses, from best to worst: "operational", "maintenance", "degraded",
// "partial_outage", "major_outage" (an incident counts with its impact; a
// banner or an announced window as "degraded"; a feature under maintenance
// now as "partial_outage" overall and "maintenance" for its component).
//
// Contract: pure (thread-safe, no I/O). The story points into `state`
// (incidents): use it while that state is held (one callback).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "state/incident.h"
#include "state/runtime_state.h"
#include "status/notices.h"

namespace tidegate::status {

struct Component {
  std::string name;         // the [features.NAME]
  std::string status;       // one of the statuses above
  std::string incident_id;  // the open incident that sets it ("" = none)
};

struct StatusStory {
  std::string overall = "operational";
  std::vector<const state::Incident*> open;  // headline first, then newest first
  std::vector<Notice> notices;
  std::vector<Component> components;
  std::vector<const state::Incident*> past;  // most recently resolved first
};

StatusStory BuildStory(const config::Config& config, const state::RuntimeState& state,
                       common::TimePoint now);

// Higher is worse; unknown names count as "degraded".
int StatusRank(std::string_view status);

// The updates of an incident, newest first (pointers into it).
std::vector<const state::IncidentUpdate*> NewestFirst(const state::Incident& incident);

}  // namespace tidegate::status
