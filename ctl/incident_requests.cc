#include "ctl/incident_requests.h"

#include <sstream>
#include <string_view>

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

// Shoppers read the title and messages: nothing but spaces would show an
// empty banner or heading (the API refuses it too, with more kinds of space).
bool Blank(const std::string& text) { return text.find_first_not_of(" \t") == std::string::npos; }

// "incident open: unexpected argument 'yes'": a word the command does not
// take (a value given to a flag that takes none, a second ID, a typo).
std::string StrayArgument(const std::vector<std::string>& words, size_t expected,
                          const std::set<std::string>& flags) {
  std::string text = "incident " + words[1] + ": unexpected argument '" + words[expected] + "'";
  if (flags.count("banner")) text += " (--banner takes no value: it is on when given)";
  return text;
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
    if (std::string_view(required) != "impact" && Blank(*value)) {
      *error =
          std::string("incident open: --") + required + " must say something (not only spaces)";
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
  // Known verbs with a word too many (or an ID missing) are named as such.
  const size_t expected = verb == "list" || verb == "open"                          ? 2
                          : verb == "show" || verb == "update" || verb == "resolve" ? 3
                                                                                    : 0;
  if (expected != 0 && words.size() > expected) {
    *usage_error = StrayArgument(words, expected, flags);
    return std::nullopt;
  }
  if (expected == 3 && words.size() < 3) {
    *usage_error = "incident " + verb + " needs the incident's ID (tidegate ctl incident list)";
    return std::nullopt;
  }
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
    if (Blank(*message)) {
      *usage_error = "incident " + verb + ": --message must say something (not only spaces)";
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
