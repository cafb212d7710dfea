// Reading the query string of a request target ("/path?a=1&b=2").
//
// Contract: pure functions, thread-safe. QueryOf, ForEachQueryParam and
// QueryParam do not allocate (results view the given text) and do not
// decode; FormDecode decodes a name or value as a web framework reads it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tidegate::common {

// The query of a request target: what follows the first '?' before any '#'
// ("" when there is none).
std::string_view QueryOf(std::string_view target);

// Calls fn(name, value) for every "name=value" pair of `query` ("a=1&b=2",
// a bare "name" has the value ""), in order, until fn returns true; returns
// whether it did. Names and values are as written (not decoded). Pairs are
// separated by any byte of `separators` ("&;" also splits at ';', as some
// frameworks read a query).
template <typename Fn>
bool ForEachQueryParam(std::string_view query, Fn fn, std::string_view separators = "&") {
  while (!query.empty()) {
    size_t amp =
        separators.size() == 1 ? query.find(separators[0]) : query.find_first_of(separators);
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (fn(pair.substr(0, eq), value)) return true;
  }
  return false;
}

// The value of the first parameter `name` in `query`: "" for a bare "name"
// or "name=", nullopt when it is absent.
std::optional<std::string_view> QueryParam(std::string_view query, std::string_view name);

// Decodes %XX and '+' (as space) of a query or form-urlencoded name or value
// into *out (cleared first). A malformed escape is kept as is.
void FormDecode(std::string_view text, std::string* out);

}  // namespace tidegate::common
