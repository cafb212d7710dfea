// Internal to config/: collects ConfigErrors while a configuration is read.
//
// Contract: single-threaded, owned by one LoadConfig() call. Positions come
// from toml++ source regions (1-based line and column, file path).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "config/loader.h"

namespace tidegate::config {

class Diagnostics {
 public:
  // `default_file` names errors that have no source region (a missing section).
  explicit Diagnostics(std::string default_file) : default_file_(std::move(default_file)) {}

  void Add(const toml::source_region& where, std::string key, std::string message);
  void Add(const toml::node& where, std::string key, std::string message) {
    Add(where.source(), std::move(key), std::move(message));
  }
  // An error without a position, reported against the default file.
  void AddGlobal(std::string key, std::string message);
  void AddFile(std::string file, std::string message);

  bool empty() const { return errors_.empty(); }
  // True when an error was reported for exactly this key path.
  bool HasErrorAt(std::string_view key) const;
  // Sorted by file (in merge order), then line, then column.
  std::vector<ConfigError> Take(const std::vector<std::string>& file_order);

 private:
  std::string default_file_;
  std::vector<ConfigError> errors_;
};

// "file:line:col" of a source region, for messages naming a second place.
std::string Where(const toml::source_region& where);

}  // namespace tidegate::config
