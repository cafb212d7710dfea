#include "admin/effective_state_json.h"

#include "admin/incident_json.h"
#include "admin/room_protect_json.h"
#include "admin/runtime_state_json.h"
#include "common/rfc3339.h"
#include "config/value_parsers.h"
#include "state/effective_view.h"
#include "state/incident_changes.h"

namespace tidegate::admin {
namespace {

template <typename T, typename F>
nlohmann::json SourcedJson(const state::Sourced<T>& s, F to_json) {
  return {{"value", to_json(s.value)}, {"source", state::ValueSourceName(s.source)}};
}

nlohmann::json OptionalTime(const std::optional<common::TimePoint>& t) {
  return t ? nlohmann::json(common::FormatRfc3339(*t)) : nlohmann::json(nullptr);
}

// Scheduled events of a room (docs/admin-api.md): each with its phase at
// `now` ("scheduled" | "prequeue" | "live" | "ended") and the next change.
nlohmann::json EventsJson(const std::vector<config::RoomEventConfig>& events,
                          common::TimePoint now) {
  nlohmann::json out = nlohmann::json::array();
  for (const config::RoomEventConfig& e : events) {
    nlohmann::json j;
    j["name"] = e.name;
    j["prequeue_start"] = common::FormatRfc3339(e.prequeue_start);
    j["start"] = common::FormatRfc3339(e.start);
    j["end"] = common::FormatRfc3339(e.end);
    const char* phase = now < e.prequeue_start ? "scheduled"
                        : now < e.start        ? "prequeue"
                        : now < e.end          ? "live"
                                               : "ended";
    j["phase"] = phase;
    j["next_change"] = now < e.prequeue_start
                           ? nlohmann::json(common::FormatRfc3339(e.prequeue_start))
                       : now < e.start ? nlohmann::json(common::FormatRfc3339(e.start))
                       : now < e.end   ? nlohmann::json(common::FormatRfc3339(e.end))
                                       : nlohmann::json(nullptr);
    auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    j["total_active_users"] = opt(e.total_active_users);
    j["new_users_per_minute"] = opt(e.new_users_per_minute);
    j["session_duration"] =
        e.session_duration ? nlohmann::json(config::FormatDuration(*e.session_duration)) : nullptr;
    j["queueing_method"] =
        e.queueing_method
            ? nlohmann::json(std::string(state::QueueingMethodName(*e.queueing_method)))
            : nullptr;
    j["mode"] = e.mode ? nlohmann::json(std::string(state::RoomModeName(*e.mode))) : nullptr;
    out.push_back(std::move(j));
  }
  return out;
}

// The feature's configured window ([features.NAME.maintenance]) and its phase
// at `now`, or null.
nlohmann::json ConfigWindowJson(const config::FeatureConfig& feature, common::TimePoint now) {
  if (!feature.maintenance) return nullptr;
  const config::ConfigMaintenanceWindow& w = *feature.maintenance;
  const char* phase = w.until && now >= *w.until          ? "expired"
                      : w.starts_at && now < *w.starts_at ? "scheduled"
                                                          : "active";
  return {{"message", w.message},
          {"starts_at", OptionalTime(w.starts_at)},
          {"until", OptionalTime(w.until)},
          {"phase", phase}};
}

}  // namespace

nlohmann::json EffectiveStateJson(const config::Config& config, const state::RuntimeState& state,
                                  const MetricsSnapshot& metrics, const StoreHealth& store,
                                  common::TimePoint now) {
  nlohmann::json j;
  j["version"] = state.version;
  j["generated_at"] = common::FormatRfc3339(now);
  j["store"] = {{"backend", store.backend},
                {"healthy", store.healthy},
                {"last_error", store.last_error.empty() ? nlohmann::json(nullptr)
                                                        : nlohmann::json(store.last_error)},
                {"operations_total", store.operations_total},
                {"errors_total", store.errors_total}};
  j["counters_available"] = metrics.room_counters_available;
  nlohmann::json upstreams = nlohmann::json::array();
  for (const UpstreamServerMetrics& u : metrics.upstream_servers) {
    auto text_or_null = [](const std::string& t) {
      return t.empty() ? nlohmann::json(nullptr) : nlohmann::json(t);
    };
    upstreams.push_back({{"server", u.server},
                         {"address", u.address},
                         {"health_checked", u.checked},
                         {"healthy", u.healthy},
                         {"checks_passed", u.checks_passed},
                         {"checks_failed", u.checks_failed},
                         {"last_check", text_or_null(u.last_check)},
                         {"resolve_failures", u.resolve_failures},
                         {"resolve_error", text_or_null(u.resolve_error)}});
  }
  j["upstreams"] = std::move(upstreams);

  nlohmann::json rooms = nlohmann::json::object();
  for (const auto& room : config.rooms) {
    state::EffectiveRoom e = state::EffectiveRoomSettings(room, state);
    nlohmann::json r;
    r["mode"] = SourcedJson(e.mode, [](auto v) { return std::string(state::RoomModeName(v)); });
    r["total_active_users"] = SourcedJson(e.total_active_users, [](auto v) { return v; });
    r["new_users_per_minute"] = SourcedJson(e.new_users_per_minute, [](auto v) { return v; });
    r["session_duration"] =
        SourcedJson(e.session_duration, [](auto v) { return config::FormatDuration(v); });
    r["queueing_method"] = SourcedJson(
        e.queueing_method, [](auto v) { return std::string(state::QueueingMethodName(v)); });
    r["enabled"] = room.enabled;
    r["enforced"] = room.enforced;
    if (auto it = state.rooms.find(room.name); it != state.rooms.end()) {
      r["override"] = {{"set_by", it->second.set_by},
                       {"set_at", common::FormatRfc3339(it->second.set_at)}};
      if (!it->second.mode_incident_id.empty()) {
        r["override"]["mode_incident_id"] = it->second.mode_incident_id;
      }
    } else {
      r["override"] = nullptr;
    }
    r["counters"] = nullptr;  // no fake numbers before the waiting room exists
    r["abuse"] = nullptr;
    if (metrics.room_counters_available) {
      for (const auto& m : metrics.rooms) {
        if (m.name != room.name) continue;
        r["counters"] = {{"queued", m.queued},
                         {"active", m.active},
                         {"admitted_total", m.admitted_total},
                         {"estimated_wait_seconds", m.estimated_wait_seconds}};
        nlohmann::json abuse = nlohmann::json::object();
        for (const auto& [reason, n] : m.abuse) abuse[reason] = n;
        r["abuse"] = std::move(abuse);
      }
    }
    r["events"] = EventsJson(room.events, now);
    const RoomProtectMetrics* protect = nullptr;
    for (const auto& m : metrics.rooms) {
      if (metrics.room_counters_available && m.name == room.name) protect = &m.protect;
    }
    r["protect"] = RoomProtectJson(room, e, protect);
    rooms[room.name] = std::move(r);
  }
  j["rooms"] = std::move(rooms);

  nlohmann::json features = nlohmann::json::object();
  for (const auto& feature : config.features) {
    nlohmann::json f;
    f["enabled"] = feature.enabled;
    f["enforced"] = feature.enforced;
    f["action"] = feature.action == config::FeatureAction::kHide ? "hide" : "maintenance";
    f["on_undecided"] = feature.on_undecided == config::UndecidedPolicy::kPass ? "pass" : "block";
    state::EffectiveMaintenance effective = state::EffectiveMaintenanceOf(feature, state, now);
    f["under_maintenance"] = effective.active;
    auto it = state.maintenance.find(feature.name);
    if (it == state.maintenance.end()) {
      f["maintenance"] = nullptr;
      f["source"] = "config";
    } else {
      nlohmann::json m = ToJson(it->second);
      m["phase"] = state::PhaseName(state::MaintenancePhase(it->second, now));
      f["maintenance"] = std::move(m);
      f["source"] = "runtime";
    }
    f["window"] = ConfigWindowJson(feature, now);
    auto undecided = metrics.maintenance_undecided_by_feature.find(feature.name);
    f["undecided_total"] =
        undecided == metrics.maintenance_undecided_by_feature.end() ? 0 : undecided->second;
    auto shadowed = metrics.maintenance_shadowed_by_feature.find(feature.name);
    f["shadowed_total"] =
        shadowed == metrics.maintenance_shadowed_by_feature.end() ? 0 : shadowed->second;
    auto bypassed = metrics.maintenance_bypassed_by_feature.find(feature.name);
    f["bypassed_total"] =
        bypassed == metrics.maintenance_bypassed_by_feature.end() ? 0 : bypassed->second;
    features[feature.name] = std::move(f);
  }
  j["features"] = std::move(features);

  state::EffectiveBanner b = state::EffectiveBannerSettings(config.banner, state, now);
  // What shoppers read: an incident's banner tells the incident's latest
  // update (and it may be an older, more severe incident than the one that
  // set the banner last: state::IncidentOnBanner).
  const state::Incident* on_banner =
      b.source == state::ValueSource::kRuntime ? state::IncidentOnBanner(state) : nullptr;
  if (on_banner) {
    b.message = on_banner->latest().message;
    b.severity = std::string(state::BannerSeverityFor(on_banner->impact));
    b.next_update_at = on_banner->next_update_at();
  }
  nlohmann::json banner = {
      {"enabled", b.enabled},
      {"message", b.message},
      {"severity", b.severity},
      {"next_update_at", OptionalTime(b.next_update_at)},
      {"expires_at", OptionalTime(b.expires_at)},
      {"source", state::ValueSourceName(b.source)},
      {"incident", on_banner ? nlohmann::json(on_banner->id) : nlohmann::json(nullptr)}};
  if (state.banner) {
    nlohmann::json o = ToJson(*state.banner);
    o["phase"] = state::PhaseName(state::BannerPhase(*state.banner, now));
    banner["override"] = std::move(o);
  } else {
    banner["override"] = nullptr;
  }
  j["banner"] = std::move(banner);

  // Open incidents, most recently started first (GET /v1/incidents has the
  // resolved ones too), and the one every shopper page tells about.
  j["incidents_available"] = true;
  nlohmann::json incidents = nlohmann::json::array();
  for (const state::Incident* incident : state::OpenIncidents(state.incidents)) {
    incidents.push_back(IncidentApiJson(*incident, now));
  }
  j["incidents"] = std::move(incidents);
  const state::Incident* headline = state::HeadlineIncident(state.incidents);
  j["headline_incident"] = headline ? nlohmann::json(headline->id) : nlohmann::json(nullptr);

  nlohmann::json orphaned_features = nlohmann::json::array();
  for (const auto& [name, m] : state.maintenance) {
    bool known = false;
    for (const auto& f : config.features) known |= f.name == name;
    if (!known) orphaned_features.push_back(name);
  }
  nlohmann::json orphaned_rooms = nlohmann::json::array();
  for (const auto& [name, r] : state.rooms) {
    bool known = false;
    for (const auto& room : config.rooms) known |= room.name == name;
    if (!known) orphaned_rooms.push_back(name);
  }
  j["orphaned_overrides"] = {{"features", orphaned_features}, {"rooms", orphaned_rooms}};
  return j;
}

}  // namespace tidegate::admin
