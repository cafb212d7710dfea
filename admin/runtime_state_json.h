// The JSON forms of the run-time state (state/runtime_state.h): ToJson for
// the API, the audit log and the Redis store, and the way back from JSON to
// RuntimeState for the Redis store, which keeps the whole state as one JSON
// document, and the audit entries the Redis store writes beside it.
//
// Contract: pure functions, thread-safe, no I/O, no exceptions escape (a
// malformed document is an error result, never a throw). Times go through
// RFC 3339 text, so sub-second parts of set_at/until/… are cut to whole
// seconds by ToJson; FromJson(ToJson(x)) == x for states whose times are whole
// seconds, and ToJson(FromJson(ToJson(x))) == ToJson(x) always.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "state/runtime_state.h"

namespace tidegate::admin {

// Times are RFC 3339 strings, durations strings such as "5m", absent optional
// values are omitted.
nlohmann::json ToJson(const state::MaintenanceOverride& m);
nlohmann::json ToJson(const state::BannerOverride& b);
nlohmann::json ToJson(const state::RoomOverride& r);
nlohmann::json ToJson(const state::RuntimeState& state);  // incidents: admin/incident_json.h

// Reads what ToJson(const BannerOverride&) wrote; false and *error (prefixed
// with `path`) when it does not have that shape.
bool BannerFromJson(const nlohmann::json& j, const std::string& path, state::BannerOverride* b,
                    std::string* error);

// Reads what ToJson(const RuntimeState&) wrote. nullopt and *error (naming
// the field, e.g. "maintenance.checkout.until: not an RFC 3339 time") when
// the document does not have that shape.
std::optional<state::RuntimeState> RuntimeStateFromJson(const nlohmann::json& j,
                                                        std::string* error);

// Same, from text (parse errors reported in *error).
std::optional<state::RuntimeState> RuntimeStateFromText(const std::string& text,
                                                        std::string* error);

// One audit entry for the shared audit stream: {"time", "token", "version",
// "change" (e.g. "set_maintenance"), "target" (feature/room name, "banner"),
// "before", "after"} — before/after being the JSON of the changed object in
// `before`/`after` (null when absent), as in the local audit log. For the
// incident changes ("open_incident", "update_incident", "resolve_incident")
// the target is the incident's id and before/after are
// IncidentChangeJson (admin/incident_json.h): the incident and every
// override it touched.
nlohmann::json ChangeAuditJson(const state::StateChange& change, const std::string& actor,
                               common::TimePoint time, const state::RuntimeState& before,
                               const state::RuntimeState& after);

// The shared stream's entry for a write-back (admin/redis_store.h): Redis
// held an older version (`redis_version`) or none (nullopt: restarted empty,
// flushed) and this instance wrote its last known state, `version`, back:
// {"time", "token": "tidegate", "version", "change": "restore_state",
// "target": "state", "before": {"version": N} or null, "after":
// {"version": M}}.
nlohmann::json RestoreAuditJson(std::optional<uint64_t> redis_version, uint64_t version,
                                common::TimePoint time);

}  // namespace tidegate::admin
