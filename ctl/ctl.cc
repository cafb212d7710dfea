#include "ctl/ctl.h"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/rfc3339.h"
#include "config/value_parsers.h"
#include "ctl/http_client.h"
#include "ctl/incident_requests.h"
#include "ctl/render.h"

namespace tidegate::ctl {
namespace {

using Json = nlohmann::json;

constexpr const char* kDefaultAdminUrl = "http://127.0.0.1:9901";

constexpr const char* kUsage =
    "usage: tidegate ctl [--admin URL] [--token-file F] [--cacert F] [--json] <command>\n"
    "  state\n"
    "  maintenance on FEATURE --message TEXT [--until TIME] [--starts-at TIME]\n"
    "  maintenance off FEATURE\n"
    "  banner set --message TEXT [--severity info|warning|critical] [--next-update TIME] "
    "[--expires TIME]\n"
    "  banner clear\n"
    "  room set ROOM key=value...   (mode, total_active_users, new_users_per_minute,\n"
    "                                session_duration, queueing_method, protect=true|false;\n"
    "                                value 'config' clears)\n"
    "  room reset ROOM\n"
    "  bypass [--ttl DURATION]      (a signed staff cookie that passes maintenance)\n"
    "  incident open --title TEXT --message TEXT --impact "
    "degraded|partial_outage|major_outage|maintenance\n"
    "                [--features F1,F2] [--maintenance all|none|F1,F2] [--banner]\n"
    "                [--next-update TIME] [--room ROOM=MODE] [--status STATUS]\n"
    "  incident update ID --message TEXT [--status investigating|identified|monitoring]\n"
    "                [--next-update TIME]\n"
    "  incident resolve ID --message TEXT   (the closing message)\n"
    "  incident list | incident show ID\n"
    "  audit [--limit N]\n"
    "  metrics\n"
    "TIME: RFC 3339 (2026-11-23T14:30:00Z) or a delay from now (30m, 2h, 2d).\n"
    "Token: --token-file, $TIDEGATE_ADMIN_TOKEN_FILE or $TIDEGATE_ADMIN_TOKEN.\n"
    "Exit codes: 0 done, 1 refused or failed, 2 usage.\n";

const std::set<std::string> kValueOptions = {
    "admin",    "token-file",  "message", "until",  "ttl",        "starts-at",
    "severity", "next-update", "expires", "limit",  "cacert",     "title",
    "impact",   "features",    "room",    "status", "maintenance"};
const std::set<std::string> kFlagOptions = {"json", "help", "banner"};

// `room set` keys whose values are whole numbers.
const std::set<std::string> kCountKeys = {"total_active_users", "new_users_per_minute"};

struct Args {
  std::map<std::string, std::string> options;
  std::set<std::string> flags;
  std::vector<std::string> words;
};

bool ParseArgs(const std::vector<std::string>& args, Args* out, std::string* error) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      std::string name = a.substr(2), value;
      bool has_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      if (kFlagOptions.count(name)) {
        if (has_value) {
          *error = "--" + name + " takes no value";
          return false;
        }
        out->flags.insert(name);
      } else if (kValueOptions.count(name)) {
        if (!has_value) {
          if (i + 1 >= args.size()) {
            *error = "--" + name + " needs a value";
            return false;
          }
          value = args[++i];
        }
        out->options[name] = value;
      } else {
        *error = "unknown option --" + name;
        return false;
      }
    } else {
      out->words.push_back(a);
    }
  }
  return true;
}

// RFC 3339, or a delay from now ("30m", "+2h", "2d").
bool ParseTimeArg(const std::string& name, const std::string& text, common::TimePoint now,
                  std::string* out, std::string* error) {
  if (common::ParseRfc3339(text)) {
    *out = text;
    return true;
  }
  std::string delay = !text.empty() && text[0] == '+' ? text.substr(1) : text;
  std::string why;
  if (auto d = config::ParseDelay(delay, &why)) {
    *out = common::FormatRfc3339(now + *d);
    return true;
  }
  *error = "--" + name + " '" + text + "': expected an RFC 3339 time or a delay such as 30m";
  return false;
}

// Why `token` cannot go into an Authorization header ("" when it can): a
// line break would end the header and start another one.
std::string TokenProblem(std::string_view token) {
  if (token.find_first_of("\r\n") != std::string_view::npos) return "more than one line";
  for (char c : token) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "control character";
  }
  return "";
}

// The token in the file at `path` without its trailing white space. On
// failure returns false and sets *error; *usage says whether the file's
// content (or kind) is wrong (exit code 2) rather than unreadable (1).
bool ReadTokenFile(const std::string& path, std::string* token, std::string* error, bool* usage) {
  std::error_code ec;
  *usage = true;
  if (std::filesystem::is_directory(path, ec)) {
    *error = "token file '" + path + "' is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *usage = false;
    *error = "cannot read token file '" + path + "'";
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  *token = ss.str();
  while (!token->empty() && (token->back() == '\n' || token->back() == '\r' ||
                             token->back() == ' ' || token->back() == '\t')) {
    token->pop_back();
  }
  if (token->empty()) {
    *error = "token file '" + path + "' is empty";
    return false;
  }
  if (std::string problem = TokenProblem(*token); !problem.empty()) {
    *error = "token file '" + path + "': " + problem + " (it must hold the token alone)";
    token->clear();
    return false;
  }
  return true;
}

// A whole number from `min` up, written in decimal digits only.
bool ParseCount(const std::string& text, uint64_t min, uint64_t* out) {
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *out = std::stoull(text);
  return *out >= min;
}

class Ctl {
 public:
  Ctl(const CtlEnvironment& env, std::ostream& out, std::ostream& err)
      : env_(env), out_(out), err_(err) {}

  int Run(const std::vector<std::string>& raw) {
    std::string error;
    if (!ParseArgs(raw, &args_, &error)) return Usage(error);
    if (args_.flags.count("help")) {
      out_ << kUsage;
      return kExitOk;
    }
    if (args_.words.empty()) return Usage("no command");
    url_ = args_.options.count("admin") ? args_.options["admin"]
                                        : env_.admin_url.value_or(kDefaultAdminUrl);
    if (!ParseAdminUrl(url_, &target_, &error)) return Usage(error);
    // A CA file for a connection without TLS would be silently unused: the
    // operator believes the endpoint is verified when it is not.
    if (args_.options.count("cacert") && !target_.tls) {
      return Usage("--cacert applies to an https:// admin endpoint, not " + url_);
    }
    // A bad token stops here: nothing is sent.
    bool usage = true;
    bool token_ok = true;
    if (args_.options.count("token-file")) {
      token_ok = ReadTokenFile(args_.options["token-file"], &token_, &error, &usage);
    } else if (env_.token_file) {
      token_ok = ReadTokenFile(*env_.token_file, &token_, &error, &usage);
    } else if (env_.token) {
      token_ = *env_.token;
      if (std::string problem = TokenProblem(token_); !problem.empty()) {
        token_ok = false;
        error = "$TIDEGATE_ADMIN_TOKEN: " + problem + " (it must hold the token alone)";
      }
    }
    if (!token_ok) {
      err_ << "tidegate ctl: " << error << "\n";
      return usage ? kExitUsage : kExitFailed;
    }
    json_ = args_.flags.count("json") > 0;
    now_ = (env_.time ? *env_.time : common::SystemTime()).WallNow();

    const auto& w = args_.words;
    const std::string& cmd = w[0];
    if (cmd == "state" && w.size() == 1) return Get("/v1/state", &RenderState);
    if (cmd == "audit" && w.size() == 1) {
      std::string path = "/v1/audit";
      if (args_.options.count("limit")) {
        uint64_t limit = 0;
        if (!ParseCount(args_.options["limit"], 1, &limit)) {
          return Usage("--limit '" + args_.options["limit"] + "': expected a whole number from 1");
        }
        path += "?limit=" + std::to_string(limit);
      }
      return Get(path, &RenderAudit);
    }
    if (cmd == "metrics" && w.size() == 1) return Metrics();
    if (cmd == "bypass" && w.size() == 1) return Bypass();
    if (cmd == "maintenance" && w.size() == 3 && w[1] == "on") return MaintenanceOn(w[2]);
    if (cmd == "maintenance" && w.size() == 3 && w[1] == "off") {
      return Change("DELETE", "/v1/features/" + w[2] + "/maintenance", std::nullopt);
    }
    if (cmd == "banner" && w.size() == 2 && w[1] == "set") return BannerSet();
    if (cmd == "banner" && w.size() == 2 && w[1] == "clear") {
      return Change("DELETE", "/v1/banner", std::nullopt);
    }
    if (cmd == "incident") return Incident();
    if (cmd == "room" && w.size() >= 4 && w[1] == "set") return RoomSet();
    if (cmd == "room" && w.size() == 3 && w[1] == "reset") {
      return Change("DELETE", "/v1/rooms/" + w[2], std::nullopt);
    }
    return Usage("unknown or incomplete command: " + Join(w));
  }

 private:
  static std::string Join(const std::vector<std::string>& w) {
    std::string s;
    for (const auto& x : w) s += (s.empty() ? "" : " ") + x;
    return s;
  }

  int Usage(const std::string& why) {
    err_ << "tidegate ctl: " << why << "\n" << kUsage;
    return kExitUsage;
  }

  bool Require(const char* option, std::string* value) {
    auto it = args_.options.find(option);
    if (it == args_.options.end()) return false;
    *value = it->second;
    return true;
  }

  // Sends a request; prints errors; returns true with *response on a 2xx.
  // On false, failure_exit_ is the exit code: kExitUnknown when a state
  // change (any method but GET; not a bypass cookie) went out and no answer
  // came back, else kExitFailed.
  bool Send(const std::string& method, const std::string& path,
            const std::optional<std::string>& body, HttpResponse* response) {
    HttpRequestSpec spec;
    spec.method = method;
    spec.path_and_query = path;
    if (!token_.empty()) spec.bearer_token = token_;
    spec.json_body = body;
    if (args_.options.count("cacert")) spec.ca_file = args_.options["cacert"];
    HttpError kind;
    std::string error;
    failure_exit_ = kExitFailed;
    if (!SendRequest(target_, spec, response, &kind, &error)) {
      // A bypass cookie lost on the way is minted again safely: only state
      // changes have an outcome to check.
      if (kind == HttpError::kNoAnswer && method != "GET" && path != "/v1/bypass") {
        failure_exit_ = kExitUnknown;
        err_ << "tidegate ctl: " << url_ << ": " << error
             << "; the outcome is unknown: the change may have been applied; check `tidegate "
                "ctl state`\n";
      } else if (kind == HttpError::kConnect) {
        err_ << "tidegate ctl: cannot reach the admin endpoint at " << url_ << ": " << error
             << "\n";
      } else if (kind == HttpError::kTls) {
        err_ << "tidegate ctl: cannot establish TLS with the admin endpoint at " << url_ << ": "
             << error << "\n";
      } else {
        err_ << "tidegate ctl: " << url_ << ": " << error << "\n";
      }
      return false;
    }
    if (response->status >= 200 && response->status < 300) return true;
    Json j = Json::parse(response->body, nullptr, false);
    std::string detail = j.is_object() && j.contains("detail") && j["detail"].is_string()
                             ? j["detail"].get<std::string>()
                             : response->body;
    std::string code = j.is_object() && j.contains("error") && j["error"].is_string()
                           ? j["error"].get<std::string>()
                           : "";
    if (response->status == 401) {
      // The API's detail says more than "token refused" only when the
      // header was missing or malformed.
      err_ << "tidegate ctl: 401: token refused"
           << (detail.empty() || detail == "token refused" ? "" : " (" + detail + ")")
           << (token_.empty() ? "; no token given: use --token-file or $TIDEGATE_ADMIN_TOKEN_FILE"
                              : "")
           << "\n";
    } else if (response->status == 429) {
      auto it = response->headers.find("retry-after");
      err_ << "tidegate ctl: 429: too many failed attempts; retry after "
           << (it == response->headers.end() ? "?" : it->second) << " s\n";
    } else {
      err_ << "tidegate ctl: " << response->status << (code.empty() ? "" : ": " + code) << ": "
           << detail << "\n";
    }
    return false;
  }

  int Get(const std::string& path, void (*render)(const Json&, std::ostream&)) {
    HttpResponse response;
    if (!Send("GET", path, std::nullopt, &response)) return failure_exit_;
    return Print(response, render);
  }

  int Print(const HttpResponse& response, void (*render)(const Json&, std::ostream&)) {
    if (json_) {
      out_ << response.body;
      if (!response.body.empty() && response.body.back() != '\n') out_ << "\n";
      return kExitOk;
    }
    Json j = Json::parse(response.body, nullptr, false);
    if (j.is_discarded()) {
      err_ << "tidegate ctl: the admin endpoint answered with something that is not JSON\n";
      return kExitFailed;
    }
    render(j, out_);
    return kExitOk;
  }

  int Change(const std::string& method, const std::string& path,
             const std::optional<std::string>& body) {
    HttpResponse response;
    if (!Send(method, path, body, &response)) return failure_exit_;
    return Print(response, &RenderChange);
  }

  int Metrics() {
    HttpResponse response;
    if (!Send("GET", "/metrics", std::nullopt, &response)) return failure_exit_;
    out_ << response.body;
    return kExitOk;
  }

  // POST /v1/bypass: prints the cookie to send (plain and TLS names) and its
  // expiry; --json prints the API's answer as is.
  int Bypass() {
    Json body = Json::object();
    std::string ttl;
    if (Require("ttl", &ttl)) {
      std::string why;
      if (!config::ParseDuration(ttl, &why)) return Usage("--ttl '" + ttl + "': " + why);
      body["ttl"] = ttl;
    }
    HttpResponse response;
    if (!Send("POST", "/v1/bypass", body.dump(), &response)) return failure_exit_;
    return Print(response, [](const Json& j, std::ostream& out) {
      out << "bypass cookie (plain HTTP): " << j.value("cookie", "") << "\n"
          << "bypass cookie (HTTPS):      " << j.value("cookie_tls", "") << "\n"
          << "expires at:                 " << j.value("expires_at", "") << "\n";
    });
  }

  int MaintenanceOn(const std::string& feature) {
    Json body;
    std::string message, value, error;
    if (!Require("message", &message)) return Usage("maintenance on needs --message");
    body["message"] = message;
    for (auto [option, field] :
         {std::pair{"until", "until"}, std::pair{"starts-at", "starts_at"}}) {
      if (!Require(option, &value)) continue;
      std::string t;
      if (!ParseTimeArg(option, value, now_, &t, &error)) return Usage(error);
      body[field] = t;
    }
    return Change("PUT", "/v1/features/" + feature + "/maintenance", body.dump());
  }

  int BannerSet() {
    Json body;
    std::string message, value, error;
    if (!Require("message", &message)) return Usage("banner set needs --message");
    body["message"] = message;
    if (Require("severity", &value)) body["severity"] = value;
    for (auto [option, field] :
         {std::pair{"next-update", "next_update_at"}, std::pair{"expires", "expires_at"}}) {
      if (!Require(option, &value)) continue;
      std::string t;
      if (!ParseTimeArg(option, value, now_, &t, &error)) return Usage(error);
      body[field] = t;
    }
    return Change("PUT", "/v1/banner", body.dump());
  }

  // `incident open|update|resolve|list|show` (ctl/incident_requests.h).
  int Incident() {
    std::string error;
    auto request = BuildIncidentRequest(args_.words, args_.options, args_.flags, &error);
    if (!request) return Usage(error);
    HttpResponse response;
    if (!Send(request->method, request->path, request->body, &response)) return failure_exit_;
    return Print(response, request->single ? &RenderIncident : &RenderIncidents);
  }

  int RoomSet() {
    const auto& w = args_.words;
    Json body = Json::object();
    for (size_t i = 3; i < w.size(); ++i) {
      auto eq = w[i].find('=');
      if (eq == std::string::npos || eq == 0)
        return Usage("expected key=value, got '" + w[i] + "'");
      std::string key = w[i].substr(0, eq), value = w[i].substr(eq + 1);
      uint64_t number = 0;
      bool is_number = ParseCount(value, 0, &number);
      if (value == "config" || value == "null") {
        body[key] = nullptr;
      } else if (kCountKeys.count(key) && !is_number) {
        return Usage("room set " + key + "='" + value +
                     "': expected a whole number (or 'config' to clear)");
      } else if (is_number) {
        body[key] = number;
      } else if (value == "true" || value == "false") {  // protect=false
        body[key] = value == "true";
      } else {
        body[key] = value;
      }
    }
    return Change("PATCH", "/v1/rooms/" + w[2], body.dump());
  }

  const CtlEnvironment& env_;
  std::ostream& out_;
  std::ostream& err_;
  Args args_;
  std::string url_;
  HttpTarget target_;
  std::string token_;
  bool json_ = false;
  int failure_exit_ = kExitFailed;  // set by Send()
  common::TimePoint now_;
};

std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

}  // namespace

int RunCtlArgs(const std::vector<std::string>& args, const CtlEnvironment& env, std::ostream& out,
               std::ostream& err) {
  return Ctl(env, out, err).Run(args);
}

int RunCtl(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  CtlEnvironment env;
  env.admin_url = Env("TIDEGATE_ADMIN_URL");
  env.token_file = Env("TIDEGATE_ADMIN_TOKEN_FILE");
  env.token = Env("TIDEGATE_ADMIN_TOKEN");
  return RunCtlArgs(args, env, std::cout, std::cerr);
}

}  // namespace tidegate::ctl
