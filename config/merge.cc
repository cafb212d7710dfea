#include "config/merge.h"

#include <utility>

namespace tidegate::config {

void MergeTables(toml::table& into, toml::table&& from, const std::string& path,
                 Diagnostics* diagnostics) {
  for (auto&& [key, node] : from) {
    std::string key_path =
        path.empty() ? std::string(key.str()) : path + "." + std::string(key.str());
    toml::node* existing = into.get(key.str());
    if (existing == nullptr) {
      // Moving (not copying) keeps the node's source position for later errors.
      into.insert(key, std::move(node));
      continue;
    }
    if (existing->is_table() && node.is_table()) {
      MergeTables(*existing->as_table(), std::move(*node.as_table()), key_path, diagnostics);
      continue;
    }
    const toml::source_region& where = key.source().begin.line > 0 ? key.source() : node.source();
    diagnostics->Add(
        where, key_path,
        "already set at " + Where(existing->source()) + "; a key may be set in one file only");
  }
}

}  // namespace tidegate::config
