#include "ctl/render.h"

#include <algorithm>
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

// "auto" or "queue_all (runtime)" for a {"value", "source"} pair.
std::string Sourced(const Json& j) {
  std::string v = Text(At(j, "value"));
  return At(j, "source") == "runtime" ? v + " (runtime)" : v;
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
      rooms.push_back({name, Sourced(At(r, "mode")), Sourced(At(r, "total_active_users")),
                       Sourced(At(r, "new_users_per_minute")), Sourced(At(r, "session_duration")),
                       Sourced(At(r, "queueing_method")), Text(At(c, "queued")),
                       Text(At(c, "active"))});
    }
  }
  if (rooms.size() == 1) {
    out << "  (no rooms configured)\n";
  } else {
    Table(rooms, out);
  }

  out << "\nFEATURES\n";
  std::vector<Row> features = {{"NAME", "STATUS", "UNTIL", "SET_BY", "MESSAGE"}};
  if (At(state, "features").is_object()) {
    for (const auto& [name, f] : At(state, "features").items()) {
      const Json& m = At(f, "maintenance");
      std::string status = m.is_null() ? "on" : "MAINTENANCE (" + Text(At(m, "phase")) + ")";
      features.push_back(
          {name, status, Text(At(m, "until")), Text(At(m, "set_by")), Text(At(m, "message"))});
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
    Table({{"message", Text(At(b, "message"))},
           {"severity", Text(At(b, "severity"))},
           {"next_update_at", Text(At(b, "next_update_at"))},
           {"expires_at", Text(At(b, "expires_at"))},
           {"source", Text(At(b, "source"))}},
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
