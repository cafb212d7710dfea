#include "admin/request_validation.h"

#include <type_traits>

#include "common/rfc3339.h"
#include "config/value_parsers.h"

namespace tidegate::admin {
namespace {

bool Fail(RequestError* error, std::string field, std::string message) {
  error->status = 422;
  error->error = "validation_failed";
  error->detail = std::move(field) + ": " + message;
  return false;
}

bool CheckKeys(const nlohmann::json& body, std::initializer_list<std::string_view> allowed,
               RequestError* error) {
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (std::string_view a : allowed) known |= key == a;
    if (!known) return Fail(error, key, "unknown field");
  }
  return true;
}

// A required or optional string without control characters.
bool ReadText(const nlohmann::json& body, const char* field, bool required, size_t max_len,
              std::string* out, RequestError* error) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    if (required) return Fail(error, field, "is required");
    return true;
  }
  if (!it->is_string()) return Fail(error, field, "must be a string");
  const std::string& s = it->get_ref<const std::string&>();
  if (required && s.empty()) return Fail(error, field, "must not be empty");
  if (s.size() > max_len) {
    return Fail(error, field, "must be at most " + std::to_string(max_len) + " bytes");
  }
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return Fail(error, field, "must not contain control characters");
  }
  *out = s;
  return true;
}

bool ReadTime(const nlohmann::json& body, const char* field, std::optional<common::TimePoint>* out,
              RequestError* error) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_string()) return Fail(error, field, "must be an RFC 3339 time string");
  auto t = common::ParseRfc3339(it->get_ref<const std::string&>());
  if (!t) {
    return Fail(error, field, "must be an RFC 3339 time such as \"2026-11-23T14:30:00Z\"");
  }
  *out = t;
  return true;
}

bool ReadCount(const nlohmann::json& value, const char* field, uint32_t* out, RequestError* error) {
  if (!value.is_number_integer()) return Fail(error, field, "must be an integer");
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>();
    if (v >= 1 && v <= kMaxRoomUsers) {
      *out = static_cast<uint32_t>(v);
      return true;
    }
  } else {
    int64_t v = value.get<int64_t>();
    if (v >= 1 && v <= kMaxRoomUsers) {
      *out = static_cast<uint32_t>(v);
      return true;
    }
  }
  return Fail(error, field, "must be between 1 and " + std::to_string(kMaxRoomUsers));
}

}  // namespace

std::optional<nlohmann::json> ParseJsonObject(std::string_view body, RequestError* error) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    error->status = 400;
    error->error = "malformed_json";
    error->detail = body.empty() ? "the request body is empty; a JSON object is expected"
                                 : "the request body is not valid JSON (UTF-8)";
    return std::nullopt;
  }
  if (!j.is_object()) {
    Fail(error, "body", "must be a JSON object");
    return std::nullopt;
  }
  return j;
}

std::optional<state::MaintenanceOverride> ValidateMaintenance(const nlohmann::json& body,
                                                              common::TimePoint now,
                                                              RequestError* error) {
  state::MaintenanceOverride m;
  if (!CheckKeys(body, {"message", "until", "starts_at"}, error) ||
      !ReadText(body, "message", true, kMaxMaintenanceMessage, &m.message, error) ||
      !ReadTime(body, "until", &m.until, error) ||
      !ReadTime(body, "starts_at", &m.starts_at, error)) {
    return std::nullopt;
  }
  if (m.until && *m.until <= now) {
    Fail(error, "until", "must be in the future");
    return std::nullopt;
  }
  if (m.until && m.starts_at && *m.starts_at >= *m.until) {
    Fail(error, "starts_at", "must be before until");
    return std::nullopt;
  }
  return m;
}

std::optional<state::BannerOverride> ValidateBanner(const nlohmann::json& body,
                                                    common::TimePoint now, RequestError* error) {
  state::BannerOverride b;
  if (!CheckKeys(body, {"message", "severity", "next_update_at", "expires_at"}, error) ||
      !ReadText(body, "message", true, kMaxBannerMessage, &b.message, error)) {
    return std::nullopt;
  }
  if (auto it = body.find("severity"); it != body.end() && !it->is_null()) {
    if (!it->is_string() || !state::IsBannerSeverity(it->get_ref<const std::string&>())) {
      Fail(error, "severity", "must be one of \"info\", \"warning\", \"critical\"");
      return std::nullopt;
    }
    b.severity = it->get<std::string>();
  }
  if (!ReadTime(body, "next_update_at", &b.next_update_at, error) ||
      !ReadTime(body, "expires_at", &b.expires_at, error)) {
    return std::nullopt;
  }
  if (b.expires_at && *b.expires_at <= now) {
    Fail(error, "expires_at", "must be in the future");
    return std::nullopt;
  }
  return b;
}

std::optional<state::RoomPatch> ValidateRoomPatch(const nlohmann::json& body, RequestError* error) {
  using Mode = state::FieldPatch<config::RoomMode>::Op;
  using MethodOp = state::FieldPatch<config::QueueingMethod>::Op;
  if (!CheckKeys(body,
                 {"mode", "total_active_users", "new_users_per_minute", "session_duration",
                  "queueing_method", "protect"},
                 error)) {
    return std::nullopt;
  }
  if (body.empty()) {
    Fail(error, "body", "names no field to change");
    return std::nullopt;
  }
  state::RoomPatch p;
  auto set_or_clear = [](auto& field, const nlohmann::json& v) {
    using Op = typename std::decay_t<decltype(field)>::Op;
    field.op = v.is_null() ? Op::kClear : Op::kSet;
  };
  for (const auto& [key, v] : body.items()) {
    if (key == "mode") {
      if (v.is_null()) {
        p.mode.op = Mode::kClear;
        continue;
      }
      auto mode =
          v.is_string() ? state::ParseRoomMode(v.get_ref<const std::string&>()) : std::nullopt;
      if (!mode) {
        Fail(error, key, "must be one of \"off\", \"auto\", \"queue_all\" (or null to clear)");
        return std::nullopt;
      }
      p.mode.op = Mode::kSet;
      p.mode.value = *mode;
    } else if (key == "total_active_users" || key == "new_users_per_minute") {
      auto& field = key == "total_active_users" ? p.total_active_users : p.new_users_per_minute;
      set_or_clear(field, v);
      if (!v.is_null() && !ReadCount(v, key.c_str(), &field.value, error)) return std::nullopt;
    } else if (key == "protect") {
      set_or_clear(p.protect, v);
      if (v.is_null()) continue;
      if (!v.is_boolean()) {
        Fail(error, key, "must be true or false (or null to clear)");
        return std::nullopt;
      }
      p.protect.value = v.get<bool>();
    } else if (key == "session_duration") {
      set_or_clear(p.session_duration, v);
      if (v.is_null()) continue;
      if (!v.is_string()) {
        Fail(error, key, "must be a duration string such as \"5m\"");
        return std::nullopt;
      }
      std::string why;
      auto d = config::ParseDuration(v.get_ref<const std::string&>(), &why);
      if (!d) {
        Fail(error, key, why.empty() ? "must be a duration string such as \"5m\"" : why);
        return std::nullopt;
      }
      if (*d < std::chrono::seconds(1) || *d > std::chrono::hours(24)) {
        Fail(error, key, "must be between 1s and 24h");
        return std::nullopt;
      }
      p.session_duration.value = *d;
    } else {  // queueing_method
      if (v.is_null()) {
        p.queueing_method.op = MethodOp::kClear;
        continue;
      }
      auto m = v.is_string() ? state::ParseQueueingMethod(v.get_ref<const std::string&>())
                             : std::nullopt;
      if (!m) {
        Fail(error, key,
             "must be one of \"fifo\", \"random\", \"passthrough\", \"reject\" (or null to clear)");
        return std::nullopt;
      }
      p.queueing_method.op = MethodOp::kSet;
      p.queueing_method.value = *m;
    }
  }
  return p;
}

}  // namespace tidegate::admin
