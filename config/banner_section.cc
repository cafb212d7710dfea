// [banner]: the informational banner injected into HTML pages.
#include "config/pattern_check.h"
#include "config/sections.h"
#include "config/table_reader.h"

namespace tidegate::config {
namespace {

// "text/html" style: type "/" subtype, token characters only, lower-cased.
bool IsMediaType(const std::string& text) {
  size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) return false;
  if (text.find('/', slash + 1) != std::string::npos) return false;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' || c == '-' ||
              c == '+' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

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
  if (banner.ReadStringArray("match", &out->match)) {
    const toml::array& array = *table->get("match")->as_array();
    for (size_t i = 0; i < out->match.size(); ++i) {
      std::string problem = CheckPattern(out->match[i]);
      if (!problem.empty()) {
        diagnostics->Add(*array.get(i), "banner.match[" + std::to_string(i) + "]", problem);
      }
    }
  }
  if (banner.ReadStringArray("content_types", &out->content_types)) {
    const toml::array& array = *table->get("content_types")->as_array();
    if (array.empty()) {
      banner.Error(array, "content_types", "needs at least one media type, e.g. \"text/html\"");
    }
    for (size_t i = 0; i < out->content_types.size(); ++i) {
      std::string& type = out->content_types[i];
      for (char& c : type) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      if (!IsMediaType(type)) {
        diagnostics->Add(*array.get(i), "banner.content_types[" + std::to_string(i) + "]",
                         "\"" + type + "\" is not a media type such as \"text/html\"");
      }
    }
  }
  banner.ReadSize("window", 1024, 16u << 20, &out->window_bytes);
  banner.ReadEnum<BannerCompressed>("compressed",
                                    {{"compress", BannerCompressed::kCompress},
                                     {"recode", BannerCompressed::kRecode},
                                     {"identity", BannerCompressed::kIdentity}},
                                    &out->compressed);
  banner.ReadInt("recode_level", 1, 9, &out->recode_level);
  banner.ReportUnknownKeys();
}

}  // namespace tidegate::config
