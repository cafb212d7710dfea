// The words every shopper-facing page uses to tell an incident's story
// (status page, banner, maintenance page, queue page), in English and
// French, so that each page says the same thing the same way.
//
// pages/ sits below state/ (architecture.md), so impacts and statuses come
// in as their names ("partial_outage", "monitoring": state/incident.h's
// IncidentImpactName / IncidentStatusName); an unknown name is shown as is.
//
// Contract: pure functions, thread-safe. Times are shown in the shop's zone
// with its abbreviation (pages/local_time.h).
#pragma once

#include <string>
#include <string_view>

#include "pages/language.h"
#include "pages/local_time.h"

namespace tidegate::pages {

// "Partial outage" / "Panne partielle"; "operational" → "Operational".
std::string_view ImpactLabel(std::string_view impact, Language language);
// "Investigating" / "Analyse en cours", …, "Resolved" / "Résolu".
std::string_view IncidentStatusLabel(std::string_view status, Language language);

// The promise of the next update, kept or late:
// "Next update at 14:30 CET" while `next` is ahead of `now`;
// "Update is late: it was expected at 14:30 CET" once it passed (the page
// must say so rather than keep showing a broken promise).
std::string NextUpdateText(WallTime next, WallTime now, Language language);
bool UpdateLate(WallTime next, WallTime now);

// "Service status" / "État du service": the link to the status page.
std::string_view StatusLinkLabel(Language language);
// [site].status_page_url, or tidegate's own page when the shop has none.
inline constexpr std::string_view kBuiltinStatusPath = "/.tidegate/status";

}  // namespace tidegate::pages
