// The notices of the status page: the banner in force, and features under
// maintenance — active or announced — whether an operator switched them
// (run-time overrides) or the configuration plans them (a feature's
// `[features.NAME.maintenance]` window), listed beside the incidents
// (state/incident.h). An override an open incident set (tagged with its id)
// is part of that incident's story and is not listed again as a notice. A
// configured window is listed as the gate applies it: not for a disabled
// feature, and not while an operator's override is in force for the feature
// (that override is listed instead, or, `reopened`, keeps it open).
//
// Contract: pure functions (thread-safe, no I/O).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "state/runtime_state.h"

namespace tidegate::status {

struct Notice {
  enum class Kind { kBanner, kMaintenance };
  Kind kind = Kind::kBanner;
  std::string id;       // stable while the notice lasts: "banner", "maintenance-checkout"
  std::string feature;  // maintenance only
  std::string message;
  std::string severity;  // banner: info | warning | critical; maintenance: "maintenance"
  state::Phase phase = state::Phase::kActive;  // maintenance may be kScheduled
  std::optional<common::TimePoint> since;      // when it was set (run-time state; none for a
                                               // configured window)
  std::optional<common::TimePoint> starts_at;  // maintenance
  std::optional<common::TimePoint> until;      // maintenance end / banner expiry
  std::optional<common::TimePoint> next_update_at;
};

// Active banner first, then maintenance by feature name (active before
// scheduled). Expired entries, and overrides of an open incident, are left
// out.
std::vector<Notice> CurrentNotices(const config::Config& config, const state::RuntimeState& state,
                                   common::TimePoint now);

}  // namespace tidegate::status
