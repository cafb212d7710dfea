#include "status/notices.h"

#include <algorithm>

#include "state/effective_view.h"

namespace tidegate::status {
namespace {

// True when `incident_id` names an open incident of `state`: its override is
// told by the incident itself.
bool PartOfOpenIncident(const state::RuntimeState& state, const std::string& incident_id) {
  if (incident_id.empty()) return false;
  for (const state::Incident& incident : state.incidents) {
    if (incident.id == incident_id && incident.open()) return true;
  }
  return false;
}

bool Configured(const config::Config& config, const std::string& feature) {
  for (const config::FeatureConfig& f : config.features) {
    if (f.name == feature) return true;
  }
  return false;
}

}  // namespace

std::vector<Notice> CurrentNotices(const config::Config& config, const state::RuntimeState& state,
                                   common::TimePoint now) {
  std::vector<Notice> out;
  state::EffectiveBanner banner = state::EffectiveBannerSettings(config.banner, state, now);
  bool incident_banner = banner.source == state::ValueSource::kRuntime && state.banner &&
                         PartOfOpenIncident(state, state.banner->incident_id);
  if (banner.enabled && !incident_banner) {
    Notice n;
    n.kind = Notice::Kind::kBanner;
    n.id = "banner";
    n.message = banner.message;
    n.severity = banner.severity;
    n.until = banner.expires_at;
    n.next_update_at = banner.next_update_at;
    if (banner.source == state::ValueSource::kRuntime && state.banner) {
      n.since = state.banner->set_at;
    }
    out.push_back(std::move(n));
  }
  std::vector<Notice> scheduled;
  for (const auto& [feature, m] : state.maintenance) {
    if (m.reopened) continue;  // an operator ended a configured window: nothing to report
    if (PartOfOpenIncident(state, m.incident_id)) continue;
    // An override of a feature a reload removed applies to nothing
    // (orphaned_overrides in GET /v1/state): no shopper is refused by it.
    if (!Configured(config, feature)) continue;
    state::Phase phase = state::MaintenancePhase(m, now);
    if (phase == state::Phase::kExpired) continue;
    Notice n;
    n.kind = Notice::Kind::kMaintenance;
    n.id = "maintenance-" + feature;
    n.feature = feature;
    n.message = m.message;
    n.severity = "maintenance";
    n.phase = phase;
    n.since = m.set_at;
    n.starts_at = m.starts_at;
    n.until = m.until;
    (phase == state::Phase::kActive ? out : scheduled).push_back(std::move(n));
  }
  for (const config::FeatureConfig& feature : config.features) {
    if (!feature.enabled || !feature.maintenance) continue;
    const config::ConfigMaintenanceWindow& w = *feature.maintenance;
    if (w.until && now >= *w.until) continue;  // over
    auto it = state.maintenance.find(feature.name);
    if (it != state.maintenance.end() &&
        state::MaintenancePhase(it->second, now) == state::Phase::kActive) {
      continue;  // the operator's override decides now (listed above, or reopened)
    }
    bool started = !w.starts_at || now >= *w.starts_at;
    Notice n;
    n.kind = Notice::Kind::kMaintenance;
    n.id = "maintenance-" + feature.name;
    n.feature = feature.name;
    n.message = w.message;
    n.severity = "maintenance";
    n.phase = started ? state::Phase::kActive : state::Phase::kScheduled;
    n.starts_at = w.starts_at;
    n.until = w.until;
    auto by_name = [](const Notice& a, const Notice& b) { return a.feature < b.feature; };
    std::vector<Notice>& list = started ? out : scheduled;
    // Keep both lists in feature-name order (the overrides came first).
    auto at = std::upper_bound(
        std::find_if(list.begin(), list.end(),
                     [](const Notice& x) { return x.kind == Notice::Kind::kMaintenance; }),
        list.end(), n, by_name);
    list.insert(at, std::move(n));
  }
  for (Notice& n : scheduled) out.push_back(std::move(n));
  return out;
}

}  // namespace tidegate::status
