// ASCII text helpers for protocol text (header names and values, tokens,
// configuration words): no locale, no allocation.
//
// Contract: pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace tidegate::common {

// 'A'…'Z' → 'a'…'z'; every other byte unchanged.
constexpr char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// ASCII case-insensitive equality of `n` bytes at `a` and `b`.
bool EqualsIgnoreCaseN(const char* a, const char* b, size_t n);

// ASCII case-insensitive equality (header names, tokens, config words).
// Inline because most calls (a header name against a wanted one) differ in
// length and end at the first compare, without a call.
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && EqualsIgnoreCaseN(a.data(), b.data(), a.size());
}

// `s` without leading and trailing optional white space (SP and HTAB, the
// OWS of RFC 9110 §5.6.3).
std::string_view TrimOws(std::string_view s);

}  // namespace tidegate::common
