#include "config/diagnostics.h"

#include <algorithm>

namespace tidegate::config {

std::string FormatError(const ConfigError& error) {
  // "file:line:col key: message", the shape compilers use, so editors can jump to it.
  // Built with append(): GCC 12 warns falsely (-Wrestrict) on `"x" + std::string`.
  std::string out = error.file;
  if (error.line > 0) {
    out.append(":").append(std::to_string(error.line));
    out.append(":").append(std::to_string(error.column));
  }
  if (error.line > 0 && !error.key.empty()) {
    out.append(" ").append(error.key).append(":");
  } else {
    out.append(":");
    if (!error.key.empty()) out.append(" ").append(error.key).append(":");
  }
  out.append(" ").append(error.message);
  return out;
}

void Diagnostics::Add(const toml::source_region& where, std::string key, std::string message) {
  ConfigError error;
  error.file = where.path ? *where.path : default_file_;
  error.line = static_cast<int>(where.begin.line);
  error.column = static_cast<int>(where.begin.column);
  error.key = std::move(key);
  error.message = std::move(message);
  errors_.push_back(std::move(error));
}

void Diagnostics::AddGlobal(std::string key, std::string message) {
  errors_.push_back(ConfigError{default_file_, 0, 0, std::move(key), std::move(message)});
}

void Diagnostics::AddFile(std::string file, std::string message) {
  errors_.push_back(ConfigError{std::move(file), 0, 0, "", std::move(message)});
}

bool Diagnostics::HasErrorAt(std::string_view key) const {
  for (const ConfigError& error : errors_) {
    if (error.key == key) return true;
  }
  return false;
}

std::vector<ConfigError> Diagnostics::Take(const std::vector<std::string>& file_order) {
  auto rank = [&](const std::string& file) {
    auto it = std::find(file_order.begin(), file_order.end(), file);
    return it - file_order.begin();
  };
  std::stable_sort(errors_.begin(), errors_.end(), [&](const ConfigError& a, const ConfigError& b) {
    auto ra = rank(a.file), rb = rank(b.file);
    if (ra != rb) return ra < rb;
    if (a.line != b.line) return a.line < b.line;
    return a.column < b.column;
  });
  return std::move(errors_);
}

std::string Where(const toml::source_region& where) {
  std::string out = where.path ? *where.path : std::string("?");
  out.append(":").append(std::to_string(where.begin.line));
  out.append(":").append(std::to_string(where.begin.column));
  return out;
}

}  // namespace tidegate::config
