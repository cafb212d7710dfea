// The machine-readable renderings of a StatusStory (status/status_story.h):
// GET /.tidegate/status.json for monitors and apps, and
// GET /.tidegate/status.atom (RFC 4287) for feed readers, with one entry
// per incident update so that a reader shows each update as it is posted.
// Formats are documented in docs/status-page.md.
//
// Contract: pure functions (thread-safe, no I/O). Times are RFC 3339 UTC
// in JSON and Atom; operators' names (IncidentUpdate::by) are never shown.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "pages/language.h"
#include "status/status_story.h"

namespace tidegate::status {

// {"status", "updated_at", "site"?, "incidents": [open incidents (kind
// "incident"), then notices (kind "notice" | "maintenance")], "components",
// "past_incidents"}.
nlohmann::json StatusJson(const config::Config& config, const StatusStory& story,
                          common::TimePoint now);

// `base_url` is "http(s)://host" of the request, for the feed's links;
// `language` names statuses in entry titles ([site].default_language).
std::string StatusAtom(const config::Config& config, const StatusStory& story,
                       common::TimePoint now, const std::string& base_url,
                       pages::Language language);

}  // namespace tidegate::status
