#include "queue/cookies.h"

#include <charconv>

namespace tidegate::queue {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string CookieName(CookieKind kind, std::string_view room, bool tls) {
  std::string name = tls ? "__Host-" : "";
  name += kind == CookieKind::kWait ? "tg_wait_" : "tg_pass_";
  name += room;
  return name;
}

std::string SetCookieValue(std::string_view name, std::string_view value, bool tls,
                           std::optional<int64_t> max_age_seconds) {
  std::string out;
  out.reserve(name.size() + value.size() + 72);
  out.append(name).append("=").append(value).append("; Path=/; HttpOnly; SameSite=Lax");
  if (tls) out += "; Secure";
  if (max_age_seconds) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, *max_age_seconds);
    out.append("; Max-Age=").append(digits, end);
  }
  return out;
}

std::string ClearCookieValue(std::string_view name, bool tls) {
  return SetCookieValue(name, "", tls, 0);
}

namespace cookies_internal {

std::optional<std::string_view> NextValue(std::string_view* rest, std::string_view name) {
  while (!rest->empty()) {
    size_t semi = rest->find(';');
    std::string_view pair = Trim(rest->substr(0, semi));
    *rest = semi == std::string_view::npos ? std::string_view() : rest->substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (Trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = Trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

}  // namespace cookies_internal

std::vector<std::string_view> CookieValues(const proxy::HeaderList& headers,
                                           std::string_view name) {
  std::vector<std::string_view> values;
  ForEachCookieValue(headers, name, [&](std::string_view v) { values.push_back(v); });
  return values;
}

}  // namespace tidegate::queue
