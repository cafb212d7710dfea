// POST /v1/bypass: an operator mints a signed staff bypass cookie
// (common/bypass_token.h) so the team can test a fix in production while
// shoppers see the maintenance page. The cookie is given out only once the
// audit log recorded who asked for it (never the token itself).
#include "admin/admin_api.h"
#include "admin/request_validation.h"
#include "common/bypass_token.h"
#include "common/rfc3339.h"
#include "config/value_parsers.h"

namespace tidegate::admin {
namespace {

constexpr config::Duration kDefaultTtl{3'600'000};  // 1 h

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void AdminApi::MintBypass(const ApiRequest& request, const AuthResult& who,
                          std::function<void(ApiResponse)> reply) {
  auto config = deps_.config();
  const config::Duration max_ttl = config->maintenance.bypass_cookie_max_ttl;
  config::Duration ttl = std::min(kDefaultTtl, max_ttl);
  if (!request.body.empty()) {
    RequestError error;
    auto body = ParseJsonObject(request.body, &error);
    if (!body) return reply(Error(error.status, error.error, error.detail));
    for (const auto& [key, value] : body->items()) {
      if (key != "ttl") {
        return reply(Error(422, "validation_failed", key + ": unknown field (allowed: ttl)"));
      }
      std::string why;
      std::optional<config::Duration> parsed;
      if (value.is_string()) parsed = config::ParseDuration(value.get<std::string>(), &why);
      if (!parsed || *parsed < std::chrono::minutes(1) || *parsed > max_ttl) {
        return reply(Error(422, "validation_failed",
                           "ttl: a duration such as \"30m\" or \"2h\", from 1m to " +
                               config::FormatDuration(max_ttl) +
                               " ([maintenance].bypass_cookie_max_ttl)"));
      }
      ttl = *parsed;
    }
  }
  const auto& keys = config->secrets.token_keys;
  if (keys.empty()) {
    return reply(Error(409, "no_signing_key",
                       "bypass cookies are signed with [secrets].token_keys, which is empty; add "
                       "a key (docs/configuration.md) and reload"));
  }
  // If-Match as on every change (the same StartChange): a cookie minted
  // on a stale reading of the state is refused. Minting changes no state
  // (the version stays), so the version compared is the one in force here.
  auto start = StartChange(request, who, reply);
  if (!start) return;
  const uint64_t version = deps_.store->Current()->version;
  if (start->expected && *start->expected != version) {
    return reply(Error(409, "version_conflict",
                       "state is at version " + std::to_string(version) + ", not " +
                           std::to_string(*start->expected)));
  }
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(ttl);
  common::TimePoint expires_at =
      std::chrono::time_point_cast<std::chrono::seconds>(Now()) + seconds;
  auto token = common::MintBypassToken(common::SignedTokenCodec::FromKeys(keys), expires_at);
  if (!token) return reply(Error(500, "signing_failed", "HMAC-SHA256 failed"));

  AuditRecord record = std::move(start->record);
  record.time = Now();
  record.before = nullptr;
  record.after = {{"bypass_cookie", true},
                  {"key_id", keys.front().id},
                  {"expires_at", common::FormatRfc3339(expires_at)}};
  std::string error;
  if (deps_.audit == nullptr || !deps_.audit->Append(record, &error)) {
    ++metrics_.audit_write_errors_total;
    if (error.empty()) error = "no audit log configured";
    Warn("admin.audit", "bypass cookie refused: not recorded: " + error);
    return reply(Error(500, "audit_failed",
                       "no bypass cookie was issued: it could not be recorded in the audit "
                       "log: " +
                           error));
  }
  // Every instance's GET /v1/audit lists it beside the state changes.
  deps_.store->AppendSharedAudit({{"time", common::FormatRfc3339Millis(record.time)},
                                  {"token", record.token_name},
                                  {"change", "mint_bypass"},
                                  {"target", "bypass"},
                                  {"before", nullptr},
                                  {"after", record.after}});
  ++metrics_.changes_applied_total;
  ApiResponse r;
  r.body = Dump({{"cookie", std::string(common::kBypassCookie) + "=" + *token},
                 {"cookie_tls", std::string(common::kBypassCookieTls) + "=" + *token},
                 {"set_cookie", common::BypassSetCookie(*token, false, seconds)},
                 {"set_cookie_tls", common::BypassSetCookie(*token, true, seconds)},
                 {"expires_at", common::FormatRfc3339(expires_at)},
                 {"key_id", keys.front().id}});
  reply(std::move(r));
}

}  // namespace tidegate::admin
