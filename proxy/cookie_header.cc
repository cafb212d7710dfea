#include "proxy/cookie_header.h"

#include "common/ascii.h"

namespace tidegate::proxy {
std::optional<std::string_view> NextCookieValue(std::string_view* rest, std::string_view name) {
  while (!rest->empty()) {
    size_t semi = rest->find(';');
    std::string_view pair = rest->substr(0, semi);
    *rest = semi == std::string_view::npos ? std::string_view() : rest->substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (common::TrimOws(pair.substr(0, eq)) != name) continue;
    std::string_view value = common::TrimOws(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

}  // namespace tidegate::proxy
