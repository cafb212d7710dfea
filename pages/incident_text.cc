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

std::string NextUpdateText(WallTime next, WallTime now, Language language) {
  bool french = language == Language::kFrench;
  std::string when = FormatClockOrDateWithZone(next, now, language);
  if (UpdateLate(next, now)) {
    return (french ? "La mise à jour est en retard : elle était attendue à "
                   : "Update is late: it was expected at ") +
           when;
  }
  return (french ? "Prochaine mise à jour à " : "Next update at ") + when;
}

std::string_view StatusLinkLabel(Language language) {
  return language == Language::kFrench ? "État du service" : "Service status";
}

}  // namespace tidegate::pages
