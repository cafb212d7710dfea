// The requests of `tidegate ctl incident …` (docs/incidents.md): which
// route and which JSON body each command sends, from its words and options.
// Kept apart from ctl.cc so the mapping from flags to API fields is one
// small pure function with its own tests.
//
//   incident open --title T --message M --impact I [--features F1,F2]
//                 [--maintenance all|none|F1,F2] [--banner] [--next-update TIME]
//                 [--room ROOM=MODE] [--status S]          → POST /v1/incidents
//   incident update ID --message M [--status S] [--next-update TIME]
//                                                          → POST /v1/incidents/ID/updates
//   incident resolve ID --message M                        → POST /v1/incidents/ID/resolve
//   incident list                                          → GET /v1/incidents
//   incident show ID                                       → GET /v1/incidents/ID
// TIME is passed through (the API takes a delay such as "30m" or an RFC 3339
// time); a leading '+' ("+30m") is dropped.
//
// Contract: pure function, thread-safe, no I/O.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tidegate::ctl {

struct IncidentRequest {
  std::string method;               // "GET" | "POST"
  std::string path;                 // "/v1/incidents/…"
  std::optional<std::string> body;  // JSON, for POST
  bool single = false;              // the answer is one incident (else a list)
};

// `words` start with "incident". nullopt and *usage_error ("incident open
// needs --title") when the command is incomplete or malformed.
std::optional<IncidentRequest> BuildIncidentRequest(
    const std::vector<std::string>& words, const std::map<std::string, std::string>& options,
    const std::set<std::string>& flags, std::string* usage_error);

}  // namespace tidegate::ctl
