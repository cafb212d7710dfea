#include "status/status_story.h"

#include <algorithm>
#include <chrono>

#include "state/effective_view.h"

namespace tidegate::status {
namespace {

void Worsen(std::string* status, std::string_view candidate) {
  if (StatusRank(candidate) > StatusRank(*status)) *status = std::string(candidate);
}

std::vector<Component> Components(const config::Config& config, const state::RuntimeState& state,
                                  const std::vector<const state::Incident*>& open,
                                  common::TimePoint now) {
  std::vector<Component> components;
  for (const config::FeatureConfig& feature : config.features) {
    Component c{feature.name, "operational", ""};
    // Under maintenance the feature answers every request with a 503:
    // "maintenance" says more than a "degraded" incident naming it; only an
    // outage impact says more.
    const bool down = state::EffectiveMaintenanceOf(feature, state, now).active;
    if (down) c.status = "maintenance";
    for (const state::Incident* incident : open) {
      if (std::find(incident->features.begin(), incident->features.end(), feature.name) ==
          incident->features.end()) {
        continue;
      }
      std::string_view impact = state::IncidentImpactName(incident->impact);
      if (c.incident_id.empty() || StatusRank(impact) > StatusRank(c.status)) {
        c.incident_id = incident->id;
      }
      if (!down || StatusRank(impact) >= StatusRank("partial_outage")) Worsen(&c.status, impact);
    }
    components.push_back(std::move(c));
  }
  return components;
}

}  // namespace

int StatusRank(std::string_view status) {
  if (status == "operational") return 0;
  if (status == "maintenance") return 1;
  if (status == "partial_outage") return 3;
  if (status == "major_outage") return 4;
  return 2;  // degraded
}

std::vector<const state::IncidentUpdate*> NewestFirst(const state::Incident& incident) {
  std::vector<const state::IncidentUpdate*> updates;
  for (auto it = incident.updates.rbegin(); it != incident.updates.rend(); ++it) {
    updates.push_back(&*it);
  }
  return updates;
}

StatusStory BuildStory(const config::Config& config, const state::RuntimeState& state,
                       common::TimePoint now) {
  StatusStory story;
  story.open = state::OpenIncidents(state.incidents);
  // Lead with the incident the banner, the queue page and the maintenance
  // page tell (one story); the others follow, most recently started first.
  if (const state::Incident* headline = state::HeadlineIncident(state.incidents)) {
    auto it = std::find(story.open.begin(), story.open.end(), headline);
    if (it != story.open.end()) std::rotate(story.open.begin(), it, it + 1);
  }
  story.notices = CurrentNotices(config, state, now);
  story.components = Components(config, state, story.open, now);
  auto oldest = now - std::chrono::hours(24) * config.site.status_history_days;
  for (const state::Incident& incident : state.incidents) {
    if (!incident.open() && *incident.resolved_at >= oldest) story.past.push_back(&incident);
  }
  std::stable_sort(story.past.begin(), story.past.end(),
                   [](const state::Incident* a, const state::Incident* b) {
                     return *a->resolved_at > *b->resolved_at;
                   });
  for (const state::Incident* incident : story.open) {
    Worsen(&story.overall, state::IncidentImpactName(incident->impact));
  }
  for (const Notice& n : story.notices) {
    bool down_now = n.kind == Notice::Kind::kMaintenance && n.phase == state::Phase::kActive;
    Worsen(&story.overall, down_now ? "partial_outage" : "degraded");
  }
  return story;
}

}  // namespace tidegate::status
