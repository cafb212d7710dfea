// libFuzzer target: the TOML configuration loader (config/loader.h), from
// memory through LoadConfigFromStrings. The input is split at the first
// "\n#---\n" line into two files (as two conf.d files merged in order), so
// the merge rules are fuzzed too. Checks: the loader never throws or
// crashes, returns a config exactly when it reports no error, and every
// error formats (file:line:col key: message) with a non-empty message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::pair<std::string, std::string>> files;
  // A folder that does not exist: relative secret/cert paths resolve into
  // it and are reported missing, nothing on the machine is read by chance.
  constexpr std::string_view kSplit = "\n#---\n";
  size_t split = text.find(kSplit);
  if (split == std::string_view::npos) {
    files.emplace_back("/nonexistent-tidegate-fuzz/00-a.toml", std::string(text));
  } else {
    files.emplace_back("/nonexistent-tidegate-fuzz/00-a.toml", std::string(text.substr(0, split)));
    files.emplace_back("/nonexistent-tidegate-fuzz/10-b.toml",
                       std::string(text.substr(split + kSplit.size())));
  }
  tidegate::config::LoadResult result = tidegate::config::LoadConfigFromStrings(files);
  if ((result.config != nullptr) == !result.errors.empty()) abort();
  for (const auto& error : result.errors) {
    if (error.message.empty()) abort();
    if (tidegate::config::FormatError(error).empty()) abort();
  }
  return 0;
}
