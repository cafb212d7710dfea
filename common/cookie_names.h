// The names of tidegate's own cookies, in one place: the waiting room's
// (queue/cookies.h builds them), the staff bypass cookie
// (common/bypass_token.h) and the test that tells them apart from a shop's
// cookies (proxy/origin_set_cookie.h removes an origin's Set-Cookie for
// them).
//
// Contract: constants and a pure function; thread-safe, no allocation.
#pragma once

#include <string_view>

#include "common/bypass_token.h"

namespace tidegate::common {

// The prefix of every cookie on a TLS listener (RFC 6265bis §4.1.3.2).
inline constexpr std::string_view kHostCookiePrefix = "__Host-";
// A room's cookies: <prefix><room name>.
inline constexpr std::string_view kWaitCookiePrefix = "tg_wait_";
inline constexpr std::string_view kPassCookiePrefix = "tg_pass_";

// True when `name` is one of tidegate's cookies: tg_wait_<anything>,
// tg_pass_<anything> (any room, also one a reload removed: browsers still
// hold its cookies) and tg_bypass, each with or without the __Host- prefix.
// Compared byte for byte, as browsers compare cookie names and as tidegate
// reads them from a request (proxy/cookie_header.h): "TG_PASS_shop" or
// "__HOST-tg_bypass" is another cookie, never read as tidegate's.
inline bool IsOwnCookieName(std::string_view name) {
  if (name.starts_with(kHostCookiePrefix)) name.remove_prefix(kHostCookiePrefix.size());
  return name.starts_with(kWaitCookiePrefix) || name.starts_with(kPassCookiePrefix) ||
         name == kBypassCookie;
}

}  // namespace tidegate::common
