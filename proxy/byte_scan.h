// Word-at-a-time byte-class tests: eight bytes of a string per step instead
// of one, for the scans every request makes over its target (valid target
// characters, canonical path). Each test answers whether ANY byte of the
// word is in the class (exact as a yes/no; which byte is not said: callers
// that need the position rescan that word a byte at a time).
//
// Contract: pure, header-only, thread-safe; reads exactly the 8 bytes at
// `p` (the caller checks they exist).
#pragma once

#include <cstdint>
#include <cstring>

namespace tidegate::proxy::bytescan {

inline constexpr uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr uint64_t kHighs = 0x8080808080808080ULL;

inline uint64_t Load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Some byte of `v` is 0.
inline bool HasZero(uint64_t v) { return ((v - kOnes) & ~v & kHighs) != 0; }
// Some byte of `v` equals `c`.
inline bool HasByte(uint64_t v, unsigned char c) { return HasZero(v ^ (kOnes * c)); }
// Some byte of `v` is below `n` (n <= 128).
inline bool HasLess(uint64_t v, unsigned char n) { return ((v - kOnes * n) & ~v & kHighs) != 0; }
// Some byte of `v` is above `n` (n <= 127); bytes >= 0x80 always are.
inline bool HasMore(uint64_t v, unsigned char n) {
  return (((v + kOnes * (127 - n)) | v) & kHighs) != 0;
}

// Exact masks (no borrow or carry crosses a byte): 0x80 in each byte of
// `v` that is zero / that equals `c`, 0 elsewhere; for tests that pair
// bytes by position (this byte is '/' and the next one '.').
inline uint64_t ZeroBytes(uint64_t v) {
  constexpr uint64_t kLows = 0x7f7f7f7f7f7f7f7fULL;
  return ~(((v & kLows) + kLows) | v | kLows);
}
inline uint64_t BytesEqual(uint64_t v, unsigned char c) { return ZeroBytes(v ^ (kOnes * c)); }

}  // namespace tidegate::proxy::bytescan
