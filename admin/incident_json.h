// The JSON forms of incidents (state/incident.h): the stored form inside the
// run-time state document (Redis, the state file), the API form of
// GET /v1/incidents and GET /v1/state, and the before/after of an incident
// change in the audit trail.
//
// Contract: pure functions, thread-safe, no I/O, no exceptions escape.
// Times are RFC 3339 strings cut to whole seconds (as the rest of the
// state's JSON); absent optional values are omitted.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/time_source.h"
#include "state/runtime_state.h"

namespace tidegate::admin {

// {"id", "title", "impact", "status", "features", "updates": [{"at",
//  "status", "message", "next_update_at"?, "by"}] (oldest first),
//  "started_at", "resolved_at"?, "opened_by", "applied": {"maintenance",
//  "maintenance_asked", "banner", "room"?, "room_mode"?, "replaced_banner"?, "replaced_room_mode"?,
//  "replaced_room_mode_incident_id"?}}.
nlohmann::json ToJson(const state::Incident& incident);

// Reads what ToJson wrote; false and *error (prefixed with `path`, e.g.
// "incidents.0.updates.1.status: unknown value") otherwise.
bool IncidentFromJson(const nlohmann::json& j, const std::string& path, state::Incident* out,
                      std::string* error);

// The operators' view: ToJson without what the incident replaced (that is
// in the audit trail), plus "open" (bool), "next_update_at" (the promised
// next update while open, else null) and "update_overdue" (bool, at `now`).
// Updates stay oldest first.
nlohmann::json IncidentApiJson(const state::Incident& incident, common::TimePoint now);

// What an incident change touched, as found in `state`: {"incident": the
// incident in `state` (null when absent), "maintenance": {feature: override
// or null} for the features `reference` applied, "banner": the banner
// override or null (when `reference` set one), "room": {name: override or
// null} (when it set a room mode)}. `reference` is the incident after the
// change (or before it, when the change dropped it from the history).
nlohmann::json IncidentChangeJson(const state::RuntimeState& state,
                                  const state::Incident& reference);

// The incident an incident change (Open/Update/ResolveIncident) concerns:
// as it is in `after`, or in `before` when the change dropped it from the
// history; for an opening, the incident `after` has and `before` has not.
// nullptr for any other change.
const state::Incident* ChangedIncident(const state::StateChange& change,
                                       const state::RuntimeState& before,
                                       const state::RuntimeState& after);

}  // namespace tidegate::admin
