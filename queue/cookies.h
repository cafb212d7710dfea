// The waiting room's cookies: names, Set-Cookie values, and reading the
// Cookie request header.
//
// Names: tg_wait_<room> and tg_pass_<room>; on TLS listeners
// __Host-tg_wait_<room> / __Host-tg_pass_<room> with Secure (the __Host-
// prefix forbids a Domain attribute and requires Path=/ and Secure, so a
// sibling subdomain cannot plant one). Always HttpOnly; SameSite=Lax; Path=/.
// On TLS only the prefixed names are read, on plain HTTP only the bare ones.
//
// Contract: pure functions, thread-safe. CookieValues() returns views into
// `headers`, valid while the header list lives.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http_message.h"

namespace tidegate::queue {

enum class CookieKind { kWait, kPass };

std::string CookieName(CookieKind kind, std::string_view room, bool tls);

// "name=value; Path=/; HttpOnly; SameSite=Lax[; Secure][; Max-Age=N]".
// max_age_seconds: nullopt = a session cookie.
std::string SetCookieValue(std::string_view name, std::string_view value, bool tls,
                           std::optional<int64_t> max_age_seconds);
// A Set-Cookie value that deletes `name` (Max-Age=0).
std::string ClearCookieValue(std::string_view name, bool tls);

// Every value of cookie `name` in every Cookie header, in order (a client may
// send the same name twice, one of them forged: the caller verifies each).
std::vector<std::string_view> CookieValues(const proxy::HeaderList& headers, std::string_view name);

namespace cookies_internal {
// The next value of cookie `name` in the Cookie header text `*rest`, which
// is advanced past it; nullopt at the end.
std::optional<std::string_view> NextValue(std::string_view* rest, std::string_view name);
}  // namespace cookies_internal

// The same, handed to `visit(std::string_view)` one by one, with no vector
// and no std::function (the admitted hot path reads its pass this way).
template <typename Visit>
void ForEachCookieValue(const proxy::HeaderList& headers, std::string_view name, Visit&& visit) {
  for (const proxy::Header& h : headers.fields()) {
    if (!proxy::EqualsIgnoreCase(h.name, "cookie")) continue;
    std::string_view rest = h.value;
    while (std::optional<std::string_view> value = cookies_internal::NextValue(&rest, name)) {
      visit(*value);
    }
  }
}

}  // namespace tidegate::queue
