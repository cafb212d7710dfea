#include "pages/incident_text.h"

namespace tidegate::pages {
namespace {

struct Label {
  std::string_view name;
  std::string_view english;
  std::string_view french;
};

constexpr Label kImpacts[] = {
    {"operational", "Operational", "Opérationnel"},
    {"degraded", "Degraded performance", "Performances dégradées"},
    {"partial_outage", "Partial outage", "Panne partielle"},
    {"major_outage", "Major outage", "Panne majeure"},
    {"maintenance", "Under maintenance", "En maintenance"},
};

constexpr Label kStatuses[] = {
    {"investigating", "Investigating", "Analyse en cours"},
    {"identified", "Identified", "Cause identifiée"},
    {"monitoring", "Monitoring", "Sous surveillance"},
    {"resolved", "Resolved", "Résolu"},
};

template <size_t N>
std::string_view Find(const Label (&labels)[N], std::string_view name, Language language) {
  for (const Label& label : labels) {
    if (label.name == name) return language == Language::kFrench ? label.french : label.english;
  }
  return name;
}

}  // namespace

std::string_view ImpactLabel(std::string_view impact, Language language) {
  return Find(kImpacts, impact, language);
}

std::string_view IncidentStatusLabel(std::string_view status, Language language) {
  return Find(kStatuses, status, language);
}

bool UpdateLate(WallTime next, WallTime now) { return now > next; }

std::string_view NextUpdateLabel(bool late, Language language) {
  bool french = language == Language::kFrench;
  if (late) {
    return french ? "La mise à jour est en retard : elle était attendue à"
                  : "Update is late: it was expected at";
  }
  return french ? "Prochaine mise à jour à" : "Next update at";
}

std::string NextUpdateText(WallTime next, WallTime now, Language language) {
  return std::string(NextUpdateLabel(UpdateLate(next, now), language)) + " " +
         FormatClockOrDateWithZone(next, now, language);
}

std::string_view StatusLink(std::string_view status_page_url, bool incident_open) {
  if (!status_page_url.empty()) return status_page_url;
  return incident_open ? kBuiltinStatusPath : std::string_view();
}

std::string_view StatusLinkLabel(Language language) {
  return language == Language::kFrench ? "État du service" : "Service status";
}

}  // namespace tidegate::pages
