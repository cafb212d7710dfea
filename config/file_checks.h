// Internal to config/: file-system checks for paths named in the configuration.
// Blocking; load time only.
#pragma once

#include <optional>
#include <string>

namespace tidegate::config {

// `path` made absolute-or-as-is against `folder` (the folder of the file that
// named it) when it is relative.
std::string ResolvePath(const std::string& folder, const std::string& path);

// "" when `path` is a readable regular file, else the reason.
std::string CheckReadableFile(const std::string& path);

// The whole file, or nullopt with the reason in *error.
std::optional<std::string> ReadWholeFile(const std::string& path, std::string* error);

}  // namespace tidegate::config
