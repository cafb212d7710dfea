#include "state/incident_changes.h"

#include <algorithm>

#include "common/rfc3339.h"
#include "state/runtime_state.h"

namespace tidegate::state {
namespace {

Incident* FindMutable(RuntimeState* state, std::string_view id) {
  for (Incident& incident : state->incidents) {
    if (incident.id == id) return &incident;
  }
  return nullptr;
}

// The banner to remember when an incident's banner replaces it: only one
// still in force (an expired one would never show again anyway).
std::shared_ptr<const BannerOverride> BannerToRemember(const std::optional<BannerOverride>& banner,
                                                       common::TimePoint now) {
  if (!banner || BannerPhase(*banner, now) == Phase::kExpired) return nullptr;
  return std::make_shared<const BannerOverride>(*banner);
}

void ApplyRoomMode(RuntimeState* state, const OpenIncident::Room& room, Incident* incident,
                   const std::string& actor, common::TimePoint now) {
  RoomOverride& r = state->rooms[room.name];
  incident->applied.room = room.name;
  incident->applied.room_mode = room.mode;
  incident->applied.replaced_room_mode = r.mode;
  incident->applied.replaced_room_mode_incident_id = r.mode ? r.mode_incident_id : "";
  r.mode = room.mode;
  r.mode_incident_id = incident->id;
  r.set_by = actor;
  r.set_at = now;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// The open incident other than `resolved` that asked for the maintenance
// of `feature` and comes first in the maintenance page's order (most
// severe, then most recently started), or nullptr. An incident stored
// before maintenance_asked existed counts with what it applied.
Incident* HeirOfMaintenance(RuntimeState* state, const Incident& resolved,
                            const std::string& feature) {
  Incident* heir = nullptr;
  for (Incident& other : state->incidents) {
    if (&other == &resolved || !other.open() || other.updates.empty()) continue;
    if (!Contains(other.applied.maintenance_asked, feature) &&
        !Contains(other.applied.maintenance, feature)) {
      continue;
    }
    if (heir == nullptr || MoreUrgent(other, *heir)) heir = &other;
  }
  return heir;
}

// Each maintenance override `incident` still owns goes to the open
// incident next in line for it (HeirOfMaintenance), which now owns it as
// if it had set it (its id, its latest message); without one it is cleared.
void HandOverOrClearMaintenance(RuntimeState* state, const Incident& incident,
                                const std::string& actor, common::TimePoint now) {
  for (const std::string& feature : incident.applied.maintenance) {
    auto it = state->maintenance.find(feature);
    if (it == state->maintenance.end() || it->second.incident_id != incident.id) continue;
    Incident* heir = HeirOfMaintenance(state, incident, feature);
    if (heir == nullptr) {
      state->maintenance.erase(it);
      continue;
    }
    MaintenanceOverride& m = it->second;
    m.incident_id = heir->id;
    m.message = heir->latest().message;
    m.set_by = actor;
    m.set_at = now;
    if (!Contains(heir->applied.maintenance, feature)) {
      heir->applied.maintenance.push_back(feature);
    }
  }
}

// Puts back what `incident` replaced, where what is in force is still its own.
void RestoreReplaced(RuntimeState* state, const Incident& incident, const std::string& actor,
                     common::TimePoint now) {
  const IncidentApplied& applied = incident.applied;
  HandOverOrClearMaintenance(state, incident, actor, now);
  if (state->banner && state->banner->incident_id == incident.id) {
    if (applied.replaced_banner && BannerPhase(*applied.replaced_banner, now) != Phase::kExpired) {
      state->banner = *applied.replaced_banner;
    } else {
      state->banner.reset();
    }
  }
  if (applied.room) {
    auto it = state->rooms.find(*applied.room);
    if (it != state->rooms.end() && it->second.mode && it->second.mode_incident_id == incident.id) {
      it->second.mode = applied.replaced_room_mode;
      it->second.mode_incident_id =
          applied.replaced_room_mode ? applied.replaced_room_mode_incident_id : "";
      it->second.set_by = actor;
      it->second.set_at = now;
      if (it->second.empty()) state->rooms.erase(it);
    }
  }
}

// Another open incident that replaced this one's banner or room mode would,
// at its own resolve, put back something of a closed incident: it gets what
// this one had replaced instead (a stack losing a middle element).
void HandOverReplaced(RuntimeState* state, const Incident& resolved) {
  for (Incident& other : state->incidents) {
    if (&other == &resolved || !other.open()) continue;
    IncidentApplied& a = other.applied;
    if (a.replaced_banner && a.replaced_banner->incident_id == resolved.id) {
      a.replaced_banner = resolved.applied.replaced_banner;
    }
    if (a.room && resolved.applied.room && *a.room == *resolved.applied.room &&
        a.replaced_room_mode && a.replaced_room_mode_incident_id == resolved.id) {
      a.replaced_room_mode = resolved.applied.replaced_room_mode;
      a.replaced_room_mode_incident_id = resolved.applied.replaced_room_mode_incident_id;
    }
  }
}

}  // namespace

std::string NextIncidentId(const RuntimeState& state, common::TimePoint now) {
  std::string date = common::FormatRfc3339(now).substr(0, 10);  // YYYY-MM-DD
  date.erase(std::remove(date.begin(), date.end(), '-'), date.end());
  std::string id = date + "-" + std::to_string(state.version + 1);
  // Versions only grow, so this is unique unless a state was restored from
  // elsewhere; then a suffix keeps it so.
  for (char suffix = 'a'; FindIncident(state, id) != nullptr && suffix <= 'z'; ++suffix) {
    id = date + "-" + std::to_string(state.version + 1) + suffix;
  }
  return id;
}

const Incident* FindIncident(const RuntimeState& state, std::string_view id) {
  for (const Incident& incident : state.incidents) {
    if (incident.id == id) return &incident;
  }
  return nullptr;
}

const Incident* IncidentOnBanner(const RuntimeState& state) {
  const Incident* shown = nullptr;
  std::string_view id = state.banner ? std::string_view(state.banner->incident_id) : "";
  // Bounded by the number of incidents: a chain never revisits one.
  for (size_t hops = 0; !id.empty() && hops <= state.incidents.size(); ++hops) {
    const Incident* incident = FindIncident(state, id);
    if (incident == nullptr) break;
    if (incident->open() && !incident->updates.empty() &&
        (shown == nullptr || MoreUrgent(*incident, *shown))) {
      shown = incident;
    }
    const auto& replaced = incident->applied.replaced_banner;
    id = replaced ? std::string_view(replaced->incident_id) : std::string_view();
  }
  return shown;
}

std::string_view BannerSeverityFor(IncidentImpact impact) {
  switch (impact) {
    case IncidentImpact::kMajorOutage:
      return "critical";
    case IncidentImpact::kPartialOutage:
    case IncidentImpact::kDegraded:
      return "warning";
    case IncidentImpact::kMaintenance:
      return "info";
  }
  return "warning";
}

bool ApplyOpenIncident(RuntimeState* state, const OpenIncident& change, const std::string& actor,
                       common::TimePoint now) {
  Incident incident;
  incident.id = NextIncidentId(*state, now);
  incident.title = change.title;
  incident.impact = change.impact;
  incident.status = change.status;
  incident.features = change.features;
  incident.updates.push_back(
      IncidentUpdate{now, change.status, change.message, change.next_update_at, actor});
  incident.started_at = now;
  incident.opened_by = actor;

  incident.applied.maintenance_asked = change.maintenance;
  for (const std::string& feature : change.maintenance) {
    if (state->maintenance.count(feature) > 0) continue;  // not ours to take over
    MaintenanceOverride m;
    m.message = change.message;
    m.set_by = actor;
    m.set_at = now;
    m.incident_id = incident.id;
    state->maintenance[feature] = std::move(m);
    incident.applied.maintenance.push_back(feature);
  }
  if (change.banner) {
    incident.applied.banner = true;
    incident.applied.replaced_banner = BannerToRemember(state->banner, now);
    BannerOverride b;
    b.message = change.message;
    b.severity = std::string(BannerSeverityFor(change.impact));
    b.next_update_at = change.next_update_at;
    b.set_by = actor;
    b.set_at = now;
    b.incident_id = incident.id;
    state->banner = std::move(b);
  }
  if (change.room) ApplyRoomMode(state, *change.room, &incident, actor, now);

  state->incidents.push_back(std::move(incident));
  std::stable_sort(
      state->incidents.begin(), state->incidents.end(),
      [](const Incident& a, const Incident& b) { return a.started_at < b.started_at; });
  PruneIncidentHistory(state, change.history_days, now);
  return true;
}

bool ApplyUpdateIncident(RuntimeState* state, const UpdateIncident& change,
                         const std::string& actor, common::TimePoint now) {
  Incident* incident = FindMutable(state, change.id);
  if (incident == nullptr || !incident->open()) return false;
  IncidentStatus status = change.status.value_or(incident->status);
  if (status == IncidentStatus::kResolved) return false;  // resolving is its own change
  incident->updates.push_back(
      IncidentUpdate{now, status, change.message, change.next_update_at, actor});
  incident->status = status;
  if (state->banner && state->banner->incident_id == change.id) {
    state->banner->message = change.message;
    state->banner->next_update_at = change.next_update_at;
    state->banner->set_by = actor;
    state->banner->set_at = now;
  }
  for (const std::string& feature : incident->applied.maintenance) {
    auto it = state->maintenance.find(feature);
    if (it == state->maintenance.end() || it->second.incident_id != change.id) continue;
    it->second.message = change.message;
    it->second.set_by = actor;
    it->second.set_at = now;
  }
  PruneIncidentHistory(state, change.history_days, now);
  return true;
}

bool ApplyResolveIncident(RuntimeState* state, const ResolveIncident& change,
                          const std::string& actor, common::TimePoint now) {
  Incident* incident = FindMutable(state, change.id);
  if (incident == nullptr || !incident->open()) return false;
  incident->updates.push_back(
      IncidentUpdate{now, IncidentStatus::kResolved, change.message, std::nullopt, actor});
  incident->status = IncidentStatus::kResolved;
  incident->resolved_at = now;
  RestoreReplaced(state, *incident, actor, now);
  HandOverReplaced(state, *incident);
  // Kept for the history: what it applied; what it replaced is handed back.
  incident->applied.replaced_banner.reset();
  incident->applied.replaced_room_mode.reset();
  incident->applied.replaced_room_mode_incident_id.clear();
  PruneIncidentHistory(state, change.history_days, now);
  return true;
}

bool PruneIncidentHistory(RuntimeState* state, uint32_t history_days, common::TimePoint now) {
  auto keep_for = std::chrono::hours(24) * static_cast<int64_t>(history_days);
  size_t before = state->incidents.size();
  std::erase_if(state->incidents, [&](const Incident& incident) {
    return incident.resolved_at && *incident.resolved_at + keep_for <= now;
  });
  return state->incidents.size() != before;
}

}  // namespace tidegate::state
