// Reading cookies from the Cookie request header(s), for every feature that
// looks for one (the maintenance gate's staff bypass and cookie rules, the
// waiting room's wait, pass and bypass cookies).
//
// Every Cookie field is read ("a=1; b=2"), in order; spaces and tabs around
// names and values are ignored; a DQUOTE-wrapped value is unwrapped. Cookie
// names are case-sensitive. A client may send the same name twice (one of
// them forged): callers see every value and verify each.
//
// Contract: the readers are pure functions, thread-safe, no allocation; the
// values handed out are views into the header list, valid while it lives.
// The two writers below (RemoveCookie, MakeCachePrivate) change only the
// header list they are given.
#pragma once

#include <optional>
#include <string_view>
#include <type_traits>

#include "proxy/http_message.h"

namespace tidegate::proxy {

// The next value of cookie `name` in the Cookie header text `*rest`, which
// is advanced past it; nullopt at the end.
std::optional<std::string_view> NextCookieValue(std::string_view* rest, std::string_view name);

// Calls visit(value) for every cookie named `name`. A visitor returning bool
// stops the walk by returning true; ForEachCookie then returns true. A void
// visitor sees every value (and ForEachCookie returns false).
template <typename Visit>
bool ForEachCookie(const HeaderList& headers, std::string_view name, Visit&& visit) {
  for (const Header& field : headers.fields()) {
    if (!EqualsIgnoreCase(field.name, "cookie")) continue;
    std::string_view rest = field.value;
    while (std::optional<std::string_view> value = NextCookieValue(&rest, name)) {
      if constexpr (std::is_void_v<std::invoke_result_t<Visit&, std::string_view>>) {
        visit(*value);
      } else if (visit(*value)) {
        return true;
      }
    }
  }
  return false;
}

// Removes every cookie named `name` from the Cookie fields, so a secret that
// tidegate checked (a room's bypass cookie, the staff bypass cookie) never
// reaches the origin. The other cookies stay byte-identical and in order
// ("a=1; s=x; b=2" without s is "a=1; b=2"); a Cookie field left with no
// cookie is removed. Returns the number of cookies removed.
size_t RemoveCookie(HeaderList* headers, std::string_view name);

// For a response to which tidegate adds a Set-Cookie (a pass renewal or
// clear on an origin response) or a banner (banner/banner_filter.cc): no shared cache (a CDN in
// front) may store it, while the browser's own caching stays as the origin asked. When a
// Cache-Control field already holds `private` or `no-store`, nothing
// changes. Otherwise every Cache-Control field is replaced by one that
// starts with `private`, followed by the origin's directives without
// `public` and `s-maxage` (shared caches only); `max-age`, `no-cache`,
// `must-revalidate` etc. stay. No Cache-Control becomes `private`.
void MakeCachePrivate(HeaderList* headers);

}  // namespace tidegate::proxy
