#include "config/file_checks.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tidegate::config {

std::string ResolvePath(const std::string& folder, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute() || folder.empty()) return path;
  return (std::filesystem::path(folder) / p).string();
}

std::string CheckReadableFile(const std::string& path) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) return "file \"" + path + "\" does not exist";
  if (!std::filesystem::is_regular_file(status)) return "\"" + path + "\" is not a regular file";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read \"" + path + "\": " + std::strerror(errno);
  return "";
}

std::optional<std::string> ReadWholeFile(const std::string& path, std::string* error) {
  std::string problem = CheckReadableFile(path);
  if (!problem.empty()) {
    *error = problem;
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    *error = "cannot read \"" + path + "\"";
    return std::nullopt;
  }
  return content.str();
}

}  // namespace tidegate::config
