// Checks that involve several sections.
#include <map>
#include <optional>
#include <set>

#include "common/ascii.h"
#include "config/loader.h"
#include "config/room_match.h"
#include "config/sections.h"

namespace tidegate::config {
namespace {

// Position of a dotted key path in the merged document, for errors.
toml::source_region WhereIs(const toml::table& root, const std::string& path) {
  if (const toml::node* node = root.at_path(path).node()) return node->source();
  return {};
}

}  // namespace

void CheckCrossSection(const toml::table& root, const Config& config, Diagnostics* diagnostics) {
  // Wait and pass cookies are signed: a room that may queue needs a key.
  if (config.secrets.token_keys.empty()) {
    for (const RoomConfig& room : config.rooms) {
      std::string path = "rooms." + room.name;
      // A mistyped mode or enabled is reported already; guessing on top is noise.
      if (diagnostics->HasErrorAt(path + ".mode") || diagnostics->HasErrorAt(path + ".enabled")) {
        continue;
      }
      if (room.enabled && room.mode != RoomMode::kOff) {
        toml::source_region where = WhereIs(root, path + ".mode");
        if (where.begin.line == 0) where = WhereIs(root, path);
        diagnostics->Add(where, path,
                         "an active room needs [secrets].token_keys to sign visitors' cookies "
                         "(or set mode = \"off\")");
      }
    }
  }

  // The same socket address twice would fail at bind time; say so now.
  std::map<std::string, std::string> seen;  // "host:port" -> key path
  auto check = [&](const Address& address, const std::string& path) {
    if (!address.unix_path.empty()) return;
    if (address.port == 0) return;  // the admin listener on a port the kernel picks
    std::string id = address.host + "|" + std::to_string(address.port);
    auto [it, inserted] = seen.emplace(id, path);
    if (!inserted) {
      diagnostics->Add(WhereIs(root, path), path,
                       "\"" + address.text + "\" is already used by " + it->second);
    }
  };
  for (size_t i = 0; i < config.server.listen.size(); ++i) {
    check(config.server.listen[i], "server.listen[" + std::to_string(i) + "]");
  }
  if (config.server.tls) {
    for (size_t i = 0; i < config.server.tls->listen.size(); ++i) {
      check(config.server.tls->listen[i], "server.tls.listen[" + std::to_string(i) + "]");
    }
  }
  check(config.admin.listen, "admin.listen");
}

void CheckRoomShadowing(const toml::table& root, const Config& config,
                        std::vector<std::string>* warnings) {
  // config.rooms is in name order, the order the gate tries them in
  // (queue/waiting_room.cc, WaitingRoom::Match: the first room whose pattern
  // matches either spelling of the path takes the request, whatever its mode
  // or `enabled`). A prefix that starts with an earlier room's prefix is
  // matched by it on the same spelling: the later pattern never decides.
  auto covers = [](const std::string& earlier, const std::string& later) {
    return later.size() >= earlier.size() &&
           common::EqualsIgnoreCase(std::string_view(later).substr(0, earlier.size()), earlier);
  };
  for (size_t later = 1; later < config.rooms.size(); ++later) {
    const RoomConfig& room = config.rooms[later];
    if (room.match.empty()) continue;
    std::string why;
    std::set<std::string> by;  // the earlier rooms named
    bool shadowed = true;
    for (size_t i = 0; i < room.match.size() && shadowed; ++i) {
      std::optional<std::string> prefix = LiteralPrefixPattern(room.match[i]);
      shadowed = false;
      if (!prefix) break;  // needs RE2: not judged
      for (size_t earlier = 0; earlier < later && !shadowed; ++earlier) {
        const RoomConfig& first = config.rooms[earlier];
        for (size_t j = 0; j < first.match.size(); ++j) {
          std::optional<std::string> cover = LiteralPrefixPattern(first.match[j]);
          if (!cover || !covers(*cover, *prefix)) continue;
          shadowed = true;
          by.insert(first.name);
          std::string key = "rooms." + first.name + ".match[" + std::to_string(j) + "]";
          const toml::node* node = root.at_path(key).node();
          if (!why.empty()) why += ", ";
          why += "\"" + room.match[i] + "\" by room '" + first.name + "' (\"" + first.match[j] +
                 "\"" + (node != nullptr ? " at " + Where(node->source()) : std::string()) + ")";
          break;
        }
      }
    }
    if (!shadowed) continue;
    std::string names;
    for (const std::string& name : by) names += (names.empty() ? "'" : ", '") + name + "'";
    ConfigError warning;
    warning.key = "rooms." + room.name + ".match";
    const toml::node* node = root.at_path(warning.key).node();
    if (node != nullptr && node->source().path) {
      warning.file = *node->source().path;
      warning.line = static_cast<int>(node->source().begin.line);
      warning.column = static_cast<int>(node->source().begin.column);
    } else {
      warning.file = config.source_files.empty() ? std::string("(configuration)")
                                                 : config.source_files.front();
    }
    warning.message = "warning: room '" + room.name +
                      "' is never used: rooms are tried in name order and the first match "
                      "wins, and every path it matches is matched first: " +
                      why + "; rename the rooms to change their order, or narrow the match of " +
                      (by.size() > 1 ? "rooms " : "room ") + names;
    warnings->push_back(FormatError(warning));
  }
}

}  // namespace tidegate::config
