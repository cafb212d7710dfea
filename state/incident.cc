#include "state/incident.h"

#include <algorithm>

namespace tidegate::state {

std::string_view IncidentImpactName(IncidentImpact impact) {
  switch (impact) {
    case IncidentImpact::kDegraded:
      return "degraded";
    case IncidentImpact::kPartialOutage:
      return "partial_outage";
    case IncidentImpact::kMajorOutage:
      return "major_outage";
    case IncidentImpact::kMaintenance:
      return "maintenance";
  }
  return "degraded";
}

std::optional<IncidentImpact> ParseIncidentImpact(std::string_view text) {
  if (text == "degraded") return IncidentImpact::kDegraded;
  if (text == "partial_outage") return IncidentImpact::kPartialOutage;
  if (text == "major_outage") return IncidentImpact::kMajorOutage;
  if (text == "maintenance") return IncidentImpact::kMaintenance;
  return std::nullopt;
}

std::string_view IncidentStatusName(IncidentStatus status) {
  switch (status) {
    case IncidentStatus::kInvestigating:
      return "investigating";
    case IncidentStatus::kIdentified:
      return "identified";
    case IncidentStatus::kMonitoring:
      return "monitoring";
    case IncidentStatus::kResolved:
      return "resolved";
  }
  return "investigating";
}

std::optional<IncidentStatus> ParseIncidentStatus(std::string_view text) {
  if (text == "investigating") return IncidentStatus::kInvestigating;
  if (text == "identified") return IncidentStatus::kIdentified;
  if (text == "monitoring") return IncidentStatus::kMonitoring;
  if (text == "resolved") return IncidentStatus::kResolved;
  return std::nullopt;
}

std::vector<const Incident*> OpenIncidents(const std::vector<Incident>& incidents) {
  std::vector<const Incident*> open;
  for (const Incident& incident : incidents) {
    if (incident.open()) open.push_back(&incident);
  }
  std::stable_sort(open.begin(), open.end(), [](const Incident* a, const Incident* b) {
    return a->started_at > b->started_at;
  });
  return open;
}

int IncidentSeverity(IncidentImpact impact) {
  switch (impact) {
    case IncidentImpact::kMajorOutage:
      return 3;
    case IncidentImpact::kPartialOutage:
      return 2;
    case IncidentImpact::kDegraded:
      return 1;
    case IncidentImpact::kMaintenance:
      return 0;
  }
  return 0;
}

bool MoreUrgent(const Incident& a, const Incident& b) {
  int sa = IncidentSeverity(a.impact), sb = IncidentSeverity(b.impact);
  return sa != sb ? sa > sb : a.started_at > b.started_at;
}

const Incident* HeadlineIncident(const std::vector<Incident>& incidents) {
  const Incident* best = nullptr;
  // Newest first; of two equally urgent (same start), the first listed stays.
  for (const Incident* incident : OpenIncidents(incidents)) {
    if (!best || MoreUrgent(*incident, *best)) best = incident;
  }
  return best;
}

}  // namespace tidegate::state
