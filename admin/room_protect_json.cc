#include "admin/room_protect_json.h"

#include <chrono>

#include "common/rfc3339.h"
#include "config/value_parsers.h"

namespace tidegate::admin {
namespace {

nlohmann::json TimeOrNull(int64_t ms) {
  if (ms <= 0) return nullptr;
  return common::FormatRfc3339(common::TimePoint(std::chrono::milliseconds(ms)));
}

std::string DirectionName(int direction) {
  return direction > 0 ? "up" : direction < 0 ? "down" : "hold";
}

}  // namespace

nlohmann::json RoomProtectJson(const config::RoomConfig& room,
                               const state::EffectiveRoom& effective, const RoomProtectMetrics* m) {
  const config::RoomConfig::Protect& p = room.protect;
  nlohmann::json j = {{"enabled", effective.protect.value},
                      {"source", state::ValueSourceName(effective.protect.source)},
                      {"target_latency", config::FormatDuration(p.target_latency)},
                      {"max_error_rate", p.max_error_rate},
                      {"min_new_users_per_minute", p.min_new_users_per_minute}};
  if (m == nullptr || !m->enabled) {
    j["limiting"] = false;
    j["effective"] = nullptr;
    j["measured"] = nullptr;
    j["last_move"] = nullptr;
    j["shared"] = nullptr;
    return j;
  }
  j["limiting"] = m->limiting;
  j["ceilings"] = {{"total_active_users", m->ceiling_total_active_users},
                   {"new_users_per_minute", m->ceiling_new_users_per_minute}};
  j["effective"] = {{"total_active_users", m->effective_total_active_users},
                    {"new_users_per_minute", m->effective_new_users_per_minute}};
  j["measured"] = {{"p90_ms", m->p90_ms}, {"error_rate", m->error_rate}, {"samples", m->samples}};
  if (m->decided_ms > 0) {
    j["last_move"] = {{"move", m->move},
                      {"direction", DirectionName(m->direction)},
                      {"reason", m->reason},
                      {"decided_at", TimeOrNull(m->decided_ms)},
                      {"direction_changed_at", TimeOrNull(m->moved_ms)},
                      {"direction_changed_by", m->last_change}};
  } else {
    j["last_move"] = nullptr;
  }
  if (m->shared) {
    j["shared"] = {{"leader", m->leader},
                   {"leader_id", m->leader_id},
                   {"error", m->shared_error.empty() ? nlohmann::json(nullptr)
                                                     : nlohmann::json(m->shared_error)}};
  } else {
    j["shared"] = nullptr;
  }
  return j;
}

}  // namespace tidegate::admin
