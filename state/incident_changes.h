// The incident lifecycle as state changes (docs/incidents.md): open, update
// and resolve are each one StateChange (state/runtime_state.h), so each is
// one state version and one audit entry, shared by every instance through
// the store like any other switch.
//
// Opening may switch on, in that same version, what the operator asked for:
//   * maintenance of some of its features: a MaintenanceOverride tagged with
//     the incident's id, for each feature that has no override yet (an
//     operator's own override, or another incident's, is left as it is; the
//     incident records that it asked, in applied.maintenance_asked);
//   * the banner (the incident's message and next update, severity from the
//     impact), replacing the banner in force, which is remembered;
//   * a room mode, replacing the room's mode override, which is remembered.
// What it switched on is recorded in Incident::applied. An update appends to
// the timeline and carries its message and next update to the banner and to
// the maintenance overrides that still carry the incident's id. Resolving
// appends the closing message and removes exactly what the incident applied
// and still owns (same id tag): each of its maintenance overrides is handed
// to the most urgent other open incident that asked for that feature's
// maintenance (most severe impact, then most recently started: the
// maintenance page's order), which then owns it (tag, message, applied),
// or cleared when none did; its banner gives way to the one it replaced,
// its room mode to the one before. Something an operator set since (no
// tag, or another incident's) is never touched. Every incident change also drops resolved incidents
// older than `history_days` (the [site].status_history_days the admin API passes).
//
// Contract: plain values and pure functions (thread-safe, no I/O), called by
// ApplyChange(); they never fail — a change that cannot apply (unknown id,
// already resolved) is a no-op (returns false) and the admin API refuses it
// beforehand with a clear error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/time_source.h"
#include "config/config.h"
#include "state/incident.h"

namespace tidegate::state {

struct RuntimeState;

// POST /v1/incidents.
struct OpenIncident {
  std::string title;
  IncidentImpact impact = IncidentImpact::kDegraded;
  IncidentStatus status = IncidentStatus::kInvestigating;  // never kResolved
  std::string message;                                     // the first update
  std::optional<common::TimePoint> next_update_at;
  std::vector<std::string> features;     // affected components
  std::vector<std::string> maintenance;  // of those, the ones to switch off
  bool banner = false;
  struct Room {
    std::string name;
    config::RoomMode mode = config::RoomMode::kQueueAll;
  };
  std::optional<Room> room;
  uint32_t history_days = 30;
};

// POST /v1/incidents/{id}/updates.
struct UpdateIncident {
  std::string id;
  std::optional<IncidentStatus> status;  // nullopt = unchanged; never kResolved
  std::string message;
  std::optional<common::TimePoint> next_update_at;
  uint32_t history_days = 30;
};

// POST /v1/incidents/{id}/resolve.
struct ResolveIncident {
  std::string id;
  std::string message;  // the closing message
  uint32_t history_days = 30;
};

// The id the next opened incident gets in `state` at `now`: the UTC date and
// the state version it creates ("20261205-42"): unique among kept incidents,
// since versions only grow.
std::string NextIncidentId(const RuntimeState& state, common::TimePoint now);

// The incident with `id`, or nullptr.
const Incident* FindIncident(const RuntimeState& state, std::string_view id);

// The open incident the run-time banner tells about, or nullptr (no banner
// override, an operator's own, or its incident resolved). Of the open
// incidents whose banners are stacked — the one in force, the one it
// replaced, and so on down the chain, which an operator's own banner or a
// banner removed by hand ends — the headline: the most severe impact, then
// the most recently started (HeadlineIncident's order). A later, milder
// incident does not talk over a major outage on the banner.
const Incident* IncidentOnBanner(const RuntimeState& state);

// Banner severity shown for an impact: major_outage → "critical",
// partial_outage and degraded → "warning", maintenance → "info".
std::string_view BannerSeverityFor(IncidentImpact impact);

// Apply the change to `state` in place (ApplyChange's copy); true when
// something changed. The version is not touched (ApplyChange increments it).
bool ApplyOpenIncident(RuntimeState* state, const OpenIncident& change, const std::string& actor,
                       common::TimePoint now);
bool ApplyUpdateIncident(RuntimeState* state, const UpdateIncident& change,
                         const std::string& actor, common::TimePoint now);
bool ApplyResolveIncident(RuntimeState* state, const ResolveIncident& change,
                          const std::string& actor, common::TimePoint now);

// Drops resolved incidents whose resolved_at is `history_days` or more
// before `now`; true when any was dropped.
bool PruneIncidentHistory(RuntimeState* state, uint32_t history_days, common::TimePoint now);

}  // namespace tidegate::state
