// The JSON document of GET /v1/state (docs/admin-api.md): configuration
// merged with run-time overrides (state/effective_view.h), each value tagged
// with its source, plus store health, live room counters and orphaned
// overrides.
//
// Contract: pure function (thread-safe, no I/O).
#pragma once

#include <nlohmann/json.hpp>

#include "admin/metrics.h"
#include "admin/state_store.h"
#include "common/time_source.h"
#include "config/config.h"
#include "state/runtime_state.h"

namespace tidegate::admin {

nlohmann::json EffectiveStateJson(const config::Config& config, const state::RuntimeState& state,
                                  const MetricsSnapshot& metrics, const StoreHealth& store,
                                  common::TimePoint now);

}  // namespace tidegate::admin
