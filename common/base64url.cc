#include "common/base64url.h"

#include <bit>
#include <cstdint>
#include <cstring>

namespace tidegate::common {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The two characters of every 12-bit value: one load and one 2-byte store
// per half of a 3-byte group, instead of a lookup and a store per character.
struct CharPairs {
  char pair[4096][2];
};
constexpr CharPairs kPairs = [] {
  CharPairs t{};
  for (int v = 0; v < 4096; ++v) {
    t.pair[v][0] = kAlphabet[v >> 6];
    t.pair[v][1] = kAlphabet[v & 63];
  }
  return t;
}();

// Six bytes from `in` (eight readable) as the top 48 bits of a big-endian
// word: one unaligned load for two groups.
uint64_t LoadSixBytes(const unsigned char* in) {
  uint64_t v;
  std::memcpy(&v, in, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

void PutPair(uint64_t twelve_bits, char* out) {
  std::memcpy(out, kPairs.pair[twelve_bits & 0xfff], 2);
}

}  // namespace

void AppendBase64Url(std::string_view bytes, std::string* out) {
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  size_t at = out->size();
  out->resize(at + Base64UrlLength(n));
  char* o = out->data() + at;
  size_t i = 0;
  for (; i + 8 <= n; i += 6) {  // two groups per step while 8 bytes can be read
    uint64_t v = LoadSixBytes(in + i);
    PutPair(v >> 52, o);
    PutPair(v >> 40, o + 2);
    PutPair(v >> 28, o + 4);
    PutPair(v >> 16, o + 6);
    o += 8;
  }
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    PutPair(v >> 12, o);
    PutPair(v, o + 2);
    o += 4;
  }
  if (n - i == 1) {
    uint32_t v = uint32_t{in[i]} << 16;
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
  } else if (n - i == 2) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
  }
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve(Base64UrlLength(bytes.size()));
  AppendBase64Url(bytes, &out);
  return out;
}

size_t Base64UrlDecodeTo(std::string_view text, char* out) {
  constexpr size_t kBad = std::string_view::npos;
  if (text.size() % 4 == 1) return kBad;
  char* o = out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    uint32_t v;
    if (c >= 'A' && c <= 'Z') {
      v = static_cast<uint32_t>(c - 'A');
    } else if (c >= 'a' && c <= 'z') {
      v = static_cast<uint32_t>(c - 'a') + 26;
    } else if (c >= '0' && c <= '9') {
      v = static_cast<uint32_t>(c - '0') + 52;
    } else if (c == '-') {
      v = 62;
    } else if (c == '_') {
      v = 63;
    } else {
      return kBad;  // not base64url (padding, '+', '/' included)
    }
    bits = (bits << 6) | v;
    if (++count == 4) {
      *o++ = static_cast<char>(bits >> 16);
      *o++ = static_cast<char>((bits >> 8) & 0xff);
      *o++ = static_cast<char>(bits & 0xff);
      bits = 0;
      count = 0;
    }
  }
  // A partial group: the stray low bits must be zero, so a token has
  // exactly one accepted spelling.
  if (count == 2) {
    if ((bits & 0xf) != 0) return kBad;
    *o++ = static_cast<char>(bits >> 4);
  } else if (count == 3) {
    if ((bits & 0x3) != 0) return kBad;
    *o++ = static_cast<char>(bits >> 10);
    *o++ = static_cast<char>((bits >> 2) & 0xff);
  }
  return static_cast<size_t>(o - out);
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() > 4096) return std::nullopt;
  std::string out(Base64UrlDecodedCapacity(text.size()), '\0');
  size_t n = Base64UrlDecodeTo(text, out.data());
  if (n == std::string_view::npos) return std::nullopt;
  out.resize(n);
  return out;
}

}  // namespace tidegate::common
