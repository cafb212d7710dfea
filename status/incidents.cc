#include "status/incidents.h"

#include "common/rfc3339.h"
#include "pages/html_escape.h"
#include "state/effective_view.h"

namespace tidegate::status {
namespace {

std::string Title(const Incident& incident) {
  if (incident.kind == Incident::Kind::kBanner) return "Notice: " + incident.message;
  std::string when =
      incident.phase == state::Phase::kScheduled ? "Planned maintenance: " : "Maintenance: ";
  return when + incident.feature;
}

}  // namespace

std::vector<Incident> CurrentIncidents(const config::Config& config,
                                       const state::RuntimeState& state, common::TimePoint now) {
  std::vector<Incident> out;
  state::EffectiveBanner banner = state::EffectiveBannerSettings(config.banner, state, now);
  if (banner.enabled) {
    Incident i;
    i.kind = Incident::Kind::kBanner;
    i.id = "banner";
    i.message = banner.message;
    i.severity = banner.severity;
    i.until = banner.expires_at;
    i.next_update_at = banner.next_update_at;
    if (banner.source == state::ValueSource::kRuntime && state.banner) {
      i.since = state.banner->set_at;
    }
    out.push_back(std::move(i));
  }
  std::vector<Incident> scheduled;
  for (const auto& [feature, m] : state.maintenance) {
    if (m.reopened) continue;  // an operator ended a configured window: nothing to report
    state::Phase phase = state::MaintenancePhase(m, now);
    if (phase == state::Phase::kExpired) continue;
    Incident i;
    i.kind = Incident::Kind::kMaintenance;
    i.id = "maintenance-" + feature;
    i.feature = feature;
    i.message = m.message;
    i.severity = "maintenance";
    i.phase = phase;
    i.since = m.set_at;
    i.starts_at = m.starts_at;
    i.until = m.until;
    (phase == state::Phase::kActive ? out : scheduled).push_back(std::move(i));
  }
  for (Incident& i : scheduled) out.push_back(std::move(i));
  return out;
}

std::string OverallStatus(const std::vector<Incident>& incidents) {
  std::string status = "operational";
  for (const Incident& i : incidents) {
    if (i.kind == Incident::Kind::kMaintenance && i.phase == state::Phase::kActive) {
      return "partial_outage";
    }
    status = "degraded";
  }
  return status;
}

nlohmann::json StatusJson(const config::Config& config, const std::vector<Incident>& incidents,
                          common::TimePoint now) {
  nlohmann::json list = nlohmann::json::array();
  for (const Incident& i : incidents) {
    nlohmann::json item = {{"id", i.id},
                           {"kind", i.kind == Incident::Kind::kBanner ? "notice" : "maintenance"},
                           {"message", i.message},
                           {"severity", i.severity},
                           {"phase", state::PhaseName(i.phase)}};
    if (!i.feature.empty()) item["feature"] = i.feature;
    if (i.since) item["since"] = common::FormatRfc3339(*i.since);
    if (i.starts_at) item["starts_at"] = common::FormatRfc3339(*i.starts_at);
    if (i.until) item["until"] = common::FormatRfc3339(*i.until);
    if (i.next_update_at) item["next_update_at"] = common::FormatRfc3339(*i.next_update_at);
    list.push_back(std::move(item));
  }
  nlohmann::json body = {{"status", OverallStatus(incidents)},
                         {"updated_at", common::FormatRfc3339(now)},
                         {"incidents", std::move(list)}};
  if (!config.site.name.empty()) body["site"] = config.site.name;
  return body;
}

std::string StatusAtom(const config::Config& config, const std::vector<Incident>& incidents,
                       common::TimePoint now, const std::string& base_url) {
  std::string name = config.site.name.empty() ? "Shop" : config.site.name;
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
  out += "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n";
  out += "  <title>" + pages::EscapeHtml(name) + " status</title>\n";
  out += "  <id>" + pages::EscapeHtml(base_url) + "/.tidegate/status</id>\n";
  out += "  <link rel=\"alternate\" type=\"text/html\" href=\"" + pages::EscapeHtml(base_url) +
         "/.tidegate/status\"/>\n";
  out +=
      "  <link rel=\"self\" href=\"" + pages::EscapeHtml(base_url) + "/.tidegate/status.atom\"/>\n";
  out += "  <updated>" + common::FormatRfc3339(now) + "</updated>\n";
  out += "  <author><name>" + pages::EscapeHtml(name) + "</name></author>\n";
  for (const Incident& i : incidents) {
    common::TimePoint updated = i.since.value_or(now);
    out += "  <entry>\n";
    out +=
        "    <id>" + pages::EscapeHtml(base_url) + "/.tidegate/status#" + pages::EscapeHtml(i.id) +
        "-" +
        std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(updated.time_since_epoch()).count()) +
        "</id>\n";
    out += "    <title>" + pages::EscapeHtml(Title(i)) + "</title>\n";
    out += "    <updated>" + common::FormatRfc3339(updated) + "</updated>\n";
    std::string summary = i.message;
    if (i.starts_at && i.phase == state::Phase::kScheduled) {
      summary += " (from " + common::FormatRfc3339(*i.starts_at) + ")";
    }
    if (i.until) summary += " (until " + common::FormatRfc3339(*i.until) + ")";
    out += "    <summary>" + pages::EscapeHtml(summary) + "</summary>\n";
    out += "  </entry>\n";
  }
  out += "</feed>\n";
  return out;
}

}  // namespace tidegate::status
