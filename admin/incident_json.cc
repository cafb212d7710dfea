#include "admin/incident_json.h"

#include "admin/json_field_reader.h"
#include "admin/runtime_state_json.h"
#include "common/rfc3339.h"

namespace tidegate::admin {
namespace {

using Json = nlohmann::json;

Json UpdateJson(const state::IncidentUpdate& u) {
  Json j = {{"at", common::FormatRfc3339(u.at)},
            {"status", state::IncidentStatusName(u.status)},
            {"message", u.message}};
  if (u.next_update_at) j["next_update_at"] = common::FormatRfc3339(*u.next_update_at);
  j["by"] = u.by;
  return j;
}

Json AppliedJson(const state::IncidentApplied& a, bool with_replaced) {
  Json j = {{"maintenance", a.maintenance},
            {"maintenance_asked", a.maintenance_asked},
            {"banner", a.banner}};
  if (a.room) j["room"] = *a.room;
  if (a.room_mode) j["room_mode"] = state::RoomModeName(*a.room_mode);
  if (!with_replaced) return j;
  if (a.replaced_banner) j["replaced_banner"] = ToJson(*a.replaced_banner);
  if (a.replaced_room_mode) {
    j["replaced_room_mode"] = state::RoomModeName(*a.replaced_room_mode);
    if (!a.replaced_room_mode_incident_id.empty()) {
      j["replaced_room_mode_incident_id"] = a.replaced_room_mode_incident_id;
    }
  }
  return j;
}

Json IncidentJson(const state::Incident& incident, bool with_replaced) {
  Json updates = Json::array();
  for (const state::IncidentUpdate& u : incident.updates) updates.push_back(UpdateJson(u));
  Json j = {{"id", incident.id},
            {"title", incident.title},
            {"impact", state::IncidentImpactName(incident.impact)},
            {"status", state::IncidentStatusName(incident.status)},
            {"features", incident.features},
            {"updates", std::move(updates)},
            {"started_at", common::FormatRfc3339(incident.started_at)}};
  if (incident.resolved_at) j["resolved_at"] = common::FormatRfc3339(*incident.resolved_at);
  j["opened_by"] = incident.opened_by;
  j["applied"] = AppliedJson(incident.applied, with_replaced);
  return j;
}

bool ReadUpdate(const Json& j, const std::string& path, state::IncidentUpdate* u,
                std::string* error) {
  FieldReader r(j, path, error);
  r.Time("at", &u->at);
  std::optional<state::IncidentStatus> status;
  r.OptionalEnum<state::IncidentStatus>("status", &state::ParseIncidentStatus, &status);
  if (r.ok() && !status) r.Fail("status", "missing");
  if (status) u->status = *status;
  r.String("message", &u->message);
  r.OptionalTime("next_update_at", &u->next_update_at);
  r.String("by", &u->by, /*required=*/false);
  return r.ok();
}

bool ReadApplied(const Json& j, const std::string& path, state::IncidentApplied* a,
                 std::string* error) {
  FieldReader r(j, path, error);
  r.StringList("maintenance", &a->maintenance);
  r.StringList("maintenance_asked", &a->maintenance_asked);  // absent before handover existed
  r.OptionalBool("banner", &a->banner);
  std::string room;
  r.String("room", &room, /*required=*/false);
  if (!room.empty()) a->room = room;
  r.OptionalEnum<config::RoomMode>("room_mode", &state::ParseRoomMode, &a->room_mode);
  r.OptionalEnum<config::RoomMode>("replaced_room_mode", &state::ParseRoomMode,
                                   &a->replaced_room_mode);
  r.String("replaced_room_mode_incident_id", &a->replaced_room_mode_incident_id,
           /*required=*/false);
  if (!r.ok()) return false;
  if (const Json* banner = r.Find("replaced_banner")) {
    state::BannerOverride b;
    if (!BannerFromJson(*banner, path + ".replaced_banner", &b, error)) return false;
    a->replaced_banner = std::make_shared<const state::BannerOverride>(std::move(b));
  }
  return true;
}

}  // namespace

Json ToJson(const state::Incident& incident) { return IncidentJson(incident, true); }

bool IncidentFromJson(const Json& j, const std::string& path, state::Incident* out,
                      std::string* error) {
  FieldReader r(j, path, error);
  r.String("id", &out->id);
  r.String("title", &out->title);
  std::optional<state::IncidentImpact> impact;
  r.OptionalEnum<state::IncidentImpact>("impact", &state::ParseIncidentImpact, &impact);
  if (r.ok() && !impact) r.Fail("impact", "missing");
  if (impact) out->impact = *impact;
  std::optional<state::IncidentStatus> status;
  r.OptionalEnum<state::IncidentStatus>("status", &state::ParseIncidentStatus, &status);
  if (r.ok() && !status) r.Fail("status", "missing");
  if (status) out->status = *status;
  r.StringList("features", &out->features);
  r.Time("started_at", &out->started_at);
  r.OptionalTime("resolved_at", &out->resolved_at);
  r.String("opened_by", &out->opened_by, /*required=*/false);
  if (!r.ok()) return false;
  const Json* updates = r.Find("updates");
  if (updates == nullptr || !updates->is_array() || updates->empty()) {
    r.Fail("updates", "missing or not a non-empty array");
    return false;
  }
  for (size_t i = 0; i < updates->size(); ++i) {
    state::IncidentUpdate u;
    if (!ReadUpdate((*updates)[i], path + ".updates." + std::to_string(i), &u, error)) {
      return false;
    }
    out->updates.push_back(std::move(u));
  }
  if (const Json* applied = r.Find("applied")) {
    if (!ReadApplied(*applied, path + ".applied", &out->applied, error)) return false;
  }
  return true;
}

Json IncidentApiJson(const state::Incident& incident, common::TimePoint now) {
  Json j = IncidentJson(incident, false);
  j["open"] = incident.open();
  auto next = incident.next_update_at();
  j["next_update_at"] = next ? Json(common::FormatRfc3339(*next)) : Json(nullptr);
  j["update_overdue"] = incident.update_overdue(now);
  return j;
}

Json IncidentChangeJson(const state::RuntimeState& state, const state::Incident& reference) {
  const state::Incident* incident = state::FindIncident(state, reference.id);
  Json j = {{"incident", incident ? ToJson(*incident) : Json(nullptr)}};
  const state::IncidentApplied& a = reference.applied;
  if (!a.maintenance.empty()) {
    Json maintenance = Json::object();
    for (const std::string& feature : a.maintenance) {
      auto it = state.maintenance.find(feature);
      maintenance[feature] = it == state.maintenance.end() ? Json(nullptr) : ToJson(it->second);
    }
    j["maintenance"] = std::move(maintenance);
  }
  if (a.banner) j["banner"] = state.banner ? ToJson(*state.banner) : Json(nullptr);
  if (a.room) {
    auto it = state.rooms.find(*a.room);
    j["room"] = {{*a.room, it == state.rooms.end() ? Json(nullptr) : ToJson(it->second)}};
  }
  return j;
}

const state::Incident* ChangedIncident(const state::StateChange& change,
                                       const state::RuntimeState& before,
                                       const state::RuntimeState& after) {
  if (std::holds_alternative<state::OpenIncident>(change)) {
    for (const state::Incident& incident : after.incidents) {
      if (state::FindIncident(before, incident.id) == nullptr) return &incident;
    }
    return nullptr;
  }
  std::string id;
  if (const auto* u = std::get_if<state::UpdateIncident>(&change)) id = u->id;
  if (const auto* r = std::get_if<state::ResolveIncident>(&change)) id = r->id;
  if (id.empty()) return nullptr;
  if (const state::Incident* incident = state::FindIncident(after, id)) return incident;
  return state::FindIncident(before, id);
}

}  // namespace tidegate::admin
