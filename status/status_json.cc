#include "common/rfc3339.h"
#include "state/runtime_state.h"
#include "status/status_formats.h"

namespace tidegate::status {
namespace {

using Json = nlohmann::json;

Json UpdateJson(const state::IncidentUpdate& u) {
  Json item = {{"at", common::FormatRfc3339(u.at)},
               {"status", state::IncidentStatusName(u.status)},
               {"message", u.message}};
  if (u.next_update_at) item["next_update_at"] = common::FormatRfc3339(*u.next_update_at);
  return item;
}

Json IncidentJson(const state::Incident& incident, common::TimePoint now) {
  Json updates = Json::array();
  for (const state::IncidentUpdate* u : NewestFirst(incident)) updates.push_back(UpdateJson(*u));
  Json item = {{"kind", "incident"},
               {"id", incident.id},
               {"title", incident.title},
               {"impact", state::IncidentImpactName(incident.impact)},
               {"status", state::IncidentStatusName(incident.status)},
               {"components", incident.features},
               {"started_at", common::FormatRfc3339(incident.started_at)},
               {"updates", std::move(updates)}};
  if (incident.resolved_at) {
    item["resolved_at"] = common::FormatRfc3339(*incident.resolved_at);
    if (!incident.updates.empty()) item["closing_message"] = incident.latest().message;
  } else {
    if (auto next = incident.next_update_at()) {
      item["next_update_at"] = common::FormatRfc3339(*next);
    }
    item["update_overdue"] = incident.update_overdue(now);
  }
  return item;
}

Json NoticeJson(const Notice& n) {
  Json item = {{"id", n.id},
               {"kind", n.kind == Notice::Kind::kBanner ? "notice" : "maintenance"},
               {"message", n.message},
               {"severity", n.severity},
               {"phase", state::PhaseName(n.phase)}};
  if (!n.feature.empty()) item["feature"] = n.feature;
  if (n.since) item["since"] = common::FormatRfc3339(*n.since);
  if (n.starts_at) item["starts_at"] = common::FormatRfc3339(*n.starts_at);
  if (n.until) item["until"] = common::FormatRfc3339(*n.until);
  if (n.next_update_at) item["next_update_at"] = common::FormatRfc3339(*n.next_update_at);
  return item;
}

}  // namespace

Json StatusJson(const config::Config& config, const StatusStory& story, common::TimePoint now) {
  Json incidents = Json::array();
  for (const state::Incident* incident : story.open) {
    incidents.push_back(IncidentJson(*incident, now));
  }
  for (const Notice& n : story.notices) incidents.push_back(NoticeJson(n));
  Json components = Json::array();
  for (const Component& c : story.components) {
    Json item = {{"name", c.name}, {"status", c.status}};
    if (!c.incident_id.empty()) item["incident"] = c.incident_id;
    components.push_back(std::move(item));
  }
  Json past = Json::array();
  for (const state::Incident* incident : story.past) past.push_back(IncidentJson(*incident, now));
  Json body = {{"status", story.overall},
               {"updated_at", common::FormatRfc3339(now)},
               {"incidents", std::move(incidents)},
               {"components", std::move(components)},
               {"past_incidents", std::move(past)}};
  if (!config.site.name.empty()) body["site"] = config.site.name;
  return body;
}

}  // namespace tidegate::status
