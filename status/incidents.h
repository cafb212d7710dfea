// What the public status page reports: the incidents in force, derived from
// the configuration and the operators' run-time state (banner, features
// under maintenance — active or announced).
//
// Contract: pure functions (thread-safe, no I/O).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "state/runtime_state.h"

namespace tidegate::status {

struct Incident {
  enum class Kind { kBanner, kMaintenance };
  Kind kind = Kind::kBanner;
  std::string id;       // stable while the incident lasts: "banner", "maintenance-checkout"
  std::string feature;  // maintenance only
  std::string message;
  std::string severity;  // banner: info | warning | critical; maintenance: "maintenance"
  state::Phase phase = state::Phase::kActive;  // maintenance may be kScheduled
  std::optional<common::TimePoint> since;      // when it was set (run-time state)
  std::optional<common::TimePoint> starts_at;  // maintenance
  std::optional<common::TimePoint> until;      // maintenance end / banner expiry
  std::optional<common::TimePoint> next_update_at;
};

// Active banner first, then maintenance by feature name (active before
// scheduled). Expired entries are left out.
std::vector<Incident> CurrentIncidents(const config::Config& config,
                                       const state::RuntimeState& state, common::TimePoint now);

// "operational" (no incident), "degraded" (a banner or an announced window
// only), "partial_outage" (a feature under maintenance now).
std::string OverallStatus(const std::vector<Incident>& incidents);

// GET /.tidegate/status.json.
nlohmann::json StatusJson(const config::Config& config, const std::vector<Incident>& incidents,
                          common::TimePoint now);

// GET /.tidegate/status.atom: one entry per incident (RFC 4287); `base_url`
// is "http(s)://host" of the request, for the feed's links.
std::string StatusAtom(const config::Config& config, const std::vector<Incident>& incidents,
                       common::TimePoint now, const std::string& base_url);

}  // namespace tidegate::status
