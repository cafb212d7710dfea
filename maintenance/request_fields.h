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

enum class NameCase { kSensitive, kInsensitive };

// `target` is the request-target as sent ("/pay?method=invoice&x=1").
// Names and values are percent-decoded and '+' is read as a space
// (application/x-www-form-urlencoded, what browsers send); names are
// compared case-sensitively (`query` rules) or ASCII case-insensitively
// (`form` rules, as body field names are). A name matches as decoded or as
// PHP reads it (maintenance/field_names.h: "?shipping.method=" is PHP's
// shipping_method). The query is read twice when it holds a ';': pairs split
// at '&' only, and at '&' or ';' (frameworks differ); either reading counts.
bool QueryHas(std::string_view target, std::string_view name, std::string_view value,
              NameCase name_case = NameCase::kSensitive);

// Every Cookie header is read as proxy::ForEachCookie reads it
// (proxy/cookie_header.h); cookie names are case-sensitive.
bool CookieHas(const proxy::HeaderList& headers, std::string_view name, std::string_view value);

// A header field named `name` (case-insensitive) with exactly `value`.
bool HeaderHas(const proxy::HeaderList& headers, std::string_view name, std::string_view value);

// "shop.example:8080" → "shop.example"; "[::1]:80" → "[::1]"; one trailing
// dot goes too ("shop.example.:443" → "shop.example", the same fully
// qualified name). `host` is already lower-cased by the parser.
std::string_view HostWithoutPort(std::string_view host);

}  // namespace tidegate::maintenance
