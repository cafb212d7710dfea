// Signed tokens on [secrets].token_keys: one HMAC-SHA256 codec (OpenSSL
// EVP_MAC) for every cookie tidegate signs, each bound to its purpose.
//
// Wire formats (fixed: cookies issued before an upgrade stay valid):
//   wait, pass: "<key id>.<base64url(payload)>.<base64url(mac)>"
//               payload = "w|<body>" (wait) or "p|<body>" (pass),
//               mac = HMAC(secret, "tidegate.v1|<key id>|" + payload)
//   challenge:  the same with payload = "c|<body>" (queue/join_challenge.h)
//   bypass:     "v1.<key id>.<body>.<base64url(mac)>" (body in clear, no '.'),
//               mac = HMAC(secret, "tidegate-bypass\n<key id>\n<body>")
// The purpose is inside the MAC'd bytes, so a token never opens as another
// purpose's (a wait token is no pass, a waiting-room cookie no staff
// bypass). The body's meaning (room, times) belongs to the caller
// (queue/token.h, common/bypass_token.h).
//
// Contract:
// * Thread-safe (const methods) and move-only. Each key's HMAC is keyed
//   once, at construction (common/hmac_sha256.h: the SHA-256 states after
//   the key's pads); a signature or check starts from copies of them on the
//   stack, so there is no algorithm fetch, key schedule, lock or allocation
//   per token.
// * The first key signs; every key verifies (rotation without logging anyone
//   out); a token with an unknown key id is refused. MACs are compared with
//   CRYPTO_memcmp.
// * Sign() returns "" (never a valid token) without keys, when OpenSSL
//   fails, or for a body the format cannot carry. Open() never throws and
//   never allocates; anything malformed is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base64url.h"

namespace tidegate::common {

class HmacSha256;  // common/hmac_sha256.h

struct SigningKey {
  std::string id;
  std::string secret;  // at least 32 bytes (config/admin_section.cc checks)
};

enum class TokenPurpose : uint8_t { kWait, kPass, kBypass, kJoinChallenge };

// Why Open() refused a token (kValid: it did not).
enum class TokenCheck { kValid, kMalformed, kUnknownKey, kBadMac, kWrongPurpose };

class SignedTokenCodec {
 public:
  // Tokens longer than this are refused unread.
  static constexpr size_t kMaxTokenChars = 1024;
  // Open() decodes a body into a caller's buffer of this size.
  static constexpr size_t kMaxBodyBytes = Base64UrlDecodedCapacity(kMaxTokenChars);
  using BodyBuffer = char[kMaxBodyBytes];
  // Every token ends with its MAC: 32 bytes, this many base64url characters.
  static constexpr size_t kMacBytes = 32;
  static constexpr size_t kMacChars = Base64UrlLength(kMacBytes);  // 43

  explicit SignedTokenCodec(std::vector<SigningKey> keys);
  // From any list of {id, secret} (config::TokenKey).
  template <typename Keys>
  static SignedTokenCodec FromKeys(const Keys& keys) {
    std::vector<SigningKey> copy;
    copy.reserve(keys.size());
    for (const auto& k : keys) copy.push_back({k.id, k.secret});
    return SignedTokenCodec(std::move(copy));
  }
  ~SignedTokenCodec();
  SignedTokenCodec(SignedTokenCodec&&) noexcept;
  SignedTokenCodec& operator=(SignedTokenCodec&&) noexcept;

  bool empty() const { return keys_.empty(); }
  // The id of the signing key ("" without keys).
  std::string_view signing_key_id() const;

  // The token carrying `body` for `purpose`, signed with the first key.
  std::string Sign(TokenPurpose purpose, std::string_view body) const;
  // The same token appended to *out (a Set-Cookie value built in one
  // string); false, *out unchanged, where Sign() returns "".
  bool AppendSigned(TokenPurpose purpose, std::string_view body, std::string* out) const;

  // Checks that `text` is a well-formed token of `purpose` signed by one of
  // the keys; on kValid, *body views the body (inside `buffer` or `text`).
  TokenCheck Open(TokenPurpose purpose, std::string_view text, BodyBuffer& buffer,
                  std::string_view* body) const;

  // A secret derived from the signing key: base64url(HMAC(first key,
  // "tidegate.v1|derive|" + label)); "" without keys.
  std::string DerivedSecret(std::string_view label) const;

 private:
  struct KeyedMac;  // a key and its keyed HMAC contexts (signed_token.cc)

  static bool Mac(const HmacSha256& mac, std::initializer_list<std::string_view> parts,
                  unsigned char* out);
  KeyedMac* Find(std::string_view id) const;
  TokenCheck OpenEncoded(TokenPurpose purpose, std::string_view text, BodyBuffer& buffer,
                         std::string_view* body) const;
  TokenCheck OpenBypass(std::string_view text, std::string_view* body) const;

  std::vector<std::unique_ptr<KeyedMac>> keys_;
};

}  // namespace tidegate::common
