// Checks that involve several sections.
#include <map>

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

}  // namespace tidegate::config
