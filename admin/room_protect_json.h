// The `protect` object of a room in GET /v1/state (docs/admin-api.md,
// docs/waiting-room.md "Auto-protection"): whether protection is on and
// where that comes from, its settings, the ceilings and the effective
// limits, what this instance measured, the controller's last move and why,
// and, with Redis, which instance decides.
//
// Contract: a pure function (thread-safe, no I/O). `measured` is null
// before the waiting room reports counters: then only the configuration
// and the switch are shown (no invented numbers).
#pragma once

#include <nlohmann/json.hpp>

#include "admin/metrics.h"
#include "config/config.h"
#include "state/effective_view.h"

namespace tidegate::admin {

nlohmann::json RoomProtectJson(const config::RoomConfig& room,
                               const state::EffectiveRoom& effective,
                               const RoomProtectMetrics* measured);

}  // namespace tidegate::admin
