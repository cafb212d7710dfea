// Routing, authentication and roles of the admin API (see admin_api.h for the
// order of checks). The routes themselves live in routes_read.cc and
// routes_change.cc.
#include "admin/admin_api.h"

#include <string_view>

#include "admin/host_check.h"

namespace tidegate::admin {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.empty() || path.front() != '/') return parts;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

}  // namespace

AdminApi::AdminApi(Deps deps, const config::AdminConfig& admin, AdminApiOptions options)
    : deps_(std::move(deps)),
      options_(options),
      auth_(std::make_unique<TokenAuthenticator>(admin.tokens)),
      throttle_(options.throttle, deps_.time ? *deps_.time : common::SystemTime()),
      allowed_hosts_(AllowedAdminHosts(admin)) {}

void AdminApi::Reconfigure(const config::AdminConfig& admin) {
  auth_ = std::make_unique<TokenAuthenticator>(admin.tokens);
  allowed_hosts_ = AllowedAdminHosts(admin);
}

ApiResponse AdminApi::Error(int status, std::string error, std::string detail) {
  ApiResponse r;
  r.status = status;
  r.body = nlohmann::json{{"error", std::move(error)}, {"detail", std::move(detail)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

std::optional<AdminApi::Match> AdminApi::MatchPath(const std::string& path) const {
  auto parts = SplitPath(path);
  if (parts.size() == 1 && parts[0] == "metrics") return Match{Route::kMetrics, ""};
  if (parts.size() < 2 || parts[0] != "v1") return std::nullopt;
  if (parts.size() == 2) {
    if (parts[1] == "state") return Match{Route::kState, ""};
    if (parts[1] == "audit") return Match{Route::kAudit, ""};
    if (parts[1] == "banner") return Match{Route::kBanner, ""};
    if (parts[1] == "bypass") return Match{Route::kBypass, ""};
    if (parts[1] == "notify") return Match{Route::kNotify, ""};
    if (parts[1] == "incidents") return Match{Route::kIncidents, ""};
    return std::nullopt;
  }
  if (parts[1] == "incidents" && parts.size() <= 4 && !parts[2].empty()) {
    if (parts.size() == 3) return Match{Route::kIncident, std::string(parts[2])};
    if (parts[3] == "updates") return Match{Route::kIncidentUpdates, std::string(parts[2])};
    if (parts[3] == "resolve") return Match{Route::kIncidentResolve, std::string(parts[2])};
    return std::nullopt;
  }
  if (parts.size() == 3 && parts[1] == "rooms" && !parts[2].empty()) {
    return Match{Route::kRoom, std::string(parts[2])};
  }
  if (parts.size() == 4 && parts[1] == "features" && !parts[2].empty() &&
      parts[3] == "maintenance") {
    return Match{Route::kMaintenance, std::string(parts[2])};
  }
  return std::nullopt;
}

std::vector<std::string> AdminApi::AllowedMethods(Route route) {
  switch (route) {
    case Route::kState:
    case Route::kAudit:
    case Route::kMetrics:
    case Route::kNotify:
      return {"GET"};
    case Route::kMaintenance:
    case Route::kBanner:
      return {"PUT", "DELETE"};
    case Route::kRoom:
      return {"PATCH", "DELETE"};
    case Route::kBypass:
    case Route::kIncidentUpdates:
    case Route::kIncidentResolve:
      return {"POST"};
    case Route::kIncidents:
      return {"GET", "POST"};
    case Route::kIncident:
      return {"GET"};
  }
  return {};
}

void AdminApi::Handle(const ApiRequest& request, std::function<void(ApiResponse)> reply_to) {
  // HEAD is GET without the body (RFC 9110 §9.3.2): the same checks, status
  // and fields; the listener leaves the body out (AdminServer).
  if (request.method == "HEAD") {
    ApiRequest as_get = request;
    as_get.method = "GET";
    return Handle(as_get, std::move(reply_to));
  }
  // Count every answer by status code.
  auto reply = [this, reply_to = std::move(reply_to)](ApiResponse response) {
    ++metrics_.requests_by_code[std::to_string(response.status)];
    reply_to(std::move(response));
  };

  if (!request.bad_request.empty()) return reply(Error(400, "bad_request", request.bad_request));
  if (request.host && !AdminHostAllowed(*request.host, allowed_hosts_)) {
    return reply(Error(421, "misdirected_request",
                       "Host \"" + *request.host +
                           "\" is not an address or name of the admin listener; add it to "
                           "[admin].allowed_hosts if operators reach the admin API by that name"));
  }
  if (QueryCarriesCredentials(request.query)) {
    return reply(Error(400, "credentials_in_query",
                       "send the token in the Authorization header (Bearer), never in the URL; "
                       "this request was refused and the token should be considered exposed"));
  }
  auto match = MatchPath(request.path);
  if (!match) return reply(Error(404, "not_found", "no route " + request.path));
  auto allowed = AllowedMethods(match->route);
  bool method_ok = false;
  for (const auto& m : allowed) method_ok |= m == request.method;
  if (!method_ok) {
    ApiResponse r = Error(405, "method_not_allowed",
                          request.method + " " + request.path + "; allowed: " + Join(allowed));
    // HEAD goes wherever GET does.
    std::vector<std::string> allow = allowed;
    for (size_t i = 0; i < allow.size(); ++i) {
      if (allow[i] == "GET")
        allow.insert(allow.begin() + static_cast<std::ptrdiff_t>(i) + 1, "HEAD");
    }
    r.headers.emplace_back("Allow", Join(allow));
    return reply(std::move(r));
  }

  if (match->route == Route::kMetrics && options_.metrics_open_on_loopback &&
      request.client_is_loopback) {
    return reply(GetMetrics());
  }

  // Authenticate first (constant time, whatever the throttle says), then
  // throttle only failures: a valid token always passes, so bad guesses from
  // an address (or from the one shared unix socket) never lock out operators.
  AuthResult who = auth_->Check(request.authorization);
  std::optional<int64_t> retry = throttle_.RetryAfter(request.client_ip);
  if (who.status != AuthStatus::kOk && retry) {
    ++metrics_.throttled_total;
    ApiResponse r = Error(429, "too_many_failures",
                          "too many failed authentications from " + request.client_ip +
                              "; retry in " + std::to_string(*retry) + " s");
    r.headers.emplace_back("Retry-After", std::to_string(*retry));
    return reply(std::move(r));
  }
  if (who.status != AuthStatus::kOk) {
    ++metrics_.auth_failures_total;
    std::string detail = who.status == AuthStatus::kMissing
                             ? "missing Authorization: Bearer <token>"
                         : who.status == AuthStatus::kMalformed
                             ? "the Authorization header must be \"Bearer <token>\""
                             : "token refused";
    if (who.status != AuthStatus::kMissing) {
      throttle_.RecordFailure(request.client_ip);
      Warn("admin.auth", "refused token from " + request.client_address + " for " + request.method +
                             " " + request.path);
    }
    ApiResponse r = Error(401, "unauthorized", detail);
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"tidegate-admin\"");
    return reply(std::move(r));
  }
  // A success forgets the address's failures only when it is not refused:
  // while it is, bad tokens from it keep getting 429.
  if (!retry) throttle_.RecordSuccess(request.client_ip);

  bool is_change = request.method != "GET";
  if (is_change && who.role != config::AdminRole::kOperator) {
    return reply(Error(403, "forbidden",
                       "token '" + who.token_name + "' has role viewer; changes need operator"));
  }
  if (request.body_too_large || request.body.size() > options_.max_body_bytes) {
    return reply(Error(
        413, "body_too_large",
        "request bodies are limited to " + std::to_string(options_.max_body_bytes) + " bytes"));
  }
  Dispatch(request, *match, who, std::move(reply));
}

void AdminApi::Dispatch(const ApiRequest& request, const Match& match, const AuthResult& who,
                        std::function<void(ApiResponse)> reply) {
  switch (match.route) {
    case Route::kState:
      return reply(GetState());
    case Route::kAudit:
      return GetAudit(request, std::move(reply));
    case Route::kMetrics:
      return reply(GetMetrics());
    case Route::kMaintenance:
      return ChangeMaintenance(request, match, who, std::move(reply));
    case Route::kBanner:
      return ChangeBanner(request, who, std::move(reply));
    case Route::kRoom:
      return ChangeRoom(request, match, who, std::move(reply));
    case Route::kBypass:
      return MintBypass(request, who, std::move(reply));
    case Route::kNotify:
      return GetNotify(std::move(reply));
    case Route::kIncidents:
      if (request.method == "GET") return reply(ListIncidents());
      return IncidentRoute(request, match, who, std::move(reply));
    case Route::kIncident:
    case Route::kIncidentUpdates:
    case Route::kIncidentResolve:
      return IncidentRoute(request, match, who, std::move(reply));
  }
}

}  // namespace tidegate::admin
