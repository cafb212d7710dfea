// Reading the request fields a feature rule may test: query parameters,
// cookies, header values and the host without its port.
//
// Contract: pure functions, thread-safe, no allocation unless a value has to
// be percent-decoded. Each answers "does the request carry NAME=VALUE"
// (any occurrence counts): a parameter, cookie or header given twice
// matches when either value is the one asked for.
#pragma once

#include <string>
#include <string_view>

#include "proxy/http_message.h"

namespace tidegate::maintenance {

// `target` is the request-target as sent ("/pay?method=invoice&x=1").
// Names and values are percent-decoded and '+' is read as a space
// (application/x-www-form-urlencoded, what browsers send); names are
// case-sensitive.
bool QueryHas(std::string_view target, std::string_view name, std::string_view value);

// Every Cookie header is read ("a=1; b=2"); values may be DQUOTE-wrapped.
// Cookie names are case-sensitive.
bool CookieHas(const proxy::HeaderList& headers, std::string_view name, std::string_view value);

// Calls fn(value) for every cookie named `name` until fn returns true;
// returns whether it did.
template <typename Fn>
bool ForEachCookie(const proxy::HeaderList& headers, std::string_view name, Fn fn);

// A header field named `name` (case-insensitive) with exactly `value`.
bool HeaderHas(const proxy::HeaderList& headers, std::string_view name, std::string_view value);

// "Shop.Example:8080" → "shop.example"; "[::1]:80" → "[::1]". `host` is
// already lower-cased by the parser.
std::string_view HostWithoutPort(std::string_view host);

// Decodes %XX and '+' (as space) into *out. A malformed escape is kept as is.
void FormDecode(std::string_view text, std::string* out);

// ---- implementation of the template ----
namespace internal {
std::string_view TrimCookieSpace(std::string_view s);
}

template <typename Fn>
bool ForEachCookie(const proxy::HeaderList& headers, std::string_view name, Fn fn) {
  for (const proxy::Header& field : headers.fields()) {
    if (!proxy::EqualsIgnoreCase(field.name, "Cookie")) continue;
    std::string_view rest = field.value;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (internal::TrimCookieSpace(pair.substr(0, eq)) != name) continue;
      std::string_view value = internal::TrimCookieSpace(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (fn(value)) return true;
    }
  }
  return false;
}

}  // namespace tidegate::maintenance
