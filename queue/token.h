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
// * TokenCodec is thread-safe (const methods) and move-only. Each key's
//   HMAC context is keyed once, at construction; a signature or check
//   borrows a spare copy from a small per-key pool (a mutex held for a
//   pointer swap) and resets it to the keyed state, so there is no
//   algorithm fetch, key schedule or allocation per token.
// * Should OpenSSL fail to build a context, Sign*() return "" (never a
//   valid token) and Verify*() nullopt.
// * The first key signs; every key verifies (rotation without logging
//   anyone out). A token with an unknown key id is rejected.
// * VerifyPass() remembers the passes it verified (queue/pass_cache.h): the
//   same text again costs a hash and a comparison, not an HMAC; the times
//   are checked on every call.
// * Verify*() return nullopt for anything but a well-formed, correctly
//   signed, unexpired token of the expected purpose and room: bad base64,
//   truncated or flipped MAC (compared with CRYPTO_memcmp), wrong field
//   count, non-numeric fields, expired, or issued more than kClockSkewMillis
//   in the future (cases 41–43). Never throws.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tidegate::queue {

inline constexpr int64_t kClockSkewMillis = 60'000;

class PassCache;

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
  ~TokenCodec();
  TokenCodec(TokenCodec&&) noexcept;
  TokenCodec& operator=(TokenCodec&&) noexcept;

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
  struct KeyedMac;  // a key and its keyed HMAC contexts (token.cc)

  static bool Mac(KeyedMac& key, std::initializer_list<std::string_view> parts, unsigned char* out);
  std::string Sign(std::string_view payload) const;
  // Tokens longer than this are refused unread.
  static constexpr size_t kMaxTokenChars = 1024;
  static constexpr size_t kMaxPayloadBytes = kMaxTokenChars / 4 * 3 + 2;
  // Verifies `text` and decodes its payload into `buffer` (no allocation:
  // this runs for every admitted request); *payload views the buffer.
  bool Open(std::string_view text, char (&buffer)[kMaxPayloadBytes],
            std::string_view* payload) const;

  std::vector<std::unique_ptr<KeyedMac>> keys_;
  std::unique_ptr<PassCache> pass_cache_;
};

// base64url without padding (RFC 4648 §5).
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);
// The same into `out`, which holds at least text.size() / 4 * 3 + 2 bytes:
// the number of bytes written, or std::string_view::npos when `text` is not
// canonical base64url.
size_t Base64UrlDecodeTo(std::string_view text, char* out);

}  // namespace tidegate::queue
