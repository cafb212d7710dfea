// [state]: where room counters and operator switches live.
#include "config/address_list.h"
#include "config/file_checks.h"
#include "config/secret_file.h"
#include "config/sections.h"

namespace tidegate::config {
namespace {

// A `*_password_file` key: the file's content without trailing newlines,
// into *out. `refused` is "" when the key may be used here, else the
// error naming what it needs ("is used only with sentinels").
void ReadPasswordFile(TableReader& state, const char* key, const std::string& refused,
                      std::string* out, std::string* resolved = nullptr) {
  std::string path;
  if (!state.ReadString(key, &path)) return;
  const toml::node& node = *state.table()->get(key);
  if (!refused.empty()) return state.Error(node, key, refused);
  path = ResolvePath(FolderOf(node), path);
  if (resolved != nullptr) *resolved = path;
  std::string error;
  std::optional<std::string> secret = ReadSecretFile(path, &error);
  if (!secret) return state.Error(node, key, error);
  if (secret->empty()) return state.Error(node, key, "\"" + path + "\" is empty");
  *out = std::move(*secret);
}

// redis_password_file, redis_username: AUTH on the Redis server itself
// (requirepass, or a Redis 6+ ACL user), for every [state] connection.
void ReadRedisAuth(TableReader& state, StateConfig* out) {
  ReadPasswordFile(
      state, "redis_password_file",
      out->backend == StateBackend::kRedis ? "" : "is used only with backend = \"redis\"",
      &out->redis_password, &out->redis_password_path);
  const toml::node* user = state.Take("redis_username");  // null without [state] too
  if (user == nullptr || !state.ReadString("redis_username", &out->redis_username)) return;
  if (state.Take("redis_password_file") == nullptr) {
    out->redis_username.clear();
    return state.Error(*user, "redis_username", "is used only with redis_password_file");
  }
  if (out->redis_username.empty() ||
      out->redis_username.find_first_of(" \t\r\n") != std::string::npos) {
    state.Error(*user, "redis_username", "must be a Redis ACL user name (no spaces)");
  }
}

// sentinels, master_name, wait_replicas, wait_timeout (docs/state.md).
void ReadSentinelKeys(TableReader& state, Diagnostics* diagnostics, bool has_sentinels,
                      StateConfig* out) {
  const toml::node* name = state.Take("master_name");
  if (has_sentinels) {
    ReadAddressList(state, "sentinels", {.allow_unix = false}, diagnostics, &out->sentinels);
    const toml::array* list = state.table()->get("sentinels")->as_array();
    if (list != nullptr && list->empty()) {
      state.Error(*list, "sentinels", "needs at least one \"IP:port\" address");
    }
    if (name == nullptr) {
      state.TableError("master_name", "is required with sentinels");
    } else if (state.ReadString("master_name", &out->master_name) &&
               (out->master_name.empty() ||
                out->master_name.find_first_of(" \t\r\n") != std::string::npos)) {
      state.Error(*name, "master_name", "must be a Sentinel master name (no spaces)");
    }
  } else if (name != nullptr) {
    state.Error(*name, "master_name", "is used only with sentinels");
  }
  ReadPasswordFile(state, "sentinel_password_file",
                   has_sentinels ? "" : "is used only with sentinels", &out->sentinel_password,
                   &out->sentinel_password_path);
  out->wait_replicas = has_sentinels ? 1 : 0;
  state.ReadInt("wait_replicas", 0, 16, &out->wait_replicas);
  state.ReadDuration("wait_timeout", Duration(1), Duration(60'000), &out->wait_timeout);
}

}  // namespace

void ReadStateSection(const toml::table* table, Diagnostics* diagnostics, StateConfig* out) {
  TableReader state(table, "state", diagnostics);
  state.ReadEnum<StateBackend>(
      "backend", {{"local", StateBackend::kLocal}, {"redis", StateBackend::kRedis}}, &out->backend);
  bool has_sentinels = state.Take("sentinels") != nullptr;
  if (state.Take("redis") != nullptr) {
    out->redis = ReadAddress(state, "redis", {.allow_unix = true});
    if (has_sentinels) state.TableError("redis", "and sentinels exclude each other: set one");
  } else if (out->backend == StateBackend::kRedis && !has_sentinels) {
    state.TableError("redis", "(or sentinels) is required when backend = \"redis\"");
  }
  ReadSentinelKeys(state, diagnostics, has_sentinels, out);
  ReadRedisAuth(state, out);
  state.ReadEnum<StoreFailureMode>("on_failure",
                                   {{"local", StoreFailureMode::kLocal},
                                    {"open", StoreFailureMode::kOpen},
                                    {"closed", StoreFailureMode::kClosed}},
                                   &out->on_failure);
  if (state.ReadString("path", &out->path)) {
    const toml::node& node = *table->get("path");
    if (out->path.empty()) {
      state.Error(node, "path", "expected a folder, e.g. \"state\" or \"/var/lib/tidegate\"");
    } else {
      out->path = ResolvePath(FolderOf(node), out->path);
    }
  }
  state.ReadEnum<CorruptStateMode>(
      "on_corrupt",
      {{"continue", CorruptStateMode::kContinue}, {"refuse", CorruptStateMode::kRefuse}},
      &out->on_corrupt);
  state.ReadDuration("redis_timeout", Duration(1), Duration(60'000), &out->redis_timeout);
  state.ReadDuration("resync_interval", Duration(100), Duration(3'600'000), &out->resync_interval);
  state.ReportUnknownKeys();
}

}  // namespace tidegate::config
