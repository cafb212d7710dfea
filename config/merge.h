// Internal to config/: the directory merge of several parsed TOML files.
//
// Rule (docs/configuration.md, "Directory merge"): tables merge key by key, at
// every depth, so files can add rooms, features or keys to a section another
// file started. A key that is set in two files (anything but a table in
// both) is an error naming both places: redefining a value is most likely a
// mistake, and "the later file silently wins" could switch a protection off.
#pragma once

#include <string>

#include <toml++/toml.h>

#include "config/diagnostics.h"

namespace tidegate::config {

// Moves every key of `from` into `into`; `path` is the dotted path of both
// tables ("" at the root). Source positions are kept. Conflicting keys are
// reported and the first definition is kept.
void MergeTables(toml::table& into, toml::table&& from, const std::string& path,
                 Diagnostics* diagnostics);

}  // namespace tidegate::config
