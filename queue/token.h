// Signed wait and pass tokens (the values of the tg_wait_<room> and
// tg_pass_<room> cookies).
//
// Format: "<key id>.<base64url(payload)>.<base64url(mac)>", where payload is
//   wait: "w|<room>|<ticket>|<issued ms>|<expires ms>"
//   pass: "p|<room>|<admitted ms>|<bucket>|<expires ms>"
// and mac = HMAC-SHA256(secret of <key id>, "tidegate.v1|<key id>|" + payload).
// The payload starts with the purpose and the room, so a wait token is never
// accepted as a pass, nor a token of one room in another (case 43).
//
// Contract:
// * TokenCodec is immutable after construction and thread-safe (const
//   methods; OpenSSL's one-shot HMAC keeps no shared state).
// * The first key signs; every key verifies (rotation without logging
//   anyone out). A token with an unknown key id is rejected.
// * Verify*() return nullopt for anything but a well-formed, correctly
//   signed, unexpired token of the expected purpose and room: bad base64,
//   truncated or flipped MAC (compared with CRYPTO_memcmp), wrong field
//   count, non-numeric fields, expired, or issued more than kClockSkewMillis
//   in the future (cases 41–43). Never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tidegate::queue {

inline constexpr int64_t kClockSkewMillis = 60'000;

struct SigningKey {
  std::string id;
  std::string secret;  // at least 32 bytes (config/admin_section.cc checks)
};

struct WaitToken {
  std::string room;
  uint64_t ticket = 0;
  int64_t issued_ms = 0;
  int64_t expires_ms = 0;
};

struct PassToken {
  std::string room;
  int64_t admitted_ms = 0;
  int64_t bucket = 0;  // the session bucket this pass is counted in
  int64_t expires_ms = 0;
};

class TokenCodec {
 public:
  // `keys` must not be empty (an active room needs [secrets].token_keys).
  explicit TokenCodec(std::vector<SigningKey> keys);

  std::string SignWait(const WaitToken& token) const;
  std::string SignPass(const PassToken& token) const;
  std::optional<WaitToken> VerifyWait(std::string_view text, std::string_view room,
                                      int64_t now_ms) const;
  std::optional<PassToken> VerifyPass(std::string_view text, std::string_view room,
                                      int64_t now_ms) const;

  // A secret derived from the signing key for `room` (the random method's
  // shuffle seed): HMAC(first key, "shuffle|" + room), hex.
  std::string DerivedSecret(std::string_view label) const;

 private:
  std::string Sign(const std::string& payload) const;
  // The verified payload, or nullopt.
  std::optional<std::string> Open(std::string_view text) const;

  std::vector<SigningKey> keys_;
};

// base64url without padding (RFC 4648 §5).
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace tidegate::queue
