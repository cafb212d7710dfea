// Helpers shared by the config unit tests.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "config/loader.h"

namespace tidegate::config::testing {

// tests/unit/config/testdata in the source tree (tests/CMakeLists.txt
// defines TIDEGATE_SOURCE_DIR for every unit test binary).
inline std::filesystem::path TestData() {
  return std::filesystem::path(TIDEGATE_SOURCE_DIR) / "tests" / "unit" / "config" / "testdata";
}

// A file name inside testdata/, so relative paths resolve against testdata/.
inline std::string InTestData(const std::string& name) { return (TestData() / name).string(); }

inline constexpr char kMinimal[] = R"(
[server]
listen = ["127.0.0.1:8080"]

[upstream]
servers = ["127.0.0.1:9000"]
)";

// Loads `text` as testdata/main.toml appended to the minimal config.
inline LoadResult LoadWithMinimal(const std::string& text) {
  return LoadConfigFromStrings({{InTestData("main.toml"), std::string(kMinimal) + text}});
}

// Loads a minimal config whose [server] table also holds `keys` (from line
// 3 of testdata/main.toml).
inline LoadResult LoadWithServerKeys(const std::string& keys) {
  return LoadConfigFromStrings(
      {{InTestData("main.toml"), "[server]\nlisten = [\"127.0.0.1:8080\"]\n" + keys +
                                     "\n[upstream]\nservers = [\"127.0.0.1:9000\"]\n"}});
}

inline std::string AllErrors(const LoadResult& result) {
  std::string out;
  for (const ConfigError& error : result.errors) out += FormatError(error) + "\n";
  return out;
}

// True when some error names `key` exactly and its message contains `needle`.
inline bool HasError(const LoadResult& result, const std::string& key, const std::string& needle) {
  for (const ConfigError& error : result.errors) {
    if (error.key == key && error.message.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace tidegate::config::testing
