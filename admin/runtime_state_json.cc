#include "admin/runtime_state_json.h"

#include <limits>
#include <type_traits>

#include "admin/incident_json.h"
#include "admin/json_field_reader.h"
#include "common/rfc3339.h"
#include "config/value_parsers.h"

namespace tidegate::admin {
namespace {

using Json = nlohmann::json;

bool ReadMaintenance(const Json& j, const std::string& path, state::MaintenanceOverride* m,
                     std::string* error) {
  FieldReader r(j, path, error);
  r.String("message", &m->message);
  r.OptionalTime("starts_at", &m->starts_at);
  r.OptionalTime("until", &m->until);
  r.OptionalBool("reopened", &m->reopened);
  r.String("set_by", &m->set_by);
  r.Time("set_at", &m->set_at);
  r.String("incident_id", &m->incident_id, /*required=*/false);
  return r.ok();
}

}  // namespace

bool BannerFromJson(const Json& j, const std::string& path, state::BannerOverride* b,
                    std::string* error) {
  FieldReader r(j, path, error);
  r.String("message", &b->message);
  r.String("severity", &b->severity);
  if (r.ok() && !state::IsBannerSeverity(b->severity)) r.Fail("severity", "unknown value");
  r.OptionalTime("next_update_at", &b->next_update_at);
  r.OptionalTime("expires_at", &b->expires_at);
  r.String("set_by", &b->set_by);
  r.Time("set_at", &b->set_at);
  r.String("incident_id", &b->incident_id, /*required=*/false);
  return r.ok();
}

namespace {

bool ReadRoom(const Json& j, const std::string& path, state::RoomOverride* o, std::string* error) {
  FieldReader r(j, path, error);
  r.OptionalEnum<config::RoomMode>("mode", &state::ParseRoomMode, &o->mode);
  r.OptionalCount("total_active_users", &o->total_active_users);
  r.OptionalCount("new_users_per_minute", &o->new_users_per_minute);
  r.OptionalDuration("session_duration", &o->session_duration);
  r.OptionalEnum<config::QueueingMethod>("queueing_method", &state::ParseQueueingMethod,
                                         &o->queueing_method);
  if (j.contains("protect")) {
    bool protect = false;
    r.OptionalBool("protect", &protect);
    o->protect = protect;
  }
  r.String("set_by", &o->set_by);
  r.Time("set_at", &o->set_at);
  r.String("mode_incident_id", &o->mode_incident_id, /*required=*/false);
  return r.ok();
}

template <typename T>
bool ReadMap(const Json& j, const char* name, std::map<std::string, T, std::less<>>* out,
             bool (*read)(const Json&, const std::string&, T*, std::string*), std::string* error) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_object()) {
    *error = std::string(name) + ": not an object";
    return false;
  }
  for (const auto& [key, value] : it->items()) {
    T item;
    if (!read(value, std::string(name) + "." + key, &item, error)) return false;
    out->emplace(key, std::move(item));
  }
  return true;
}

}  // namespace

std::optional<state::RuntimeState> RuntimeStateFromJson(const Json& j, std::string* error) {
  if (!j.is_object()) {
    *error = "not a JSON object";
    return std::nullopt;
  }
  state::RuntimeState state;
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_unsigned()) {
    *error = "version: missing or not an unsigned integer";
    return std::nullopt;
  }
  state.version = version->get<uint64_t>();
  if (!ReadMap<state::MaintenanceOverride>(j, "maintenance", &state.maintenance, &ReadMaintenance,
                                           error) ||
      !ReadMap<state::RoomOverride>(j, "rooms", &state.rooms, &ReadRoom, error)) {
    return std::nullopt;
  }
  if (auto banner = j.find("banner"); banner != j.end() && !banner->is_null()) {
    state::BannerOverride b;
    if (!BannerFromJson(*banner, "banner", &b, error)) return std::nullopt;
    state.banner = std::move(b);
  }
  if (auto incidents = j.find("incidents"); incidents != j.end() && !incidents->is_null()) {
    if (!incidents->is_array()) {
      *error = "incidents: not an array";
      return std::nullopt;
    }
    for (size_t i = 0; i < incidents->size(); ++i) {
      state::Incident incident;
      if (!IncidentFromJson((*incidents)[i], "incidents." + std::to_string(i), &incident, error)) {
        return std::nullopt;
      }
      state.incidents.push_back(std::move(incident));
    }
  }
  return state;
}

std::optional<state::RuntimeState> RuntimeStateFromText(const std::string& text,
                                                        std::string* error) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *error = "not valid JSON";
    return std::nullopt;
  }
  return RuntimeStateFromJson(j, error);
}

namespace {

template <typename T>
Json FindJson(const std::map<std::string, T, std::less<>>& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? Json(nullptr) : ToJson(it->second);
}

}  // namespace

Json RestoreAuditJson(std::optional<uint64_t> redis_version, uint64_t version,
                      common::TimePoint time) {
  return {{"time", common::FormatRfc3339Millis(time)},
          {"token", "tidegate"},
          {"version", version},
          {"change", "restore_state"},
          {"target", "state"},
          {"before", redis_version ? Json{{"version", *redis_version}} : Json(nullptr)},
          {"after", {{"version", version}}}};
}

Json ChangeAuditJson(const state::StateChange& change, const std::string& actor,
                     common::TimePoint time, const state::RuntimeState& before,
                     const state::RuntimeState& after) {
  Json j = {
      {"time", common::FormatRfc3339Millis(time)}, {"token", actor}, {"version", after.version}};
  std::visit(
      [&](const auto& c) {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, state::SetMaintenance> ||
                      std::is_same_v<C, state::ClearMaintenance>) {
          j["change"] =
              std::is_same_v<C, state::SetMaintenance> ? "set_maintenance" : "clear_maintenance";
          j["target"] = c.feature;
          j["before"] = FindJson(before.maintenance, c.feature);
          j["after"] = FindJson(after.maintenance, c.feature);
        } else if constexpr (std::is_same_v<C, state::SetBanner> ||
                             std::is_same_v<C, state::ClearBanner>) {
          j["change"] = std::is_same_v<C, state::SetBanner> ? "set_banner" : "clear_banner";
          j["target"] = "banner";
          j["before"] = before.banner ? ToJson(*before.banner) : Json(nullptr);
          j["after"] = after.banner ? ToJson(*after.banner) : Json(nullptr);
        } else if constexpr (std::is_same_v<C, state::PatchRoom> ||
                             std::is_same_v<C, state::ResetRoom>) {
          j["change"] = std::is_same_v<C, state::PatchRoom> ? "patch_room" : "reset_room";
          j["target"] = c.room;
          j["before"] = FindJson(before.rooms, c.room);
          j["after"] = FindJson(after.rooms, c.room);
        } else {
          static_assert(std::is_same_v<C, state::OpenIncident> ||
                        std::is_same_v<C, state::UpdateIncident> ||
                        std::is_same_v<C, state::ResolveIncident>);
          j["change"] = std::is_same_v<C, state::OpenIncident>     ? "open_incident"
                        : std::is_same_v<C, state::UpdateIncident> ? "update_incident"
                                                                   : "resolve_incident";
          const state::Incident* reference = ChangedIncident(change, before, after);
          j["target"] = reference ? reference->id : "";
          j["before"] = reference ? IncidentChangeJson(before, *reference) : Json(nullptr);
          j["after"] = reference ? IncidentChangeJson(after, *reference) : Json(nullptr);
        }
      },
      change);
  return j;
}

nlohmann::json ToJson(const state::MaintenanceOverride& m) {
  nlohmann::json j = {{"message", m.message}};
  if (m.starts_at) j["starts_at"] = common::FormatRfc3339(*m.starts_at);
  if (m.until) j["until"] = common::FormatRfc3339(*m.until);
  if (m.reopened) j["reopened"] = true;
  j["set_by"] = m.set_by;
  j["set_at"] = common::FormatRfc3339(m.set_at);
  if (!m.incident_id.empty()) j["incident_id"] = m.incident_id;
  return j;
}

nlohmann::json ToJson(const state::BannerOverride& b) {
  nlohmann::json j = {{"message", b.message}, {"severity", b.severity}};
  if (b.next_update_at) j["next_update_at"] = common::FormatRfc3339(*b.next_update_at);
  if (b.expires_at) j["expires_at"] = common::FormatRfc3339(*b.expires_at);
  j["set_by"] = b.set_by;
  j["set_at"] = common::FormatRfc3339(b.set_at);
  if (!b.incident_id.empty()) j["incident_id"] = b.incident_id;
  return j;
}

nlohmann::json ToJson(const state::RoomOverride& r) {
  nlohmann::json j = nlohmann::json::object();
  if (r.mode) j["mode"] = state::RoomModeName(*r.mode);
  if (r.total_active_users) j["total_active_users"] = *r.total_active_users;
  if (r.new_users_per_minute) j["new_users_per_minute"] = *r.new_users_per_minute;
  if (r.session_duration) j["session_duration"] = config::FormatDuration(*r.session_duration);
  if (r.queueing_method) j["queueing_method"] = state::QueueingMethodName(*r.queueing_method);
  if (r.protect) j["protect"] = *r.protect;
  j["set_by"] = r.set_by;
  j["set_at"] = common::FormatRfc3339(r.set_at);
  if (!r.mode_incident_id.empty()) j["mode_incident_id"] = r.mode_incident_id;
  return j;
}

nlohmann::json ToJson(const state::RuntimeState& state) {
  nlohmann::json j = {{"version", state.version}};
  nlohmann::json maintenance = nlohmann::json::object();
  for (const auto& [name, m] : state.maintenance) maintenance[name] = ToJson(m);
  j["maintenance"] = std::move(maintenance);
  j["banner"] = state.banner ? ToJson(*state.banner) : nlohmann::json(nullptr);
  nlohmann::json rooms = nlohmann::json::object();
  for (const auto& [name, r] : state.rooms) rooms[name] = ToJson(r);
  j["rooms"] = std::move(rooms);
  nlohmann::json incidents = nlohmann::json::array();
  for (const state::Incident& incident : state.incidents) incidents.push_back(ToJson(incident));
  j["incidents"] = std::move(incidents);
  return j;
}

}  // namespace tidegate::admin
