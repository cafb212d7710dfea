// PUT/DELETE /v1/features/{name}/maintenance, PUT/DELETE /v1/banner,
// PATCH/DELETE /v1/rooms/{name}: validate fully, apply through the store,
// audit, then acknowledge.
#include <charconv>

#include "admin/admin_api.h"
#include "admin/request_validation.h"
#include "admin/runtime_state_json.h"

namespace tidegate::admin {
namespace {

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

template <typename T>
nlohmann::json FindJson(const std::map<std::string, T, std::less<>>& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? nlohmann::json(nullptr) : ToJson(it->second);
}

}  // namespace

void AdminApi::ChangeMaintenance(const ApiRequest& request, const Match& match,
                                 const AuthResult& who, std::function<void(ApiResponse)> reply) {
  auto config = deps_.config();
  const config::FeatureConfig* feature_config = nullptr;
  for (const auto& f : config->features) {
    if (f.name == match.name) feature_config = &f;
  }
  bool known = feature_config != nullptr;
  // An override left over from a feature removed by a reload may still be cleared.
  bool has_override = deps_.store->Current()->maintenance.count(match.name) > 0;
  if (!known && !(request.method == "DELETE" && has_override)) {
    return reply(Error(
        404, "unknown_feature",
        "no feature '" + match.name + "' in the configuration ([features." + match.name + "])"));
  }
  state::StateChange change;
  if (request.method == "PUT") {
    RequestError error;
    auto body = ParseJsonObject(request.body, &error);
    std::optional<state::MaintenanceOverride> value;
    if (body) value = ValidateMaintenance(*body, Now(), &error);
    if (!value) return reply(Error(error.status, error.error, error.detail));
    change = state::SetMaintenance{match.name, std::move(*value)};
  } else if (feature_config != nullptr && feature_config->maintenance &&
             !(feature_config->maintenance->until &&
               Now() >= *feature_config->maintenance->until)) {
    // A configured window (in force or still to come) cannot be deleted from
    // the file: the feature is reopened until the window ends, or until an
    // operator puts it under maintenance again (PUT replaces this override).
    state::MaintenanceOverride reopened;
    reopened.reopened = true;
    reopened.until = feature_config->maintenance->until;
    change = state::SetMaintenance{match.name, std::move(reopened)};
  } else {
    change = state::ClearMaintenance{match.name};
  }
  std::string feature = match.name;
  ApplyAndAudit(
      request, who, std::move(change),
      [feature](const state::RuntimeState& s) { return FindJson(s.maintenance, feature); },
      std::move(reply));
}

void AdminApi::ChangeBanner(const ApiRequest& request, const AuthResult& who,
                            std::function<void(ApiResponse)> reply) {
  state::StateChange change;
  if (request.method == "PUT") {
    RequestError error;
    auto body = ParseJsonObject(request.body, &error);
    std::optional<state::BannerOverride> value;
    if (body) value = ValidateBanner(*body, Now(), &error);
    if (!value) return reply(Error(error.status, error.error, error.detail));
    change = state::SetBanner{std::move(*value)};
  } else {
    change = state::ClearBanner{};
  }
  ApplyAndAudit(
      request, who, std::move(change),
      [](const state::RuntimeState& s) {
        return s.banner ? ToJson(*s.banner) : nlohmann::json(nullptr);
      },
      std::move(reply));
}

void AdminApi::ChangeRoom(const ApiRequest& request, const Match& match, const AuthResult& who,
                          std::function<void(ApiResponse)> reply) {
  auto config = deps_.config();
  bool known = false;
  for (const auto& r : config->rooms) known |= r.name == match.name;
  bool has_override = deps_.store->Current()->rooms.count(match.name) > 0;
  if (!known && !(request.method == "DELETE" && has_override)) {
    return reply(
        Error(404, "unknown_room",
              "no room '" + match.name + "' in the configuration ([rooms." + match.name + "])"));
  }
  state::StateChange change;
  if (request.method == "PATCH") {
    RequestError error;
    auto body = ParseJsonObject(request.body, &error);
    std::optional<state::RoomPatch> patch;
    if (body) patch = ValidateRoomPatch(*body, &error);
    if (!patch) return reply(Error(error.status, error.error, error.detail));
    if (patch->mode.op == state::FieldPatch<config::RoomMode>::Op::kSet &&
        !CheckRoomCanQueue(*config, match.name, patch->mode.value, &error)) {
      return reply(Error(error.status, error.error, error.detail));
    }
    change = state::PatchRoom{match.name, *patch};
  } else {
    change = state::ResetRoom{match.name};
  }
  std::string room = match.name;
  ApplyAndAudit(
      request, who, std::move(change),
      [room](const state::RuntimeState& s) { return FindJson(s.rooms, room); }, std::move(reply));
}

std::optional<AdminApi::ChangeStart> AdminApi::StartChange(
    const ApiRequest& request, const AuthResult& who,
    const std::function<void(ApiResponse)>& reply) {
  bool bad_if_match = false;
  ChangeStart start;
  start.expected = ParseIfMatch(request.if_match, &bad_if_match);
  if (bad_if_match) {
    reply(Error(400, "bad_if_match", "If-Match must be a state version, e.g. \"7\""));
    return std::nullopt;
  }
  start.record.token_name = who.token_name;
  start.record.client = request.client_address;
  start.record.method = request.method;
  start.record.route = request.path;
  return start;
}

void AdminApi::ApplyAndAudit(const ApiRequest& request, const AuthResult& who,
                             state::StateChange change,
                             std::function<nlohmann::json(const state::RuntimeState&)> describe,
                             std::function<void(ApiResponse)> reply) {
  auto start = StartChange(request, who, reply);
  if (!start) return;
  auto expected = start->expected;
  AuditRecord record = std::move(start->record);
  deps_.store->Apply(change, who.token_name, expected,
                     [this, record = std::move(record), describe = std::move(describe),
                      reply = std::move(reply)](ApplyResult result) mutable {
                       switch (result.status) {
                         case ApplyStatus::kConflict:
                           return reply(Error(409, "version_conflict", result.error));
                         case ApplyStatus::kUnavailable:
                           return reply(Error(503, "store_unavailable", result.error));
                         case ApplyStatus::kUnchanged: {
                           ApiResponse r;
                           r.body = Dump({{"applied", false},
                                          {"detail", "nothing to change"},
                                          {"version", result.after->version},
                                          {"current", describe(*result.after)}});
                           return reply(std::move(r));
                         }
                         case ApplyStatus::kApplied:
                           break;
                       }
                       ++metrics_.changes_applied_total;
                       record.time = Now();
                       record.before = describe(*result.before);
                       record.after = describe(*result.after);
                       std::string error;
                       if (deps_.audit == nullptr || !deps_.audit->Append(record, &error)) {
                         ++metrics_.audit_write_errors_total;
                         if (error.empty()) error = "no audit log configured";
                         Warn("admin.audit", "change applied but not recorded: " + error);
                         return reply(Error(500, "audit_failed",
                                            "the change is in force but could not be "
                                            "recorded in the audit log: " +
                                                error));
                       }
                       ApiResponse r;
                       r.body = Dump({{"applied", true},
                                      {"version", result.after->version},
                                      {"before", record.before},
                                      {"after", record.after}});
                       reply(std::move(r));
                     });
}

}  // namespace tidegate::admin
