// The origin may not set tidegate's own cookies (common/cookie_names.h: a
// room's wait and pass cookies, the staff bypass cookie). An origin that
// reflects user input into Set-Cookie, or an answer read on a desynchronised
// connection, could otherwise clear a shopper's pass and place in line or
// plant a cookie tidegate then reads. The request side removes the bypass
// cookie before the origin (proxy/forwarding_headers.h); this is the
// response side's counterpart.
//
// Contract: pure functions, thread-safe; RemoveOwnSetCookies changes only the
// header list it is given and allocates nothing.
#pragma once

#include <cstddef>
#include <string_view>

#include "proxy/http_message.h"

namespace tidegate::proxy {

// The name a browser sends back for the cookie a Set-Cookie value sets
// (RFC 6265bis §5.6, §5.8.3): the name-value pair is the text before the
// first ';'; the name is what precedes its first '=', without surrounding
// spaces and tabs. A cookie with an empty name (no '=' at all, or
// "=a=b") is sent back as its value alone ("a=b"), which a server reads as
// cookie "a": then the name is that value's text before its '=' (or all of
// it). A view into `value`.
std::string_view SetCookieNameSentBack(std::string_view value);

// Removes every Set-Cookie field (name compared without case) whose cookie
// common::IsOwnCookieName() says is tidegate's. Every other field stays,
// byte-identical and in order. Returns how many fields were removed.
size_t RemoveOwnSetCookies(HeaderList* headers);

}  // namespace tidegate::proxy
