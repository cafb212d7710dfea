// The events webhooks are told about (docs/webhooks.md),
// derived from the run-time state: each change applied by this instance is
// compared before/after (DeriveEvents), and an open incident whose promised
// next update has passed yields incident.update_overdue (OverdueEvent).
//
// Event types: incident.opened, incident.updated, incident.resolved,
// incident.update_overdue, maintenance.on, maintenance.off, room.mode
// (config::kNotifyEventTypes).
//
// The JSON body POSTed for an event:
//   {"id": "evt_…", "type": "incident.opened", "created_at": "RFC 3339",
//    "state_version": 12, "data": {…}}
// `data` is the incident (id, title, impact, status, features, message,
// next_update_at, started_at, resolved_at, updates), the maintenance
// override (feature, message, starts_at, until, incident_id) or the room
// (room, mode, source).
//
// Contract: pure functions (thread-safe, no I/O); ids come from OpenSSL's
// RAND_bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/time_source.h"
#include "config/config.h"
#include "state/runtime_state.h"

namespace tidegate::notify {

struct Event {
  std::string id;    // "evt_" + 16 hex digits, unique
  std::string type;  // one of config::kNotifyEventTypes
  common::TimePoint created_at;
  uint64_t state_version = 0;
  nlohmann::json data;
};

// A fresh event id ("evt_" + 16 random hex digits).
std::string NewEventId();

// Events for the change from `before` to `after` (one applied change):
// incidents opened, updated (a new update) or resolved; features whose
// operator maintenance came on or went off; rooms whose mode override
// changed (`config` gives the mode a cleared override falls back to; may be
// null). In that order; empty when nothing webhook-worthy changed.
std::vector<Event> DeriveEvents(const state::RuntimeState& before, const state::RuntimeState& after,
                                const config::Config* config, common::TimePoint now);

// incident.update_overdue for `incident` (open, next_update_at past).
Event OverdueEvent(const state::Incident& incident, uint64_t state_version, common::TimePoint now);

// The incident as webhook data (also used by tests).
nlohmann::json IncidentData(const state::Incident& incident);

// The exact bytes POSTed (compact JSON).
std::string EventBody(const Event& event);

}  // namespace tidegate::notify
