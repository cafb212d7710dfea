#include "queue/cookies.h"

#include <charconv>

#include "proxy/cookie_header.h"

namespace tidegate::queue {
namespace {}  // namespace

std::string CookieName(CookieKind kind, std::string_view room, bool tls) {
  std::string name = tls ? "__Host-" : "";
  name += kind == CookieKind::kWait ? "tg_wait_" : "tg_pass_";
  name += room;
  return name;
}

void AppendCookieAttributes(bool tls, std::optional<int64_t> max_age_seconds, std::string* out) {
  out->append("; Path=/; HttpOnly; SameSite=Lax");
  if (tls) out->append("; Secure");
  if (max_age_seconds) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, *max_age_seconds);
    out->append("; Max-Age=").append(digits, end);
  }
}

std::string SetCookieValue(std::string_view name, std::string_view value, bool tls,
                           std::optional<int64_t> max_age_seconds) {
  return SetCookieWith(name, tls, max_age_seconds, value.size(),
                       [value](std::string* out) { out->append(value); });
}

std::string ClearCookieValue(std::string_view name, bool tls) {
  return SetCookieValue(name, "", tls, 0);
}

std::vector<std::string_view> CookieValues(const proxy::HeaderList& headers,
                                           std::string_view name) {
  std::vector<std::string_view> values;
  proxy::ForEachCookie(headers, name, [&](std::string_view v) { values.push_back(v); });
  return values;
}

}  // namespace tidegate::queue
