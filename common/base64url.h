// base64url without padding (RFC 4648 §5): the alphabet of signed tokens
// and of the queue page's script hash.
//
// Contract: pure functions, thread-safe. Decoding is strict: padding, '+',
// '/', a length of 4n+1 and non-zero stray bits in the last group are
// refused, so every byte string has exactly one accepted spelling.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tidegate::common {

// The encoded length of `bytes` bytes.
constexpr size_t Base64UrlLength(size_t bytes) {
  return bytes / 3 * 4 + (bytes % 3 == 0 ? 0 : bytes % 3 + 1);
}
// The most bytes `chars` characters decode to (a buffer size for DecodeTo).
constexpr size_t Base64UrlDecodedCapacity(size_t chars) { return chars / 4 * 3 + 2; }

// Appends the encoding of `bytes` to *out.
void AppendBase64Url(std::string_view bytes, std::string* out);
std::string Base64UrlEncode(std::string_view bytes);

// Decodes `text` into `out`, which holds at least
// Base64UrlDecodedCapacity(text.size()) bytes: the number of bytes written,
// or std::string_view::npos when `text` is not canonical base64url. No
// allocation (the admitted hot path decodes into stack buffers).
size_t Base64UrlDecodeTo(std::string_view text, char* out);
// The same into a new string; nullopt for bad input or more than 4096 chars.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace tidegate::common
