// [state]: where room counters and operator switches live.
#include "config/address_list.h"
#include "config/file_checks.h"
#include "config/sections.h"

namespace tidegate::config {

void ReadStateSection(const toml::table* table, Diagnostics* diagnostics, StateConfig* out) {
  TableReader state(table, "state", diagnostics);
  state.ReadEnum<StateBackend>(
      "backend", {{"local", StateBackend::kLocal}, {"redis", StateBackend::kRedis}}, &out->backend);
  if (state.Take("redis") != nullptr) {
    out->redis = ReadAddress(state, "redis", {.allow_unix = true, .allow_port_zero = false});
  } else if (out->backend == StateBackend::kRedis) {
    state.TableError("redis", "is required when backend = \"redis\"");
  }
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
