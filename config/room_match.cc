#include "config/room_match.h"

namespace tidegate::config {

std::optional<std::string> LiteralPrefixPattern(std::string_view pattern) {
  if (pattern.empty() || pattern[0] != '^') return std::nullopt;
  std::string_view rest = pattern.substr(1);
  for (char c : rest) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '/' || c == '_' || c == '-';
    if (!plain) return std::nullopt;
  }
  return std::string(rest);
}

}  // namespace tidegate::config
