// Loading and validating tidegate's TOML configuration.
//
// Contract: LoadConfig() reads one .toml file, or every *.toml file of a
// directory in lexical order, merges them (docs/configuration.md, "Directory
// merge"), and validates every key. It never throws and never stops at the
// first problem: every error found is returned, each with the file, line and
// column of the offending key or value. A Config is returned only when there
// are no errors.
//
// Threads: call it on the control thread (startup, SIGHUP, `--check`); it does
// blocking file I/O and must never run on a worker. It keeps no state between
// calls, so concurrent calls are safe.
// Ownership: the returned Config is immutable and shared; hold the
// shared_ptr as long as you read it.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"

namespace tidegate::config {

// One problem in the configuration. `line`/`column` are 1-based; 0 when the
// problem has no single position (a missing section, an unreadable file).
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key;  // dotted key path, e.g. "server.listen[1]" or "rooms.shop.mode"; may be empty
  std::string message;
};

// "file:line:col key: message" (or "file: key: message" without a position,
// and without " key" when the key is empty). This is what `--check` prints.
std::string FormatError(const ConfigError& error);

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when errors is not empty
  std::vector<ConfigError> errors;       // in file order, then line order
  bool ok() const { return config != nullptr && errors.empty(); }
};

// PATH is a .toml file or a directory whose *.toml files (not starting with
// '.') are read in lexical order of their names and merged. A file of the
// directory named *.TOML (any other case) or *.tml is not read: each is a
// warning in Config::warnings ("FILE: warning: not read: only *.toml files
// are"), not an error. Relative paths
// inside a file (secret files, TLS certificates, logs) are resolved against
// the folder of the file that names them.
LoadResult LoadConfig(const std::string& path);

// For tests and tools: parses in-memory files, in the given order, as if they
// were the files of a directory. `first` is the file name used in errors and
// to resolve relative paths (its folder), `second` the TOML text.
LoadResult LoadConfigFromStrings(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace tidegate::config
