#include "proxy/cookie_header.h"

namespace tidegate::proxy {
namespace {

std::string_view TrimCookieSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string_view> NextCookieValue(std::string_view* rest, std::string_view name) {
  while (!rest->empty()) {
    size_t semi = rest->find(';');
    std::string_view pair = rest->substr(0, semi);
    *rest = semi == std::string_view::npos ? std::string_view() : rest->substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (TrimCookieSpace(pair.substr(0, eq)) != name) continue;
    std::string_view value = TrimCookieSpace(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

}  // namespace tidegate::proxy
