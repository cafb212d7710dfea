// [banner]: the informational banner injected into HTML pages.
#include "config/sections.h"
#include "config/table_reader.h"

namespace tidegate::config {

void ReadBannerSection(const toml::table* table, Diagnostics* diagnostics, BannerConfig* out) {
  constexpr size_t kMaxMessageBytes = 2000;
  TableReader banner(table, "banner", diagnostics);
  banner.ReadBool("enabled", &out->enabled);
  if (banner.ReadString("message", &out->message) && out->message.size() > kMaxMessageBytes) {
    banner.Error(*table->get("message"), "message", "is longer than 2000 bytes");
  }
  banner.ReadEnum<std::string>("severity",
                               {{"info", "info"}, {"warning", "warning"}, {"critical", "critical"}},
                               &out->severity);
  if (out->enabled && out->message.empty()) {
    banner.TableError("message", "is required when enabled = true");
  }
  banner.ReportUnknownKeys();
}

}  // namespace tidegate::config
