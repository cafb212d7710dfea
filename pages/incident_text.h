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
// The words before the time, for pages that mark the time up themselves
// (<time datetime=…>): "Next update at" or "Update is late: it was expected
// at" (and the French).
std::string_view NextUpdateLabel(bool late, Language language);

// "Service status" / "État du service": the link to the status page.
std::string_view StatusLinkLabel(Language language);
// tidegate's own status page, linked when the shop has no
// [site].status_page_url and an incident is open.
inline constexpr std::string_view kBuiltinStatusPath = "/.tidegate/status";
// The link a page shows: `status_page_url` when set; otherwise the built-in
// page while an incident is open; otherwise none ("").
std::string_view StatusLink(std::string_view status_page_url, bool incident_open);

}  // namespace tidegate::pages
