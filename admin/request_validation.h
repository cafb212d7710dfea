// Validation of admin request bodies into state changes.
//
// Contract: pure functions (thread-safe, no I/O). A body is validated
// completely before anything is applied; on failure the result carries the
// HTTP status (400 malformed JSON, 422 invalid content), an error code and a
// detail naming the offending field ("until: must be in the future").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "state/runtime_state.h"

namespace tidegate::admin {

struct RequestError {
  int status = 400;
  std::string error;   // "malformed_json", "validation_failed", …
  std::string detail;  // names the field
};

inline constexpr size_t kMaxMaintenanceMessage = 1000;
inline constexpr size_t kMaxBannerMessage = 500;
inline constexpr uint32_t kMaxRoomUsers = 100'000'000;

// Parses `body` as a JSON object: 400 when not JSON (or not UTF-8), 422 when
// JSON but not an object.
std::optional<nlohmann::json> ParseJsonObject(std::string_view body, RequestError* error);

// If-Match: "7", W/"7" or 7 → 7; nullopt when absent, and nullopt with
// *bad when present but not a state version.
std::optional<uint64_t> ParseIfMatch(const std::optional<std::string>& header, bool* bad);

// PUT /v1/features/{name}/maintenance:
//   {"message": string 1..1000 (required), "until": RFC 3339 in the future
//    (optional), "starts_at": RFC 3339 before until (optional)}.
std::optional<state::MaintenanceOverride> ValidateMaintenance(const nlohmann::json& body,
                                                              common::TimePoint now,
                                                              RequestError* error);

// PUT /v1/banner:
//   {"message": string 1..500 (required), "severity": "info"|"warning"|
//    "critical" (default "info"), "next_update_at": RFC 3339 in the future
//    (optional),
//    "expires_at": RFC 3339 in the future (optional)}.
std::optional<state::BannerOverride> ValidateBanner(const nlohmann::json& body,
                                                    common::TimePoint now, RequestError* error);

// PATCH /v1/rooms/{name}: at least one of
//   "mode": "off"|"auto"|"queue_all", "total_active_users": integer
//   1..100000000, "new_users_per_minute": integer 1..100000000,
//   "session_duration": duration string ("30s", "5m"; 1s..24h),
//   "queueing_method": "fifo"|"random"|"passthrough"|"reject";
// null for a field clears its override. Unknown keys are refused.
std::optional<state::RoomPatch> ValidateRoomPatch(const nlohmann::json& body, RequestError* error);

// A room queues only with `enabled = true` and a key to sign its cookies
// ([secrets].token_keys): switching one to "auto" or "queue_all" at run
// time (PATCH /v1/rooms, an incident's room) would otherwise be applied,
// reported and audited while shoppers still walk in unqueued. False, with
// 409 room_disabled or no_signing_key, when `mode` is not off and the
// configured room cannot queue; true otherwise (and for unknown rooms,
// refused elsewhere).
bool CheckRoomCanQueue(const config::Config& config, const std::string& room, config::RoomMode mode,
                       RequestError* error);

// A room the run-time state switched on (mode "auto" or "queue_all", by an
// operator or by an incident) that the configuration cannot queue.
struct RoomUnableToQueue {
  std::string room;
  config::RoomMode mode = config::RoomMode::kOff;
  std::string incident_id;  // the incident that holds the mode; "" = set by hand
  std::string error;        // "room_disabled" | "no_signing_key" (as CheckRoomCanQueue)
};

// The rooms of `state` whose run-time mode is not off and that `config`
// cannot queue (CheckRoomCanQueue false), in name order; empty when every
// room switched on at run time queues. Rooms `config` does not have are
// left out (they have no gate). Used to refuse a reload that would create
// one, and to report the ones that exist anyway on /.tidegate/health (a
// local state file restored into a configuration without a key, another
// instance's change through Redis).
std::vector<RoomUnableToQueue> RoomsUnableToQueue(const config::Config& config,
                                                  const state::RuntimeState& state);

// "room 'NAME' is switched to MODE at run time, and <configuration> sets
// enabled = false for it" (or "has no [secrets].token_keys"): the one
// wording of a RoomUnableToQueue for a reload's refusal and `--check`.
// `configuration` names the configuration judged ("the new configuration").
std::string DescribeUnableToQueue(const RoomUnableToQueue& room, std::string_view configuration);

// Incidents (docs/admin-api.md, "Incidents"). Names the bodies may use are
// checked against the configuration: `features` and `rooms` are the
// configured [features.*] and [rooms.*] names.
inline constexpr size_t kMaxIncidentTitle = 200;
inline constexpr size_t kMaxIncidentMessage = 500;  // it is also the banner's text
inline constexpr size_t kMaxIncidentFeatures = 50;

// POST /v1/incidents:
//   {"title": 1..200 (required), "message": 1..500 (required), "impact":
//    "degraded"|"partial_outage"|"major_outage"|"maintenance" (required),
//    "status": "investigating"|"identified"|"monitoring" (default
//    investigating), "features": [configured feature names], "maintenance":
//    true|false|[names among features] (default: every listed feature unless
//    the impact is "degraded"), "banner": bool (default false),
//    "next_update": a delay ("30m", 1m..7d) or an RFC 3339 time in the future,
//    "room": {"name": configured room, "mode": "off"|"auto"|"queue_all"}}.
// history_days is left at its default (the caller sets it).
std::optional<state::OpenIncident> ValidateOpenIncident(const nlohmann::json& body,
                                                        const std::vector<std::string>& features,
                                                        const std::vector<std::string>& rooms,
                                                        common::TimePoint now, RequestError* error);

// POST /v1/incidents/{id}/updates: {"message": 1..500 (required), "status":
// "investigating"|"identified"|"monitoring" (default: unchanged),
// "next_update": as above}. The id is the caller's.
std::optional<state::UpdateIncident> ValidateIncidentUpdate(const nlohmann::json& body,
                                                            common::TimePoint now,
                                                            RequestError* error);

// POST /v1/incidents/{id}/resolve: {"message": 1..500 (required): the closing
// message}.
std::optional<state::ResolveIncident> ValidateIncidentResolve(const nlohmann::json& body,
                                                              RequestError* error);

}  // namespace tidegate::admin
