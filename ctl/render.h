// Human-readable tables for `tidegate ctl` (the --json mode prints the
// server's JSON as is). Pure functions over the admin API's JSON documents;
// unknown or missing fields are shown as "-", never a crash.
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

namespace tidegate::ctl {

void RenderState(const nlohmann::json& state, std::ostream& out);
void RenderChange(const nlohmann::json& result, std::ostream& out);
void RenderAudit(const nlohmann::json& audit, std::ostream& out);
// GET /v1/incidents: one line per incident (open first).
void RenderIncidents(const nlohmann::json& list, std::ostream& out);
// One incident with its timeline, newest update first: GET
// /v1/incidents/{id}, or the answer to an open/update/resolve.
void RenderIncident(const nlohmann::json& result, std::ostream& out);

}  // namespace tidegate::ctl
