// The way back from JSON to RuntimeState (runtime_state.h has ToJson), for
// the Redis store, which keeps the whole state as one JSON document, and the
// audit entries the Redis store writes beside it.
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

#include "admin/runtime_state.h"

namespace tidegate::admin {

// Reads what ToJson(const RuntimeState&) wrote. nullopt and *error (naming
// the field, e.g. "maintenance.checkout.until: not an RFC 3339 time") when
// the document does not have that shape.
std::optional<RuntimeState> RuntimeStateFromJson(const nlohmann::json& j, std::string* error);

// Same, from text (parse errors reported in *error).
std::optional<RuntimeState> RuntimeStateFromText(const std::string& text, std::string* error);

// One audit entry for the shared audit stream: {"time", "token", "version",
// "change" (e.g. "set_maintenance"), "target" (feature/room name, "banner"),
// "before", "after"} — before/after being the JSON of the changed object in
// `before`/`after` (null when absent), as in the local audit log.
nlohmann::json ChangeAuditJson(const StateChange& change, const std::string& actor, TimePoint time,
                               const RuntimeState& before, const RuntimeState& after);

}  // namespace tidegate::admin
