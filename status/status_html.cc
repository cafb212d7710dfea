#include "status/status_html.h"

#include <string>

#include "pages/incident_text.h"
#include "pages/local_time.h"

namespace tidegate::status {
namespace {

using pages::Language;
using pages::TemplateData;

struct Strings {
  const char* title;
  const char* operational;
  const char* maintenance_now;
  const char* degraded;
  const char* partial_outage;
  const char* major_outage;
  const char* open_heading;
  const char* notices_heading;
  const char* components_heading;
  const char* past_heading;
  const char* no_past;  // "{days}" is replaced
  const char* affects;
  const char* updates;
  const char* notice;
  const char* maintenance;
  const char* planned;
  const char* from;
  const char* until;
  const char* next_update;
  const char* updated;
};

constexpr Strings kEnglish = {"Service status",
                              "All systems are working normally.",
                              "Planned maintenance is in progress.",
                              "The shop is working, with a notice below.",
                              "Part of the shop is unavailable right now.",
                              "Most of the shop is unavailable right now.",
                              "Current incidents",
                              "Notices",
                              "Components",
                              "Past incidents",
                              "No incident in the last {days} days.",
                              "Affects:",
                              "Updates",
                              "Notice",
                              "Maintenance",
                              "Planned maintenance",
                              "From",
                              "Expected back at",
                              "Next update at",
                              "Updated at"};
constexpr Strings kFrench = {"État du service",
                             "Tous les services fonctionnent normalement.",
                             "Une maintenance prévue est en cours.",
                             "La boutique fonctionne ; voir l’avis ci-dessous.",
                             "Une partie de la boutique est indisponible en ce moment.",
                             "La plus grande partie de la boutique est indisponible en ce moment.",
                             "Incidents en cours",
                             "Avis",
                             "Composants",
                             "Incidents passés",
                             "Aucun incident ces {days} derniers jours.",
                             "Concerne :",
                             "Mises à jour",
                             "Avis",
                             "Maintenance",
                             "Maintenance prévue",
                             "À partir de",
                             "Retour prévu à",
                             "Prochaine mise à jour à",
                             "Mis à jour à"};

TemplateData Flag(bool value) {
  return TemplateData(value ? TemplateData::type::bool_true : TemplateData::type::bool_false);
}

const char* OverallText(const std::string& status, const Strings& s) {
  if (status == "operational") return s.operational;
  if (status == "maintenance") return s.maintenance_now;
  if (status == "partial_outage") return s.partial_outage;
  if (status == "major_outage") return s.major_outage;
  return s.degraded;
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// The timeline, newest first; each time with its zone.
TemplateData Timeline(const state::Incident& incident, Language language, common::TimePoint now,
                      bool with_date) {
  TemplateData list{TemplateData::type::list};
  for (const state::IncidentUpdate* u : NewestFirst(incident)) {
    TemplateData item;
    item.set("at", with_date ? pages::FormatDateTimeWithZone(u->at, language)
                             : pages::FormatClockOrDateWithZone(u->at, now, language));
    item.set("at_iso", pages::FormatIsoLocal(u->at));
    item.set("update_status", std::string(pages::IncidentStatusLabel(
                                  state::IncidentStatusName(u->status), language)));
    item.set("message", u->message);
    list.push_back(item);
  }
  return list;
}

TemplateData IncidentData(const state::Incident& incident, Language language,
                          common::TimePoint now) {
  std::string_view impact = state::IncidentImpactName(incident.impact);
  TemplateData item;
  item.set("id", incident.id);
  item.set("title", incident.title);
  item.set("impact", std::string(impact));
  item.set("impact_label", std::string(pages::ImpactLabel(impact, language)));
  item.set("incident_status", std::string(pages::IncidentStatusLabel(
                                  state::IncidentStatusName(incident.status), language)));
  if (incident.features.empty()) {
    item.set("affected", false);
  } else {
    item.set("affected", Join(incident.features));
  }
  bool past = !incident.open();
  item.set("started", past ? pages::FormatDateTimeWithZone(incident.started_at, language)
                           : pages::FormatClockOrDateWithZone(incident.started_at, now, language));
  item.set("started_iso", pages::FormatIsoLocal(incident.started_at));
  if (past) {
    item.set("resolved", pages::FormatDateTimeWithZone(*incident.resolved_at, language));
    item.set("resolved_iso", pages::FormatIsoLocal(*incident.resolved_at));
    item.set("closing_message", incident.updates.empty() ? "" : incident.latest().message);
  }
  if (auto next = incident.next_update_at()) {
    item.set("next_update", pages::NextUpdateText(*next, now, language));
    item.set("late", Flag(incident.update_overdue(now)));
  } else {
    item.set("next_update", false);
    item.set("late", false);
  }
  item.set("updates", Timeline(incident, language, now, past));
  return item;
}

TemplateData NoticeData(const Notice& n, const Strings& s, Language language,
                        common::TimePoint now) {
  TemplateData item;
  std::string heading;
  if (n.kind == Notice::Kind::kBanner) {
    heading = s.notice;
  } else {
    heading = std::string(n.phase == state::Phase::kScheduled ? s.planned : s.maintenance) + ": " +
              n.feature;
  }
  item.set("heading", heading);
  item.set("message", n.message);
  item.set("severity", n.severity);
  std::string window;
  if (n.phase == state::Phase::kScheduled && n.starts_at) {
    window =
        std::string(s.from) + " " + pages::FormatClockOrDateWithZone(*n.starts_at, now, language);
  }
  if (n.until && n.kind == Notice::Kind::kMaintenance) {
    if (!window.empty()) window += " · ";
    window +=
        std::string(s.until) + " " + pages::FormatClockOrDateWithZone(*n.until, now, language);
  }
  if (!window.empty()) item.set("window", window);
  if (n.next_update_at)
    item.set("next_update", pages::NextUpdateText(*n.next_update_at, now, language));
  return item;
}

}  // namespace

TemplateData StatusPageData(const config::Config& config, const StatusStory& story,
                            Language language, common::TimePoint now) {
  const Strings& s = language == Language::kFrench ? kFrench : kEnglish;
  TemplateData data;
  data.set("lang", std::string(pages::LanguageCode(language)));
  data.set("title",
           config.site.name.empty() ? std::string(s.title) : config.site.name + " — " + s.title);
  data.set("status", story.overall);
  data.set("status_text", std::string(OverallText(story.overall, s)));
  for (const auto& [key, value] : {std::pair{"open_heading", s.open_heading},
                                   {"notices_heading", s.notices_heading},
                                   {"components_heading", s.components_heading},
                                   {"past_heading", s.past_heading},
                                   {"affects_label", s.affects},
                                   {"updates_label", s.updates}}) {
    data.set(key, std::string(value));
  }
  std::string no_past = s.no_past;
  no_past.replace(no_past.find("{days}"), 6, std::to_string(config.site.status_history_days));
  data.set("no_past", no_past);

  TemplateData open{TemplateData::type::list};
  for (const state::Incident* incident : story.open) {
    open.push_back(IncidentData(*incident, language, now));
  }
  data.set("has_open", Flag(!story.open.empty()));
  data.set("open", open);

  TemplateData notices{TemplateData::type::list};
  for (const Notice& n : story.notices) notices.push_back(NoticeData(n, s, language, now));
  data.set("has_notices", Flag(!story.notices.empty()));
  data.set("notices", notices);
  // The names of the first status page (templates written for it keep working).
  data.set("has_incidents", Flag(!story.notices.empty()));
  data.set("incidents", notices);

  TemplateData components{TemplateData::type::list};
  for (const Component& c : story.components) {
    TemplateData item;
    item.set("name", c.name);
    item.set("component_status", c.status);
    item.set("component_label", std::string(pages::ImpactLabel(c.status, language)));
    components.push_back(item);
  }
  data.set("has_components", Flag(!story.components.empty()));
  data.set("components", components);

  TemplateData past{TemplateData::type::list};
  for (const state::Incident* incident : story.past) {
    past.push_back(IncidentData(*incident, language, now));
  }
  data.set("has_past", Flag(!story.past.empty()));
  data.set("past", past);
  data.set("show_history", Flag(config.site.status_history_days > 0));
  data.set("updated",
           std::string(s.updated) + " " + pages::FormatClockOrDateWithZone(now, now, language));
  return data;
}

}  // namespace tidegate::status
