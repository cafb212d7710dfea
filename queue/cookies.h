// The waiting room's cookies: names, Set-Cookie values, and all values of
// one cookie (proxy/cookie_header.h reads the Cookie header).
//
// Names: tg_wait_<room> and tg_pass_<room>; on TLS listeners
// __Host-tg_wait_<room> / __Host-tg_pass_<room> with Secure (the __Host-
// prefix forbids a Domain attribute and requires Path=/ and Secure, so a
// sibling subdomain cannot plant one). Always HttpOnly; SameSite=Lax; Path=/.
// On TLS only the prefixed names are read, on plain HTTP only the bare ones.
//
// Contract: thread-safe; pure functions but for the per-thread storage of
// cookie strings and lists (TakeCookieString below), which only reuses
// memory.
// CookieValues() returns views into `headers`, valid while the header list
// lives.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http_message.h"

namespace tidegate::queue {

enum class CookieKind { kWait, kPass };

// Per-thread storage of Set-Cookie values, so that a queue page costs no
// allocation for its ticket's cookie: TakeCookieString() is
// proxy::TakeSpareString() (an empty string with the storage of a long
// header string this thread's lists gave up: a Set-Cookie sent before goes
// there when the reply's list is cleared), TakeCookieList() an empty list
// with capacity, RecycleCookieList() gives a list back (one kept per
// thread). Any thread; each has its own.
std::string TakeCookieString();
std::vector<std::string> TakeCookieList();
void RecycleCookieList(std::vector<std::string>&& list);

std::string CookieName(CookieKind kind, std::string_view room, bool tls);

// "name=value; Path=/; HttpOnly; SameSite=Lax[; Secure][; Max-Age=N]".
// max_age_seconds: nullopt = a session cookie.
std::string SetCookieValue(std::string_view name, std::string_view value, bool tls,
                           std::optional<int64_t> max_age_seconds);
// "; Path=/; HttpOnly; SameSite=Lax[; Secure][; Max-Age=N]".
void AppendCookieAttributes(bool tls, std::optional<int64_t> max_age_seconds, std::string* out);
// SetCookieValue with the value appended by append_value(std::string*) in place
// (a signed token written straight into the header value: one string, no
// temporary). `value_bytes`: about how long the value is (for the reserve).
// The string is TakeCookieString()'s (storage of an earlier cookie when
// this thread gave one back).
template <typename AppendValue>
std::string SetCookieWith(std::string_view name, bool tls, std::optional<int64_t> max_age_seconds,
                          size_t value_bytes, AppendValue&& append_value) {
  std::string out = TakeCookieString();
  out.reserve(name.size() + value_bytes + 72);
  out.append(name).push_back('=');
  append_value(&out);
  AppendCookieAttributes(tls, max_age_seconds, &out);
  return out;
}
// A Set-Cookie value that deletes `name` (Max-Age=0).
std::string ClearCookieValue(std::string_view name, bool tls);

// Every value of cookie `name` in every Cookie header, in order (a client may
// send the same name twice, one of them forged: the caller verifies each).
// The admitted hot path reads its pass with proxy::ForEachCookie instead (no
// vector): proxy/cookie_header.h.
std::vector<std::string_view> CookieValues(const proxy::HeaderList& headers, std::string_view name);

}  // namespace tidegate::queue
