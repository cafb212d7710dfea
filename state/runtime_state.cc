#include "state/runtime_state.h"

#include <type_traits>

namespace tidegate::state {

std::string_view ValueSourceName(ValueSource source) {
  return source == ValueSource::kRuntime ? "runtime" : "config";
}

std::string_view RoomModeName(config::RoomMode mode) {
  switch (mode) {
    case config::RoomMode::kOff:
      return "off";
    case config::RoomMode::kAuto:
      return "auto";
    case config::RoomMode::kQueueAll:
      return "queue_all";
  }
  return "auto";
}

std::optional<config::RoomMode> ParseRoomMode(std::string_view text) {
  if (text == "off") return config::RoomMode::kOff;
  if (text == "auto") return config::RoomMode::kAuto;
  if (text == "queue_all") return config::RoomMode::kQueueAll;
  return std::nullopt;
}

std::string_view QueueingMethodName(config::QueueingMethod method) {
  switch (method) {
    case config::QueueingMethod::kFifo:
      return "fifo";
    case config::QueueingMethod::kRandom:
      return "random";
    case config::QueueingMethod::kPassthrough:
      return "passthrough";
    case config::QueueingMethod::kReject:
      return "reject";
  }
  return "fifo";
}

std::optional<config::QueueingMethod> ParseQueueingMethod(std::string_view text) {
  if (text == "fifo") return config::QueueingMethod::kFifo;
  if (text == "random") return config::QueueingMethod::kRandom;
  if (text == "passthrough") return config::QueueingMethod::kPassthrough;
  if (text == "reject") return config::QueueingMethod::kReject;
  return std::nullopt;
}

bool IsBannerSeverity(std::string_view text) {
  return text == "info" || text == "warning" || text == "critical";
}

Phase MaintenancePhase(const MaintenanceOverride& m, common::TimePoint now) {
  if (m.until && now >= *m.until) return Phase::kExpired;
  if (m.starts_at && now < *m.starts_at) return Phase::kScheduled;
  return Phase::kActive;
}

Phase BannerPhase(const BannerOverride& b, common::TimePoint now) {
  if (b.expires_at && now >= *b.expires_at) return Phase::kExpired;
  return Phase::kActive;
}

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kScheduled:
      return "scheduled";
    case Phase::kActive:
      return "active";
    case Phase::kExpired:
      return "expired";
  }
  return "active";
}

namespace {

template <typename T>
bool ApplyField(const FieldPatch<T>& patch, std::optional<T>* field) {
  using Op = typename FieldPatch<T>::Op;
  if (patch.op == Op::kSet) {
    if (*field && **field == patch.value) return false;
    *field = patch.value;
    return true;
  }
  if (patch.op == Op::kClear) {
    if (!*field) return false;
    field->reset();
    return true;
  }
  return false;
}

bool SameMaintenance(const MaintenanceOverride& a, const MaintenanceOverride& b) {
  return a.reopened == b.reopened && a.message == b.message && a.starts_at == b.starts_at &&
         a.until == b.until && a.incident_id == b.incident_id;
}

bool SameBanner(const BannerOverride& a, const BannerOverride& b) {
  return a.message == b.message && a.severity == b.severity &&
         a.next_update_at == b.next_update_at && a.expires_at == b.expires_at &&
         a.incident_id == b.incident_id;
}

}  // namespace

RuntimeState ApplyChange(const RuntimeState& state, const StateChange& change,
                         const std::string& actor, common::TimePoint now, bool* changed) {
  RuntimeState next = state;
  bool did = std::visit(
      [&](const auto& c) -> bool {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, SetMaintenance>) {
          auto it = next.maintenance.find(c.feature);
          if (it != next.maintenance.end() && SameMaintenance(it->second, c.value)) return false;
          MaintenanceOverride m = c.value;
          m.set_by = actor;
          m.set_at = now;
          next.maintenance[c.feature] = std::move(m);
          return true;
        } else if constexpr (std::is_same_v<C, ClearMaintenance>) {
          return next.maintenance.erase(c.feature) > 0;
        } else if constexpr (std::is_same_v<C, SetBanner>) {
          if (next.banner && SameBanner(*next.banner, c.value)) return false;
          BannerOverride b = c.value;
          b.set_by = actor;
          b.set_at = now;
          next.banner = std::move(b);
          return true;
        } else if constexpr (std::is_same_v<C, ClearBanner>) {
          bool had = next.banner.has_value();
          next.banner.reset();
          return had;
        } else if constexpr (std::is_same_v<C, PatchRoom>) {
          RoomOverride r;
          if (auto it = next.rooms.find(c.room); it != next.rooms.end()) r = it->second;
          bool any = false;
          // An operator setting or clearing a mode an incident set takes it
          // over: the incident's resolve leaves it alone.
          if (c.patch.mode.op != FieldPatch<config::RoomMode>::Op::kKeep &&
              !r.mode_incident_id.empty()) {
            r.mode_incident_id.clear();
            any = true;
          }
          any |= ApplyField(c.patch.mode, &r.mode);
          any |= ApplyField(c.patch.total_active_users, &r.total_active_users);
          any |= ApplyField(c.patch.new_users_per_minute, &r.new_users_per_minute);
          any |= ApplyField(c.patch.session_duration, &r.session_duration);
          any |= ApplyField(c.patch.queueing_method, &r.queueing_method);
          if (!any) return false;
          r.set_by = actor;
          r.set_at = now;
          if (r.empty()) {
            next.rooms.erase(c.room);
          } else {
            next.rooms[c.room] = std::move(r);
          }
          return true;
        } else if constexpr (std::is_same_v<C, ResetRoom>) {
          return next.rooms.erase(c.room) > 0;
        } else if constexpr (std::is_same_v<C, OpenIncident>) {
          return ApplyOpenIncident(&next, c, actor, now);
        } else if constexpr (std::is_same_v<C, UpdateIncident>) {
          return ApplyUpdateIncident(&next, c, actor, now);
        } else {
          static_assert(std::is_same_v<C, ResolveIncident>);
          return ApplyResolveIncident(&next, c, actor, now);
        }
      },
      change);
  *changed = did;
  if (did) ++next.version;
  return next;
}

}  // namespace tidegate::state
