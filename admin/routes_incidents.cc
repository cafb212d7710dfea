// GET/POST /v1/incidents, GET /v1/incidents/{id},
// POST /v1/incidents/{id}/updates, POST /v1/incidents/{id}/resolve
// (docs/admin-api.md "Incidents", docs/incidents.md): validate fully, apply
// as one state change (state/incident_changes.h) through the store, audit,
// then acknowledge.
#include <algorithm>
#include <charconv>

#include "admin/admin_api.h"
#include "admin/incident_json.h"
#include "admin/request_validation.h"

namespace tidegate::admin {
namespace {

// Bounds on what one state document carries (it travels whole to Redis and
// the state file at every change).
constexpr size_t kMaxOpenIncidents = 20;
constexpr size_t kMaxUpdatesPerIncident = 200;

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

ApiResponse AdminApi::ListIncidents() {
  auto state = deps_.store->Current();
  common::TimePoint now = Now();
  auto history =
      std::chrono::hours(24) * static_cast<int64_t>(deps_.config()->site.status_history_days);
  nlohmann::json list = nlohmann::json::array();
  for (const state::Incident* incident : state::OpenIncidents(state->incidents)) {
    list.push_back(IncidentApiJson(*incident, now));
  }
  std::vector<const state::Incident*> resolved;
  for (const state::Incident& incident : state->incidents) {
    // The state drops old ones at the next incident change; until then
    // they are not "recent" either.
    if (incident.resolved_at && *incident.resolved_at + history > now) {
      resolved.push_back(&incident);
    }
  }
  std::stable_sort(resolved.begin(), resolved.end(),
                   [](const state::Incident* a, const state::Incident* b) {
                     return *a->resolved_at > *b->resolved_at;
                   });
  for (const state::Incident* incident : resolved) list.push_back(IncidentApiJson(*incident, now));
  ApiResponse r;
  r.body = Dump({{"version", state->version}, {"incidents", std::move(list)}});
  return r;
}

void AdminApi::IncidentRoute(const ApiRequest& request, const Match& match, const AuthResult& who,
                             std::function<void(ApiResponse)> reply) {
  auto config = deps_.config();
  auto current = deps_.store->Current();
  uint32_t history_days = config->site.status_history_days;
  RequestError error;

  if (match.route == Route::kIncidents) {  // POST: open
    auto body = ParseJsonObject(request.body, &error);
    std::vector<std::string> features, rooms;
    for (const auto& f : config->features) features.push_back(f.name);
    for (const auto& r : config->rooms) rooms.push_back(r.name);
    std::optional<state::OpenIncident> open;
    if (body) open = ValidateOpenIncident(*body, features, rooms, Now(), &error);
    if (!open) return reply(Error(error.status, error.error, error.detail));
    if (open->room && !CheckRoomCanQueue(*config, open->room->name, open->room->mode, &error)) {
      return reply(Error(error.status, error.error, error.detail));
    }
    if (state::OpenIncidents(current->incidents).size() >= kMaxOpenIncidents) {
      return reply(Error(409, "too_many_open_incidents",
                         "at most " + std::to_string(kMaxOpenIncidents) +
                             " incidents can be open at once; update or resolve one"));
    }
    open->history_days = history_days;
    return ApplyIncidentChange(request, who, std::move(*open), std::move(reply));
  }

  const state::Incident* incident = state::FindIncident(*current, match.name);
  if (incident == nullptr) {
    return reply(Error(404, "unknown_incident",
                       "no incident '" + match.name + "' (GET /v1/incidents lists them)"));
  }
  if (match.route == Route::kIncident) {
    ApiResponse r;
    r.body = Dump({{"version", current->version}, {"incident", IncidentApiJson(*incident, Now())}});
    return reply(std::move(r));
  }
  if (!incident->open()) {
    return reply(Error(409, "incident_resolved",
                       "incident '" + match.name + "' is resolved; open a new one if it is back"));
  }
  auto body = ParseJsonObject(request.body, &error);
  if (match.route == Route::kIncidentUpdates) {
    std::optional<state::UpdateIncident> update;
    if (body) update = ValidateIncidentUpdate(*body, Now(), &error);
    if (!update) return reply(Error(error.status, error.error, error.detail));
    if (incident->updates.size() >= kMaxUpdatesPerIncident) {
      return reply(Error(409, "too_many_updates",
                         "incident '" + match.name + "' has " +
                             std::to_string(kMaxUpdatesPerIncident) +
                             " updates; resolve it and open a new one"));
    }
    update->id = match.name;
    update->history_days = history_days;
    return ApplyIncidentChange(request, who, std::move(*update), std::move(reply));
  }
  std::optional<state::ResolveIncident> resolve;
  if (body) resolve = ValidateIncidentResolve(*body, &error);
  if (!resolve) return reply(Error(error.status, error.error, error.detail));
  resolve->id = match.name;
  resolve->history_days = history_days;
  ApplyIncidentChange(request, who, std::move(*resolve), std::move(reply));
}

void AdminApi::ApplyIncidentChange(const ApiRequest& request, const AuthResult& who,
                                   state::StateChange change,
                                   std::function<void(ApiResponse)> reply) {
  auto start = StartChange(request, who, reply);
  if (!start) return;
  auto expected = start->expected;
  AuditRecord record = std::move(start->record);
  bool opening = std::holds_alternative<state::OpenIncident>(change);
  std::vector<std::string> asked_maintenance;
  if (opening) asked_maintenance = std::get<state::OpenIncident>(change).maintenance;
  auto done = [this, change, opening, asked_maintenance, record = std::move(record),
               reply = std::move(reply)](ApplyResult result) mutable {
    switch (result.status) {
      case ApplyStatus::kConflict:
        return reply(Error(409, "version_conflict", result.error));
      case ApplyStatus::kUnavailable:
        return reply(Error(503, "store_unavailable", result.error));
      case ApplyStatus::kUnchanged:  // resolved meanwhile (another operator, instance)
        return reply(Error(409, "incident_resolved",
                           "the incident was resolved meanwhile; nothing changed"));
      case ApplyStatus::kApplied:
        break;
    }
    ++metrics_.changes_applied_total;
    const state::Incident* incident = ChangedIncident(change, *result.before, *result.after);
    record.time = Now();
    record.before = incident ? IncidentChangeJson(*result.before, *incident) : nullptr;
    record.after = incident ? IncidentChangeJson(*result.after, *incident) : nullptr;
    std::string error;
    if (deps_.audit == nullptr || !deps_.audit->Append(record, &error)) {
      ++metrics_.audit_write_errors_total;
      if (error.empty()) error = "no audit log configured";
      Warn("admin.audit", "change applied but not recorded: " + error);
      return reply(
          Error(500, "audit_failed",
                "the change is in force but could not be recorded in the audit log: " + error));
    }
    nlohmann::json body = {{"applied", true}, {"version", result.after->version}};
    if (incident != nullptr) {
      body["id"] = incident->id;
      body["incident"] = IncidentApiJson(*incident, Now());
      if (opening) {
        // Features already under an operator's (or another incident's)
        // maintenance keep it; say so rather than pretend.
        nlohmann::json kept = nlohmann::json::array();
        for (const std::string& f : asked_maintenance) {
          const auto& applied = incident->applied.maintenance;
          if (std::find(applied.begin(), applied.end(), f) == applied.end()) kept.push_back(f);
        }
        body["maintenance_left_as_it_was"] = std::move(kept);
      }
    }
    ApiResponse r;
    r.status = opening ? 201 : 200;
    if (opening && incident != nullptr) {
      r.headers.emplace_back("Location", "/v1/incidents/" + incident->id);
    }
    r.body = Dump(body);
    reply(std::move(r));
  };
  deps_.store->Apply(change, who.token_name, expected, std::move(done));
}

}  // namespace tidegate::admin
