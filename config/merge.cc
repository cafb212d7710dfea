#include "config/merge.h"

#include <utility>

namespace tidegate::config {

void MergeTables(toml::table& into, toml::table&& from, const std::string& path,
                 Diagnostics* diagnostics) {
  for (auto&& [key, node] : from) {
    std::string key_path =
        path.empty() ? std::string(key.str()) : path + "." + std::string(key.str());
    auto found = into.find(key.str());
    if (found == into.end()) {
      // Moving (not copying) keeps the node's source position for later errors.
      into.insert(key, std::move(node));
      continue;
    }
    toml::node& existing = found->second;
    if (existing.is_table() && node.is_table()) {
      MergeTables(*existing.as_table(), std::move(*node.as_table()), key_path, diagnostics);
      continue;
    }
    // Point at the keys (not the values) of both definitions.
    const toml::source_region& where = key.source().begin.line > 0 ? key.source() : node.source();
    const toml::source_region& first_where =
        found->first.source().begin.line > 0 ? found->first.source() : existing.source();
    diagnostics->Add(
        where, key_path,
        "already set at " + Where(first_where) + "; a key may be set in one file only");
  }
}

}  // namespace tidegate::config
