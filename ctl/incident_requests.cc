#include "ctl/incident_requests.h"

#include <sstream>

#include <nlohmann/json.hpp>

namespace tidegate::ctl {
namespace {

using Json = nlohmann::json;

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

// Arguments come from a terminal in any encoding: bytes that are not UTF-8
// become U+FFFD instead of an exception.
std::string Dump(const Json& body) {
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string NextUpdateArg(const std::string& text) {
  return !text.empty() && text[0] == '+' ? text.substr(1) : text;
}

const std::string* Option(const std::map<std::string, std::string>& options, const char* name) {
  auto it = options.find(name);
  return it == options.end() ? nullptr : &it->second;
}

std::optional<Json> OpenBody(const std::map<std::string, std::string>& options,
                             const std::set<std::string>& flags, std::string* error) {
  Json body;
  for (const char* required : {"title", "message", "impact"}) {
    const std::string* value = Option(options, required);
    if (value == nullptr) {
      *error = std::string("incident open needs --") + required;
      return std::nullopt;
    }
    body[required] = *value;
  }
  if (const std::string* v = Option(options, "status")) body["status"] = *v;
  if (const std::string* v = Option(options, "features")) body["features"] = SplitList(*v);
  if (const std::string* v = Option(options, "maintenance")) {
    body["maintenance"] = *v == "all"    ? Json(true)
                          : *v == "none" ? Json(false)
                                         : Json(SplitList(*v));
  }
  if (flags.count("banner")) body["banner"] = true;
  if (const std::string* v = Option(options, "next-update"))
    body["next_update"] = NextUpdateArg(*v);
  if (const std::string* v = Option(options, "room")) {
    auto eq = v->find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == v->size()) {
      *error = "--room expects ROOM=MODE (e.g. shop=queue_all), got '" + *v + "'";
      return std::nullopt;
    }
    body["room"] = {{"name", v->substr(0, eq)}, {"mode", v->substr(eq + 1)}};
  }
  return body;
}

}  // namespace

std::optional<IncidentRequest> BuildIncidentRequest(
    const std::vector<std::string>& words, const std::map<std::string, std::string>& options,
    const std::set<std::string>& flags, std::string* usage_error) {
  const std::string verb = words.size() >= 2 ? words[1] : "";
  if (verb == "list" && words.size() == 2) return IncidentRequest{"GET", "/v1/incidents", {}};
  if (verb == "show" && words.size() == 3) {
    return IncidentRequest{"GET", "/v1/incidents/" + words[2], {}, true};
  }
  if (verb == "open" && words.size() == 2) {
    auto body = OpenBody(options, flags, usage_error);
    if (!body) return std::nullopt;
    return IncidentRequest{"POST", "/v1/incidents", Dump(*body), true};
  }
  if ((verb == "update" || verb == "resolve") && words.size() == 3) {
    const std::string* message = Option(options, "message");
    if (message == nullptr) {
      *usage_error = "incident " + verb + " needs --message" +
                     (verb == "resolve" ? " (the closing message shoppers read)" : "");
      return std::nullopt;
    }
    Json body = {{"message", *message}};
    if (verb == "update") {
      if (const std::string* v = Option(options, "status")) body["status"] = *v;
      if (const std::string* v = Option(options, "next-update")) {
        body["next_update"] = NextUpdateArg(*v);
      }
    }
    return IncidentRequest{
        "POST", "/v1/incidents/" + words[2] + (verb == "update" ? "/updates" : "/resolve"),
        Dump(body), true};
  }
  *usage_error = "incident: expected open, update ID, resolve ID, list or show ID";
  return std::nullopt;
}

}  // namespace tidegate::ctl
