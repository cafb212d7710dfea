#include "notify/event.h"

#include <openssl/rand.h>

#include <map>
#include <random>

#include "common/rfc3339.h"
#include "state/effective_view.h"

namespace tidegate::notify {
namespace {

using Json = nlohmann::json;

Json TimeOrNull(const std::optional<common::TimePoint>& t) {
  return t ? Json(common::FormatRfc3339(*t)) : Json(nullptr);
}

Event MakeEvent(std::string type, const state::RuntimeState& state, common::TimePoint now,
                Json data) {
  Event e;
  e.id = NewEventId();
  e.type = std::move(type);
  e.created_at = now;
  e.state_version = state.version;
  e.data = std::move(data);
  return e;
}

const state::Incident* FindIncident(const state::RuntimeState& s, const std::string& id) {
  for (const state::Incident& i : s.incidents) {
    if (i.id == id) return &i;
  }
  return nullptr;
}

void IncidentEvents(const state::RuntimeState& before, const state::RuntimeState& after,
                    common::TimePoint now, std::vector<Event>* out) {
  for (const state::Incident& now_incident : after.incidents) {
    const state::Incident* was = FindIncident(before, now_incident.id);
    Json data = IncidentData(now_incident);
    if (was == nullptr) {
      // Opened (or, rarely, opened and resolved in one change: say both).
      out->push_back(MakeEvent("incident.opened", after, now, data));
      if (!now_incident.open()) out->push_back(MakeEvent("incident.resolved", after, now, data));
    } else if (was->open() && !now_incident.open()) {
      out->push_back(MakeEvent("incident.resolved", after, now, std::move(data)));
    } else if (now_incident.open() &&
               (now_incident.updates.size() != was->updates.size() ||
                now_incident.status != was->status || now_incident.title != was->title ||
                now_incident.impact != was->impact)) {
      out->push_back(MakeEvent("incident.updated", after, now, std::move(data)));
    }
  }
}

// An operator maintenance in force or scheduled ("reopened" entries open a
// feature, they are not maintenance).
const state::MaintenanceOverride* MaintenanceOn(const state::RuntimeState& s,
                                                const std::string& feature) {
  auto it = s.maintenance.find(feature);
  if (it == s.maintenance.end() || it->second.reopened) return nullptr;
  return &it->second;
}

Json MaintenanceData(const std::string& feature, const state::MaintenanceOverride* m) {
  Json data = {{"feature", feature}};
  if (m != nullptr) {
    data["message"] = m->message;
    data["starts_at"] = TimeOrNull(m->starts_at);
    data["until"] = TimeOrNull(m->until);
    data["incident_id"] = m->incident_id.empty() ? Json(nullptr) : Json(m->incident_id);
    data["set_by"] = m->set_by;
  }
  return data;
}

void MaintenanceEvents(const state::RuntimeState& before, const state::RuntimeState& after,
                       common::TimePoint now, std::vector<Event>* out) {
  std::map<std::string, bool> features;
  for (const auto& [name, m] : before.maintenance) features[name] = true;
  for (const auto& [name, m] : after.maintenance) features[name] = true;
  for (const auto& [name, unused] : features) {
    const state::MaintenanceOverride* was = MaintenanceOn(before, name);
    const state::MaintenanceOverride* is = MaintenanceOn(after, name);
    if (was == nullptr && is != nullptr) {
      out->push_back(MakeEvent("maintenance.on", after, now, MaintenanceData(name, is)));
    } else if (was != nullptr && is == nullptr) {
      out->push_back(MakeEvent("maintenance.off", after, now, MaintenanceData(name, nullptr)));
    }
  }
}

std::optional<config::RoomMode> ModeOverride(const state::RuntimeState& s,
                                             const std::string& room) {
  auto it = s.rooms.find(room);
  return it == s.rooms.end() ? std::nullopt : it->second.mode;
}

void RoomEvents(const state::RuntimeState& before, const state::RuntimeState& after,
                const config::Config* config, common::TimePoint now, std::vector<Event>* out) {
  std::map<std::string, bool> rooms;
  for (const auto& [name, r] : before.rooms) rooms[name] = true;
  for (const auto& [name, r] : after.rooms) rooms[name] = true;
  for (const auto& [name, unused] : rooms) {
    std::optional<config::RoomMode> was = ModeOverride(before, name);
    std::optional<config::RoomMode> is = ModeOverride(after, name);
    if (was == is) continue;
    Json data = {{"room", name}};
    if (is) {
      data["mode"] = state::RoomModeName(*is);
      data["source"] = "runtime";
      auto it = after.rooms.find(name);
      data["incident_id"] =
          it->second.mode_incident_id.empty() ? Json(nullptr) : Json(it->second.mode_incident_id);
    } else {
      // Back to the configuration's mode (unknown when the room is gone).
      data["mode"] = nullptr;
      data["source"] = "config";
      if (config != nullptr) {
        for (const config::RoomConfig& room : config->rooms) {
          if (room.name == name) data["mode"] = state::RoomModeName(room.mode);
        }
      }
    }
    out->push_back(MakeEvent("room.mode", after, now, std::move(data)));
  }
}

}  // namespace

std::string NewEventId() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // RAND_bytes does not fail on Linux once seeded; stay unique anyway.
    std::random_device device;
    for (unsigned char& b : bytes) b = static_cast<unsigned char>(device());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "evt_";
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

nlohmann::json IncidentData(const state::Incident& incident) {
  Json updates = Json::array();
  // Newest first, as the status page shows them.
  for (auto it = incident.updates.rbegin(); it != incident.updates.rend(); ++it) {
    updates.push_back({{"at", common::FormatRfc3339(it->at)},
                       {"status", state::IncidentStatusName(it->status)},
                       {"message", it->message},
                       {"next_update_at", TimeOrNull(it->next_update_at)}});
  }
  const state::IncidentUpdate* latest = incident.updates.empty() ? nullptr : &incident.latest();
  return {{"id", incident.id},
          {"title", incident.title},
          {"impact", state::IncidentImpactName(incident.impact)},
          {"status", state::IncidentStatusName(incident.status)},
          {"features", incident.features},
          {"message", latest ? latest->message : ""},
          {"next_update_at", TimeOrNull(incident.next_update_at())},
          {"started_at", common::FormatRfc3339(incident.started_at)},
          {"resolved_at", TimeOrNull(incident.resolved_at)},
          {"updates", std::move(updates)}};
}

std::vector<Event> DeriveEvents(const state::RuntimeState& before, const state::RuntimeState& after,
                                const config::Config* config, common::TimePoint now) {
  std::vector<Event> events;
  IncidentEvents(before, after, now, &events);
  MaintenanceEvents(before, after, now, &events);
  RoomEvents(before, after, config, now, &events);
  return events;
}

Event OverdueEvent(const state::Incident& incident, uint64_t state_version, common::TimePoint now) {
  Event e;
  e.id = NewEventId();
  e.type = "incident.update_overdue";
  e.created_at = now;
  e.state_version = state_version;
  e.data = IncidentData(incident);
  return e;
}

std::string EventBody(const Event& event) {
  Json body = {{"id", event.id},
               {"type", event.type},
               {"created_at", common::FormatRfc3339(event.created_at)},
               {"state_version", event.state_version},
               {"data", event.data}};
  return body.dump();
}

}  // namespace tidegate::notify
