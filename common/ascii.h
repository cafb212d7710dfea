// ASCII text helpers for protocol text (header names and values, tokens,
// configuration words): no locale, no allocation.
//
// Contract: pure functions, thread-safe.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

// A lower-case literal as a template argument of EqualsIgnoreCaseLiteral:
// its text, and per eight-byte word the bytes and the mask of its letters'
// 0x20 bits, all computed at compile time. A literal with an upper-case
// letter does not compile (the comparison below would never match it).
template <size_t N>
struct LowerLiteral {
  char text[N] = {};
  consteval LowerLiteral(const char (&s)[N]) {  // NOLINT: implicit on purpose
    for (size_t i = 0; i < N; ++i) {
      if (s[i] >= 'A' && s[i] <= 'Z') throw "EqualsIgnoreCaseLiteral wants a lower-case literal";
      text[i] = s[i];
    }
  }
  static constexpr size_t size() { return N - 1; }
  // Bytes [offset, offset + len) as the word a memcpy of them into a zeroed
  // uint64_t gives (any byte order), or their letter mask.
  consteval uint64_t Word(size_t offset, size_t len, bool letter_mask) const {
    std::array<unsigned char, 8> bytes{};
    for (size_t i = 0; i < len; ++i) {
      char c = text[offset + i];
      bool letter = c >= 'a' && c <= 'z';
      bytes[i] = static_cast<unsigned char>(letter_mask ? (letter ? 0x20 : 0) : c);
    }
    return std::bit_cast<uint64_t>(bytes);
  }
};

// EqualsIgnoreCase(s, kLower) for a lower-case literal, eight bytes per
// compare: (word | letter mask) == literal word holds exactly when each
// letter byte is that letter in either case and every other byte is equal
// (setting 0x20 only where the literal has a letter keeps e.g. CR from
// matching '-'). For the hot header-name tests (framing, hop-by-hop,
// forwarding fields): no call, no loop, no table.
template <LowerLiteral kLower, size_t kOffset = 0>
inline bool EqualsIgnoreCaseLiteralAt(const char* s) {
  if constexpr (kOffset >= kLower.size()) {
    return true;
  } else {
    constexpr size_t kLen = kLower.size() - kOffset < 8 ? kLower.size() - kOffset : 8;
    constexpr uint64_t kWant = kLower.Word(kOffset, kLen, false);
    constexpr uint64_t kFold = kLower.Word(kOffset, kLen, true);
    uint64_t v = 0;
    std::memcpy(&v, s + kOffset, kLen);
    return (v | kFold) == kWant && EqualsIgnoreCaseLiteralAt<kLower, kOffset + 8>(s);
  }
}
template <LowerLiteral kLower>
inline bool EqualsIgnoreCaseLiteral(std::string_view s) {
  return s.size() == kLower.size() && EqualsIgnoreCaseLiteralAt<kLower>(s.data());
}

// `s` without leading and trailing optional white space (SP and HTAB, the
// OWS of RFC 9110 §5.6.3). Inline: every Connection and Cookie element of
// every message passes here.
inline std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace tidegate::common
