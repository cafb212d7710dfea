// Incidents (docs/incidents.md): what operators tell shoppers when part of
// the shop is in trouble, kept in the run-time state (state/runtime_state.h)
// so that every instance sharing a store shows the same story and every
// change is audited like any other.
//
// An incident has a title, an impact, the features it affects (the
// `[features.*]` names, shown as components on the status page) and a
// timeline of updates, oldest first; the first update is the opening
// message and a resolved incident's last update is its closing message.
// Opening one may switch on, in the same state version, the maintenance of
// its features, the banner and a room mode; what it switched on is recorded
// in `applied`, and each override it set carries its id (`incident_id`),
// so that resolving it removes exactly that and leaves alone what an
// operator set separately (or changed since).
//
// Contract: plain values, part of RuntimeState (immutable once published,
// readable from any thread). The helpers below are pure functions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time_source.h"
#include "config/config.h"

namespace tidegate::state {

struct BannerOverride;  // state/runtime_state.h

// How much of the shop is affected (the status page's colour and wording).
enum class IncidentImpact { kDegraded, kPartialOutage, kMajorOutage, kMaintenance };
// investigating -> identified -> monitoring -> resolved (an update may move
// to any status except back from resolved; resolving is its own change).
enum class IncidentStatus { kInvestigating, kIdentified, kMonitoring, kResolved };

struct IncidentUpdate {
  common::TimePoint at;
  IncidentStatus status = IncidentStatus::kInvestigating;
  std::string message;
  std::optional<common::TimePoint> next_update_at;  // the promised next update
  std::string by;                                   // admin token name
};

// What opening the incident switched on (and resolving it switches off,
// where the override still carries the incident's id).
struct IncidentApplied {
  std::vector<std::string> maintenance;  // features under maintenance it owns (tagged with its id)
  // Every feature whose maintenance it asked for, including those another
  // override held at opening: while it is open, the maintenance another
  // incident set on such a feature is handed to it at that incident's
  // resolve (state/incident_changes.h) instead of being cleared.
  std::vector<std::string> maintenance_asked;
  bool banner = false;              // the banner was set (and follows the updates)
  std::optional<std::string> room;  // room whose mode was set
  std::optional<config::RoomMode> room_mode;
  // What the incident's banner and room mode replaced, put back at resolve
  // (state/incident_changes.h): the banner in force when it opened (by hand
  // or another incident's), and the room's mode override before (nullopt =
  // none, the configured mode) with the id of the incident that had set it.
  std::shared_ptr<const BannerOverride> replaced_banner;
  std::optional<config::RoomMode> replaced_room_mode;
  std::string replaced_room_mode_incident_id;
};

struct Incident {
  std::string id;  // short, URL-safe, unique among the kept incidents
  std::string title;
  IncidentImpact impact = IncidentImpact::kDegraded;
  IncidentStatus status = IncidentStatus::kInvestigating;  // == latest update's
  std::vector<std::string> features;                       // affected components
  std::vector<IncidentUpdate> updates;                     // oldest first, never empty
  common::TimePoint started_at;
  std::optional<common::TimePoint> resolved_at;
  IncidentApplied applied;
  std::string opened_by;

  bool open() const { return !resolved_at; }
  // The latest update (updates is never empty once opened).
  const IncidentUpdate& latest() const { return updates.back(); }
  // The promised time of the next update while open (the latest update's).
  std::optional<common::TimePoint> next_update_at() const {
    return open() && !updates.empty() ? updates.back().next_update_at : std::nullopt;
  }
  // Open, a next update was promised, and it is past `now` with no update.
  bool update_overdue(common::TimePoint now) const {
    auto next = next_update_at();
    return next && now > *next;
  }
};

// "degraded" | "partial_outage" | "major_outage" | "maintenance".
std::string_view IncidentImpactName(IncidentImpact impact);
std::optional<IncidentImpact> ParseIncidentImpact(std::string_view text);
// "investigating" | "identified" | "monitoring" | "resolved".
std::string_view IncidentStatusName(IncidentStatus status);
std::optional<IncidentStatus> ParseIncidentStatus(std::string_view text);

// Higher is more severe: major_outage 3, partial_outage 2, degraded 1,
// maintenance (planned work) 0.
int IncidentSeverity(IncidentImpact impact);

// The open incidents of `incidents`, most recently started first (pointers
// into the vector).
std::vector<const Incident*> OpenIncidents(const std::vector<Incident>& incidents);
// The order in which incidents speak to shoppers: true when `a` comes
// before `b` (a more severe impact, or the same impact started later).
bool MoreUrgent(const Incident& a, const Incident& b);
// The open incident shoppers should read about on every page (the first in
// MoreUrgent's order), or nullptr. The status page leads with it too.
const Incident* HeadlineIncident(const std::vector<Incident>& incidents);

}  // namespace tidegate::state
