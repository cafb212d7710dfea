#include "admin/request_validation.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/rfc3339.h"
#include "config/value_parsers.h"

namespace tidegate::admin {

std::optional<uint64_t> ParseIfMatch(const std::optional<std::string>& header, bool* bad) {
  *bad = false;
  if (!header) return std::nullopt;
  std::string_view v = *header;
  if (v.substr(0, 2) == "W/") v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  uint64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) {
    *bad = true;
    return std::nullopt;
  }
  return out;
}

namespace {

bool Fail(RequestError* error, std::string field, std::string message) {
  error->status = 422;
  error->error = "validation_failed";
  error->detail = std::move(field) + ": " + message;
  return false;
}

// The one check for a time a body promises or schedules ("until",
// "expires_at", the banner's "next_update_at", an incident's "next_update"):
// true when `t` is absent or after `now`, else 422 "FIELD: must be in the
// future".
bool RequireFuture(const std::optional<common::TimePoint>& t, common::TimePoint now,
                   std::string field, RequestError* error) {
  if (t && *t <= now) return Fail(error, std::move(field), "must be in the future");
  return true;
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

// Control characters of shopper-facing text (the JSON parser has already
// refused invalid UTF-8): C0 and DEL; C1 (U+0080-U+009F, UTF-8 C2 80-9F);
// the line and paragraph separators U+2028/U+2029 (E2 80 A8/A9) and the
// bidirectional embeddings, overrides and isolates U+202A-U+202E and
// U+2066-U+2069, which can reorder what a shopper reads around them.
bool HasControlCharacter(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return true;
    unsigned char c1 = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    unsigned char c2 = i + 2 < s.size() ? static_cast<unsigned char>(s[i + 2]) : 0;
    if (c == 0xc2 && c1 >= 0x80 && c1 <= 0x9f) return true;
    if (c == 0xe2 && c1 == 0x80 && c2 >= 0xa8 && c2 <= 0xae) return true;
    if (c == 0xe2 && c1 == 0x81 && c2 >= 0xa6 && c2 <= 0xa9) return true;
  }
  return false;
}

// True when `s` has nothing but spaces a shopper cannot read: ASCII space,
// no-break space (U+00A0, C2 A0), U+2000-U+200B (E2 80 80-8B), U+202F,
// U+205F, the ideographic space U+3000 and U+FEFF (the control characters
// are refused separately).
bool IsBlank(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto at = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0; };
    if (at(0) == ' ') {
      i += 1;
    } else if (at(0) == 0xc2 && at(1) == 0xa0) {
      i += 2;
    } else if ((at(0) == 0xe2 && at(1) == 0x80 &&
                ((at(2) >= 0x80 && at(2) <= 0x8b) || at(2) == 0xaf)) ||
               (at(0) == 0xe2 && at(1) == 0x81 && at(2) == 0x9f) ||
               (at(0) == 0xe3 && at(1) == 0x80 && at(2) == 0x80) ||
               (at(0) == 0xef && at(1) == 0xbb && at(2) == 0xbf)) {
      i += 3;
    } else {
      return false;
    }
  }
  return true;
}

// A required or optional string without control characters; a required one
// must also say something (shoppers would read an empty banner or title).
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
  if (required && IsBlank(s)) return Fail(error, field, "must not be only spaces");
  if (s.size() > max_len) {
    return Fail(error, field, "must be at most " + std::to_string(max_len) + " bytes");
  }
  if (HasControlCharacter(s)) return Fail(error, field, "must not contain control characters");
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

// True when `body` fails to parse only because a number overflows a double
// (nlohmann reports it as out_of_range 406). Only asked on a refused body (text broken after such a
// number is reported as the number).
bool NumberOutOfRange(std::string_view body) {
  try {
    (void)nlohmann::json::parse(body);
  } catch (const nlohmann::json::out_of_range&) {
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  return false;
}

}  // namespace

std::optional<nlohmann::json> ParseJsonObject(std::string_view body, RequestError* error) {
  // A name twice in one object is ambiguous (RFC 8259 §4: receivers differ
  // on which one wins): refused like malformed JSON, never "the last wins".
  std::vector<std::vector<std::string>> names;  // per open object
  std::string duplicate;
  auto find_duplicates = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) {
      names.emplace_back();
    } else if (event == Event::object_end) {
      if (!names.empty()) names.pop_back();
    } else if (event == Event::key && !names.empty() && parsed.is_string()) {
      const std::string& name = parsed.get_ref<const std::string&>();
      std::vector<std::string>& seen = names.back();
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
        if (duplicate.empty()) duplicate = name;
      } else {
        seen.push_back(name);
      }
    }
    return true;
  };
  nlohmann::json j = nlohmann::json::parse(body, find_duplicates, /*allow_exceptions=*/false);
  if (j.is_discarded() && NumberOutOfRange(body)) {
    // Valid JSON text (RFC 8259's grammar has no limit) with a number no
    // double holds, such as 1e400: a value out of range, not malformed.
    Fail(error, "body", "has a number out of range (larger than a double holds)");
    return std::nullopt;
  }
  if (j.is_discarded() || !duplicate.empty()) {
    error->status = 400;
    error->error = "malformed_json";
    error->detail = body.empty() ? "the request body is empty; a JSON object is expected"
                    : !j.is_discarded()
                        ? "the request body names \"" + duplicate + "\" twice in one object"
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
  if (!RequireFuture(m.until, now, "until", error)) return std::nullopt;
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
  if (!RequireFuture(b.next_update_at, now, "next_update_at", error) ||
      !RequireFuture(b.expires_at, now, "expires_at", error)) {
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

namespace tidegate::admin {
namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none configured" : out;
}

bool Known(const std::vector<std::string>& names, const std::string& name) {
  for (const std::string& n : names) {
    if (n == name) return true;
  }
  return false;
}

// "next_update": a delay from now (1m..7d) or an RFC 3339 time in the future.
bool ReadNextUpdate(const nlohmann::json& body, common::TimePoint now,
                    std::optional<common::TimePoint>* out, RequestError* error) {
  auto it = body.find("next_update");
  if (it == body.end() || it->is_null()) return true;
  const char* kHow = "must be a delay such as \"30m\" or an RFC 3339 time in the future";
  if (!it->is_string()) return Fail(error, "next_update", kHow);
  const std::string& text = it->get_ref<const std::string&>();
  if (auto t = common::ParseRfc3339(text)) {
    if (!RequireFuture(t, now, "next_update", error)) return false;
    *out = t;
    return true;
  }
  std::string why;
  auto delay = config::ParseDelay(text, &why);
  if (!delay) return Fail(error, "next_update", kHow);
  if (*delay < std::chrono::minutes(1) || *delay > std::chrono::hours(24 * 7)) {
    return Fail(error, "next_update", "must be between 1m and 7d from now");
  }
  *out = now + *delay;
  return true;
}

// "status" of an opening or an update: any open status ("resolved" has its
// own route).
bool ReadOpenStatus(const nlohmann::json& body, std::optional<state::IncidentStatus>* out,
                    RequestError* error) {
  auto it = body.find("status");
  if (it == body.end() || it->is_null()) return true;
  auto status = it->is_string() ? state::ParseIncidentStatus(it->get_ref<const std::string&>())
                                : std::nullopt;
  if (status == state::IncidentStatus::kResolved) {
    return Fail(error, "status",
                "\"resolved\" is not an update: POST /v1/incidents/{id}/resolve with the "
                "closing message");
  }
  if (!status) {
    return Fail(error, "status",
                "must be one of \"investigating\", \"identified\", \"monitoring\"");
  }
  *out = status;
  return true;
}

bool ReadFeatures(const nlohmann::json& body, const std::vector<std::string>& known,
                  std::vector<std::string>* out, RequestError* error) {
  auto it = body.find("features");
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_array()) return Fail(error, "features", "must be an array of feature names");
  if (it->size() > kMaxIncidentFeatures) {
    return Fail(error, "features", "at most " + std::to_string(kMaxIncidentFeatures));
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& v = (*it)[i];
    std::string field = "features[" + std::to_string(i) + "]";
    if (!v.is_string()) return Fail(error, field, "must be a feature name");
    const std::string& name = v.get_ref<const std::string&>();
    if (!Known(known, name)) {
      return Fail(
          error, field,
          "no feature '" + name + "' in the configuration (known: " + JoinNames(known) + ")");
    }
    if (!Known(*out, name)) out->push_back(name);
  }
  return true;
}

// "maintenance": true (every listed feature), false (none), or a list
// among the listed features; absent: every listed feature unless degraded.
bool ReadMaintenanceChoice(const nlohmann::json& body, state::OpenIncident* incident,
                           RequestError* error) {
  auto it = body.find("maintenance");
  if (it == body.end() || it->is_null()) {
    if (incident->impact != state::IncidentImpact::kDegraded) {
      incident->maintenance = incident->features;
    }
    return true;
  }
  if (it->is_boolean()) {
    if (it->get<bool>()) incident->maintenance = incident->features;
    return true;
  }
  if (!it->is_array()) {
    return Fail(error, "maintenance", "must be true, false or a list of the incident's features");
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& v = (*it)[i];
    std::string field = "maintenance[" + std::to_string(i) + "]";
    if (!v.is_string() || !Known(incident->features, v.get_ref<const std::string&>())) {
      return Fail(error, field, "must be one of the incident's features (\"features\")");
    }
    if (!Known(incident->maintenance, v.get<std::string>())) {
      incident->maintenance.push_back(v.get<std::string>());
    }
  }
  return true;
}

bool ReadIncidentRoom(const nlohmann::json& body, const std::vector<std::string>& rooms,
                      std::optional<state::OpenIncident::Room>* out, RequestError* error) {
  auto it = body.find("room");
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_object()) return Fail(error, "room", "must be {\"name\": ..., \"mode\": ...}");
  for (const auto& [key, v] : it->items()) {
    if (key != "name" && key != "mode") return Fail(error, "room." + key, "unknown field");
  }
  state::OpenIncident::Room room;
  auto name = it->find("name");
  if (name == it->end() || !name->is_string()) return Fail(error, "room.name", "is required");
  room.name = name->get<std::string>();
  if (!Known(rooms, room.name)) {
    return Fail(
        error, "room.name",
        "no room '" + room.name + "' in the configuration (known: " + JoinNames(rooms) + ")");
  }
  auto mode = it->find("mode");
  auto parsed = mode != it->end() && mode->is_string()
                    ? state::ParseRoomMode(mode->get_ref<const std::string&>())
                    : std::nullopt;
  if (!parsed) return Fail(error, "room.mode", "must be one of \"off\", \"auto\", \"queue_all\"");
  room.mode = *parsed;
  *out = room;
  return true;
}

}  // namespace

bool CheckRoomCanQueue(const config::Config& config, const std::string& room, config::RoomMode mode,
                       RequestError* error) {
  if (mode == config::RoomMode::kOff) return true;
  for (const config::RoomConfig& r : config.rooms) {
    if (r.name != room) continue;
    if (!r.enabled) {
      *error = {409, "room_disabled",
                "room '" + room +
                    "' has enabled = false in the configuration: it queues nobody whatever its "
                    "mode; set enabled = true and reload"};
      return false;
    }
    if (config.secrets.token_keys.empty()) {
      *error = {409, "no_signing_key",
                "a room that queues signs its visitors' cookies with [secrets].token_keys, "
                "which is empty: nothing would be queued; add a key (docs/configuration.md) "
                "and reload"};
      return false;
    }
  }
  return true;
}

std::vector<RoomUnableToQueue> RoomsUnableToQueue(const config::Config& config,
                                                  const state::RuntimeState& state) {
  std::vector<RoomUnableToQueue> out;
  for (const auto& [name, room] : state.rooms) {
    if (!room.mode || *room.mode == config::RoomMode::kOff) continue;
    RequestError why;
    if (CheckRoomCanQueue(config, name, *room.mode, &why)) continue;
    out.push_back({name, *room.mode, room.mode_incident_id, why.error});
  }
  return out;
}

std::string DescribeUnableToQueue(const RoomUnableToQueue& room, std::string_view configuration) {
  return "room '" + room.room + "' is switched to " + std::string(state::RoomModeName(room.mode)) +
         " at run time, and " + std::string(configuration) +
         (room.error == "room_disabled" ? " sets enabled = false for it"
                                        : " has no [secrets].token_keys");
}

std::optional<state::OpenIncident> ValidateOpenIncident(const nlohmann::json& body,
                                                        const std::vector<std::string>& features,
                                                        const std::vector<std::string>& rooms,
                                                        common::TimePoint now,
                                                        RequestError* error) {
  state::OpenIncident o;
  std::optional<state::IncidentStatus> status;
  if (!CheckKeys(body,
                 {"title", "message", "impact", "status", "features", "maintenance", "banner",
                  "next_update", "room"},
                 error) ||
      !ReadText(body, "title", true, kMaxIncidentTitle, &o.title, error) ||
      !ReadText(body, "message", true, kMaxIncidentMessage, &o.message, error)) {
    return std::nullopt;
  }
  auto impact = body.find("impact");
  auto parsed = impact != body.end() && impact->is_string()
                    ? state::ParseIncidentImpact(impact->get_ref<const std::string&>())
                    : std::nullopt;
  if (!parsed) {
    // Absent (or null) is "required"; a value that is not an impact is
    // named as given.
    const bool given = impact != body.end() && !impact->is_null();
    Fail(error, "impact",
         std::string(given ? "must be" : "is required:") +
             " one of \"degraded\", \"partial_outage\", \"major_outage\", \"maintenance\"" +
             (given && impact->is_string()
                  ? " (got \"" + impact->get<std::string>().substr(0, 40) + "\")"
                  : ""));
    return std::nullopt;
  }
  o.impact = *parsed;
  if (!ReadOpenStatus(body, &status, error) || !ReadFeatures(body, features, &o.features, error) ||
      !ReadMaintenanceChoice(body, &o, error) ||
      !ReadNextUpdate(body, now, &o.next_update_at, error) ||
      !ReadIncidentRoom(body, rooms, &o.room, error)) {
    return std::nullopt;
  }
  if (status) o.status = *status;
  if (auto banner = body.find("banner"); banner != body.end() && !banner->is_null()) {
    if (!banner->is_boolean()) {
      Fail(error, "banner", "must be true or false");
      return std::nullopt;
    }
    o.banner = banner->get<bool>();
  }
  return o;
}

std::optional<state::UpdateIncident> ValidateIncidentUpdate(const nlohmann::json& body,
                                                            common::TimePoint now,
                                                            RequestError* error) {
  state::UpdateIncident u;
  if (!CheckKeys(body, {"message", "status", "next_update"}, error) ||
      !ReadText(body, "message", true, kMaxIncidentMessage, &u.message, error) ||
      !ReadOpenStatus(body, &u.status, error) ||
      !ReadNextUpdate(body, now, &u.next_update_at, error)) {
    return std::nullopt;
  }
  return u;
}

std::optional<state::ResolveIncident> ValidateIncidentResolve(const nlohmann::json& body,
                                                              RequestError* error) {
  state::ResolveIncident r;
  if (!CheckKeys(body, {"message"}, error) ||
      !ReadText(body, "message", true, kMaxIncidentMessage, &r.message, error)) {
    if (error->detail == "message: is required") {
      error->detail = "message: is required (the closing message shoppers read on the status page)";
    }
    return std::nullopt;
  }
  return r;
}

}  // namespace tidegate::admin
