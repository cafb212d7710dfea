#include "config/secret_file.h"

#include "config/file_checks.h"

namespace tidegate::config {

std::optional<std::string> ReadSecretFile(const std::string& path, std::string* error) {
  std::optional<std::string> secret = ReadWholeFile(path, error);
  if (!secret) return std::nullopt;
  while (!secret->empty() && (secret->back() == '\n' || secret->back() == '\r')) {
    secret->pop_back();
  }
  return secret;
}

}  // namespace tidegate::config
