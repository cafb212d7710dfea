#include "ctl/render.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

namespace tidegate::ctl {
namespace {

using Json = nlohmann::json;
using Row = std::vector<std::string>;

std::string Text(const Json& j) {
  if (j.is_null()) return "-";
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

// j[key] or null, for any j (objects only have keys).
const Json& At(const Json& j, const char* key) {
  static const Json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

// "auto" or "queue_all (runtime)" for a {"value", "source"} pair;
// "queue_all (runtime, incident 20261205-12)" when an incident set it.
std::string Sourced(const Json& j, const Json& incident_id = Json()) {
  std::string v = Text(At(j, "value"));
  if (At(j, "source") != "runtime") return v;
  if (incident_id.is_string()) return v + " (runtime, incident " + Text(incident_id) + ")";
  return v + " (runtime)";
}

// "ops" or "ops (incident 20261205-12)": who set an override, and the
// incident whose tag it carries (docs/incidents.md: resolving the incident
// removes or hands over what still carries its tag).
std::string SetBy(const Json& override_json) {
  std::string by = Text(At(override_json, "set_by"));
  const Json& incident = At(override_json, "incident_id");
  return incident.is_string() ? by + " (incident " + Text(incident) + ")" : by;
}

void Table(const std::vector<Row>& rows, std::ostream& out) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line = "  ";
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

// Rooms with auto-protection on: effective limits against the ceilings,
// what the origin shows, the controller's last move and why.
void RenderProtection(const Json& rooms, std::ostream& out) {
  std::vector<Row> rows = {
      {"NAME", "ACTIVE (EFF/MAX)", "NEW/MIN (EFF/MAX)", "P90", "ERRORS", "MOVE", "DECIDES", "WHY"}};
  if (rooms.is_object()) {
    for (const auto& [name, r] : rooms.items()) {
      const Json& p = At(r, "protect");
      if (At(p, "enabled") != true) continue;
      const Json& e = At(p, "effective");
      const Json& c = At(p, "ceilings");
      const Json& m = At(p, "measured");
      const Json& move = At(p, "last_move");
      const Json& shared = At(p, "shared");
      std::string decides = shared.is_null()               ? "this instance"
                            : At(shared, "leader") == true ? "this instance (leader)"
                                                           : Text(At(shared, "leader_id"));
      std::string errors = "-";
      if (At(m, "error_rate").is_number()) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.1f %%", At(m, "error_rate").get<double>() * 100);
        errors = buf;
      }
      rows.push_back(
          {name, Text(At(e, "total_active_users")) + "/" + Text(At(c, "total_active_users")),
           Text(At(e, "new_users_per_minute")) + "/" + Text(At(c, "new_users_per_minute")),
           At(m, "p90_ms").is_null() ? "-" : Text(At(m, "p90_ms")) + " ms", errors,
           Text(At(move, "move")) + " (" + Text(At(move, "direction")) + ")", decides,
           Text(At(move, "reason"))});
    }
  }
  if (rows.size() == 1) return;
  out << "\nAUTO-PROTECTION\n";
  Table(rows, out);
}

// Rooms' scheduled events ([[rooms.NAME.events]]) not ended yet: during an
// event its mode and limits are the room's, whatever the ROOMS table says.
void RenderEvents(const Json& rooms, std::ostream& out) {
  std::vector<Row> rows = {
      {"ROOM", "EVENT", "PHASE", "PREQUEUE", "START", "END", "MODE", "TOTAL_ACTIVE", "NEW/MIN"}};
  if (rooms.is_object()) {
    for (const auto& [name, r] : rooms.items()) {
      if (!At(r, "events").is_array()) continue;
      for (const Json& e : At(r, "events")) {
        if (At(e, "phase") == "ended") continue;
        std::string phase = Text(At(e, "phase"));
        if (phase != "scheduled") {  // in force now: as the MAINTENANCE of FEATURES
          std::transform(phase.begin(), phase.end(), phase.begin(),
                         [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        }
        rows.push_back({name, Text(At(e, "name")), phase, Text(At(e, "prequeue_start")),
                        Text(At(e, "start")), Text(At(e, "end")), Text(At(e, "mode")),
                        Text(At(e, "total_active_users")), Text(At(e, "new_users_per_minute"))});
      }
    }
  }
  if (rows.size() == 1) return;
  out << "\nEVENTS (not ended; during an event its mode and limits are the room's)\n";
  Table(rows, out);
}

}  // namespace

void RenderState(const Json& state, std::ostream& out) {
  const Json& store = At(state, "store");
  out << "state version " << Text(At(state, "version")) << ", store " << Text(At(store, "backend"))
      << (At(store, "healthy") == true ? " (healthy)"
                                       : " (UNHEALTHY: " + Text(At(store, "last_error")) + ")")
      << "\n\n";

  out << "ROOMS"
      << (At(state, "counters_available") == true ? "" : "  (live counters not available yet)")
      << "\n";
  std::vector<Row> rooms = {
      {"NAME", "MODE", "TOTAL_ACTIVE", "NEW/MIN", "SESSION", "METHOD", "QUEUED", "ACTIVE"}};
  if (At(state, "rooms").is_object()) {
    for (const auto& [name, r] : At(state, "rooms").items()) {
      const Json& c = At(r, "counters");
      const Json& mode_incident = At(At(r, "override"), "mode_incident_id");
      rooms.push_back({name, Sourced(At(r, "mode"), mode_incident),
                       Sourced(At(r, "total_active_users")), Sourced(At(r, "new_users_per_minute")),
                       Sourced(At(r, "session_duration")), Sourced(At(r, "queueing_method")),
                       Text(At(c, "queued")), Text(At(c, "active"))});
    }
  }
  if (rooms.size() == 1) {
    out << "  (no rooms configured)\n";
  } else {
    Table(rooms, out);
  }
  RenderProtection(At(state, "rooms"), out);
  RenderEvents(At(state, "rooms"), out);

  out << "\nFEATURES\n";
  std::vector<Row> features = {{"NAME", "STATUS", "UNTIL", "SET_BY", "MESSAGE"}};
  if (At(state, "features").is_object()) {
    for (const auto& [name, f] : At(state, "features").items()) {
      const Json& m = At(f, "maintenance");
      std::string status = m.is_null() ? "on" : "MAINTENANCE (" + Text(At(m, "phase")) + ")";
      features.push_back({name, status, Text(At(m, "until")), m.is_null() ? "-" : SetBy(m),
                          Text(At(m, "message"))});
    }
  }
  if (features.size() == 1) {
    out << "  (no features configured)\n";
  } else {
    Table(features, out);
  }

  const Json& b = At(state, "banner");
  out << "\nBANNER\n";
  if (At(b, "enabled") == true) {
    // The incident it tells, and the one whose tag the override carries
    // when that is another (an older, more severe one is told).
    std::string incident = Text(At(b, "incident"));
    const Json& tag = At(At(b, "override"), "incident_id");
    if (tag.is_string() && tag != At(b, "incident")) {
      incident += " (override set by incident " + Text(tag) + ")";
    }
    Table({{"message", Text(At(b, "message"))},
           {"severity", Text(At(b, "severity"))},
           {"next_update_at", Text(At(b, "next_update_at"))},
           {"expires_at", Text(At(b, "expires_at"))},
           {"source", Text(At(b, "source"))},
           {"incident", incident}},
          out);
  } else {
    out << "  (none shown)\n";
  }
  out << "\nINCIDENTS (open)\n";
  if (At(state, "incidents").is_array() && !At(state, "incidents").empty()) {
    RenderIncidents(state, out);
  } else {
    out << "  (none)\n";
  }
  const Json& orphans = At(state, "orphaned_overrides");
  if (!At(orphans, "features").empty() || !At(orphans, "rooms").empty()) {
    out << "\nORPHANED OVERRIDES (name no longer in the configuration)\n  features: "
        << Text(At(orphans, "features")) << "\n  rooms: " << Text(At(orphans, "rooms")) << "\n";
  }
}

void RenderChange(const Json& result, std::ostream& out) {
  if (At(result, "applied") == true) {
    out << "applied (state version " << Text(At(result, "version")) << ")\n";
    out << "  before: " << Text(At(result, "before")) << "\n";
    out << "  after:  " << Text(At(result, "after")) << "\n";
  } else {
    out << "nothing to change (state version " << Text(At(result, "version")) << ")\n";
    out << "  current: " << Text(At(result, "current")) << "\n";
  }
}

void RenderAudit(const Json& audit, std::ostream& out) {
  // "shared": every instance's changes from the shared store (what changed
  // and on what); "local": this instance's log (who called which route).
  bool shared = At(audit, "source") == "shared";
  std::vector<Row> rows;
  if (shared) {
    rows.push_back({"TIME", "TOKEN", "CHANGE", "TARGET", "AFTER"});
  } else {
    rows.push_back({"TIME", "TOKEN", "CLIENT", "METHOD", "ROUTE", "AFTER"});
  }
  const Json& records = At(audit, "records");
  if (records.is_array()) {
    for (const auto& r : records) {
      if (shared) {
        rows.push_back({Text(At(r, "time")), Text(At(r, "token")), Text(At(r, "change")),
                        Text(At(r, "target")), Text(At(r, "after"))});
      } else {
        rows.push_back({Text(At(r, "time")), Text(At(r, "token")), Text(At(r, "client")),
                        Text(At(r, "method")), Text(At(r, "route")), Text(At(r, "after"))});
      }
    }
  }
  if (At(audit, "warning").is_string()) out << "warning: " << Text(At(audit, "warning")) << "\n";
  if (rows.size() == 1) {
    out << "(no changes recorded)\n";
    return;
  }
  Table(rows, out);
}

namespace {

// "14:30:00Z (LATE)" when the promised update is overdue.
std::string NextUpdate(const Json& incident) {
  std::string next = Text(At(incident, "next_update_at"));
  if (At(incident, "update_overdue") == true) next += " (LATE)";
  return next;
}

}  // namespace

void RenderIncidents(const Json& list, std::ostream& out) {
  std::vector<Row> rows = {{"ID", "STATUS", "IMPACT", "STARTED", "NEXT_UPDATE", "TITLE"}};
  const Json& incidents = At(list, "incidents");
  if (incidents.is_array()) {
    for (const auto& i : incidents) {
      rows.push_back({Text(At(i, "id")), Text(At(i, "status")), Text(At(i, "impact")),
                      Text(At(i, "started_at")), NextUpdate(i), Text(At(i, "title"))});
    }
  }
  if (rows.size() == 1) {
    out << "(no open or recent incidents)\n";
    return;
  }
  Table(rows, out);
}

void RenderIncident(const Json& result, std::ostream& out) {
  const Json& i = At(result, "incident");
  if (At(result, "applied") == true) {
    out << "incident " << Text(At(i, "id")) << " " << Text(At(i, "status")) << " (state version "
        << Text(At(result, "version")) << ")\n";
  }
  out << Text(At(i, "id")) << "  " << Text(At(i, "title")) << "\n";
  Table({{"impact", Text(At(i, "impact"))},
         {"status", Text(At(i, "status"))},
         {"features", Text(At(i, "features"))},
         {"started_at", Text(At(i, "started_at"))},
         {"resolved_at", Text(At(i, "resolved_at"))},
         {"next_update_at", NextUpdate(i)},
         {"applied", Text(At(i, "applied"))}},
        out);
  const Json& kept = At(result, "maintenance_left_as_it_was");
  if (kept.is_array() && !kept.empty()) {
    out << "  maintenance already set by someone else, left as it was: " << Text(kept) << "\n";
  }
  out << "timeline (newest first):\n";
  std::vector<Row> rows;
  const Json& updates = At(i, "updates");
  if (updates.is_array()) {
    for (auto it = updates.rbegin(); it != updates.rend(); ++it) {
      rows.push_back({Text(At(*it, "at")), Text(At(*it, "status")), Text(At(*it, "by")),
                      Text(At(*it, "message"))});
    }
  }
  Table(rows, out);
}

}  // namespace tidegate::ctl
