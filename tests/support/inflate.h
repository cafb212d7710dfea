// Test-only: decodes a whole zlib/gzip/raw deflate buffer, for the banner's
// unit and integration tests that check what tidegate compressed.
//
// `window_bits` as for zlib's inflateInit2: MAX_WBITS + 16 for gzip only,
// MAX_WBITS + 32 for gzip or zlib (auto-detected).
// Contract: header-only, no state; never throws.
#pragma once

#include <zlib.h>

#include <string>
#include <string_view>

namespace tidegate::testing {

struct Inflated {
  std::string bytes;      // what was decoded (up to an error, if any)
  bool complete = false;  // the stream ended (Z_STREAM_END)
  size_t trailing = 0;    // input bytes left after the end (or unread at an error)
};

inline Inflated InflateAll(std::string_view data, int window_bits) {
  Inflated result;
  z_stream s{};
  if (inflateInit2(&s, window_bits) != Z_OK) return result;
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  char block[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    s.next_out = reinterpret_cast<Bytef*>(block);
    s.avail_out = sizeof(block);
    rc = inflate(&s, Z_NO_FLUSH);
    result.bytes.append(block, sizeof(block) - s.avail_out);
  }
  result.complete = rc == Z_STREAM_END;
  result.trailing = s.avail_in;
  inflateEnd(&s);
  return result;
}

}  // namespace tidegate::testing
