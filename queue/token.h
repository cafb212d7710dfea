// Signed wait and pass tokens (the values of the tg_wait_<room> and
// tg_pass_<room> cookies).
//
// Format (common/signed_token.h, purposes kWait and kPass):
// "<key id>.<base64url(payload)>.<base64url(mac)>", where payload is
//   wait: "w|<room>|<ticket>|<issued ms>|<expires ms>[|<issuer>]"
//   pass: "p|<room>|<admitted ms>|<bucket>|<expires ms>|<session id>|<network>"
// and mac = HMAC-SHA256(secret of <key id>, "tidegate.v1|<key id>|" + payload).
// A pass signed before session ids existed (no "|<session id>") still
// decodes, with session 0: it works until it expires (at most
// session_duration + 10 s) and its next renewal gives it a session id; it
// cannot be ended (queue/room_logic.h, EndStep), only lapse. A pass signed
// before networks existed (no "|<network>") decodes with network 0: it is
// not bound to a network (queue/pass_networks.h) until its next renewal.
// A version from before networks refuses a six-field pass (too many fields):
// a rolling upgrade sends some shoppers of not-yet-upgraded instances back
// to the line (docs/waiting-room.md, "A pass used from many networks").
// A wait token without "|<issuer>" (issuer 0) holds a ticket of the room's
// store (Redis, or the local backend): every token signed before issuers
// existed is one. A ticket issued by an instance's local fallback during a
// Redis outage carries that process's issuer id (never 0), so that its
// number is a different ticket from the same number issued by Redis or by
// another instance (docs/waiting-room.md, "Failure modes").
// The payload starts with the purpose and the room, so a wait token is never
// accepted as a pass, nor a token of one room in another (case 43).
//
// Contract:
// * TokenCodec is thread-safe (const methods) and move-only. Signing and
//   the MAC check are common::SignedTokenCodec's (keys keyed once, no
//   allocation per check); this class adds the fields, the room and times.
// * Should OpenSSL fail to build a context, Sign*() return "" (never a
//   valid token) and Verify*() nullopt.
// * The first key signs; every key verifies (rotation without logging
//   anyone out). A token with an unknown key id is rejected.
// * VerifyPass() remembers the passes it verified (queue/pass_cache.h): the
//   same text again costs a hash and a comparison, not an HMAC; the times
//   are checked on every call. Verifying allocates only the room name of
//   the returned token (base64 and fields decode into stack buffers).
// * Verify*() return nullopt for anything but a well-formed, correctly
//   signed, unexpired token of the expected purpose and room: bad base64,
//   truncated or flipped MAC (compared with CRYPTO_memcmp), wrong field
//   count, non-numeric fields, expired, or issued more than kClockSkewMillis
//   in the future (cases 41–43). Never throws.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/signed_token.h"

namespace tidegate::queue {

inline constexpr int64_t kClockSkewMillis = 60'000;

class PassCache;

using SigningKey = common::SigningKey;

struct WaitToken {
  std::string room;
  uint64_t ticket = 0;
  int64_t issued_ms = 0;
  int64_t expires_ms = 0;
  // Who numbered the ticket: 0 the room's store; else the id of the process
  // whose local fallback issued it (LocalIssuerId(), room_registry.h).
  uint64_t issuer = 0;
};

struct PassToken {
  std::string room;
  int64_t admitted_ms = 0;
  int64_t bucket = 0;  // the session bucket this pass is counted in
  int64_t expires_ms = 0;
  // Identifies the session across renewals (never 0 once issued: random,
  // or for a claimed ticket TokenCodec::ClaimSessionId; 0: a pass from
  // before session ids). `Tidegate-Session: end` ends it.
  uint64_t session = 0;
  // The client network it was issued or renewed to (queue/pass_networks.h,
  // PassNetworkOf; never 0 once written, and only with a session id; 0: a
  // pass from before networks, or a client whose address was not known).
  uint32_t network = 0;
};

// A new random session id (OpenSSL RAND_bytes; never 0). Thread-safe.
uint64_t NewSessionId();

class TokenCodec {
 public:
  // `keys` must not be empty (an active room needs [secrets].token_keys).
  explicit TokenCodec(std::vector<SigningKey> keys);
  ~TokenCodec();
  TokenCodec(TokenCodec&&) noexcept;
  TokenCodec& operator=(TokenCodec&&) noexcept;

  std::string SignWait(const WaitToken& token) const;
  std::string SignPass(const PassToken& token) const;
  // The same tokens appended to *out (a Set-Cookie value built in one
  // string, queue/cookies.h SetCookieWith); false, *out unchanged, where
  // Sign*() return "". The body is built on the stack.
  bool AppendWait(const WaitToken& token, std::string* out) const;
  bool AppendPass(const PassToken& token, std::string* out) const;
  std::optional<WaitToken> VerifyWait(std::string_view text, std::string_view room,
                                      int64_t now_ms) const;
  std::optional<PassToken> VerifyPass(std::string_view text, std::string_view room,
                                      int64_t now_ms) const;
  // A wait token that was valid and has lapsed: well-formed, correctly
  // signed, of `room`, expired at most `within_ms` ago (expires_ms <= now_ms
  // < expires_ms + within_ms). Proof that this browser held a place of this
  // room, never a place itself: the caller may only say the place is lost
  // (docs/waiting-room.md, "A lost place"). nullopt for anything else,
  // VerifyWait's valid tokens included.
  std::optional<WaitToken> VerifyLapsedWait(std::string_view text, std::string_view room,
                                            int64_t now_ms, int64_t within_ms) const;

  // A secret derived from the signing key (the random method's shuffle seed,
  // label "shuffle|<room>"): common::SignedTokenCodec::DerivedSecret.
  std::string DerivedSecret(std::string_view label) const;

  // The session id a claim of `wait` starts: derived from the signing key,
  // the room, the ticket and its issue time (never 0), so that every copy
  // of that wait cookie (renewed ones included) names the same session and
  // a repeat claim whose first answer was lost finds it (RoomStore::Claim).
  // A key rotation between the two claims gives another id: that repeat
  // claim is refused as before. A ticket with an issuer (not 0) adds it to
  // the derivation; issuer 0 derives as before issuers existed.
  uint64_t ClaimSessionId(const WaitToken& wait) const;

 private:
  common::SignedTokenCodec codec_;
  std::unique_ptr<PassCache> pass_cache_;
};

}  // namespace tidegate::queue
