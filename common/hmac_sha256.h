// HMAC-SHA256 with the key schedule done once: the SHA-256 states after the
// key's inner (ipad) and outer (opad) blocks are kept, and a MAC starts from
// copies of them. A MAC of a short message then costs two or three SHA-256
// blocks, with no allocation, no lock and no OpenSSL object per call
// (EVP_MAC duplicates its digest contexts on every reset, which allocates).
//
// Output is RFC 2104 HMAC-SHA256, byte for byte what OpenSSL's HMAC()
// returns for the same key and message (tests/unit/common/hmac_sha256_test.cc
// checks it against OpenSSL and the RFC 4231 vectors).
//
// Contract: built once (any thread), then const and thread-safe: Compute()
// only reads the kept states. Uses OpenSSL's SHA-256 block functions (the
// CPU's SHA extensions when present). Copyable (two 112-byte states).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>

namespace tidegate::common {

class HmacSha256 {
 public:
  static constexpr size_t kBytes = 32;

  explicit HmacSha256(std::string_view key);
  ~HmacSha256();  // wipes the key-derived states
  HmacSha256(const HmacSha256&) = default;
  HmacSha256& operator=(const HmacSha256&) = default;

  // HMAC of the concatenation of `parts`, written to out[0..31].
  void Compute(std::initializer_list<std::string_view> parts, unsigned char* out) const;
  // A copy whose Compute(parts) is this one's Compute({prefix, parts...}):
  // the prefix is hashed once here, not on every MAC (a constant context
  // such as a token format's "tidegate.v1|<key id>|").
  HmacSha256 WithPrefix(std::string_view prefix) const;

 private:
  // An opaque copy of OpenSSL's SHA256_CTX (kept out of this header so its
  // deprecated declaration is read in hmac_sha256.cc only).
  struct alignas(8) State {
    unsigned char bytes[112];
  };
  State inner_;
  State outer_;
};

}  // namespace tidegate::common
