// The staff bypass cookie: a signed, expiring token an operator gets from the
// admin API (POST /v1/bypass) so the team can test a fix in production while
// shoppers see the maintenance page (maintenance/maintenance_gate.h checks it).
//
// Value: "v1.<key id>.<expiry, unix seconds>.<base64url(HMAC-SHA256)>", a
// TokenPurpose::kBypass token of common/signed_token.h whose body is the
// expiry. The purpose is bound into the MAC, so a bypass token can never be
// replayed as a waiting-room cookie (or the reverse); the expiry is bound
// too, so it cannot be extended.
//
// Cookie name: "tg_bypass" on plain HTTP, "__Host-tg_bypass" on TLS
// (HttpOnly; SameSite=Lax; Path=/; Secure on TLS).
//
// Contract: pure functions over the given codec, thread-safe, no I/O.
// VerifyBypassToken() never throws and treats anything malformed as "no
// token".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/signed_token.h"

namespace tidegate::common {

inline constexpr std::string_view kBypassCookie = "tg_bypass";
inline constexpr std::string_view kBypassCookieTls = "__Host-tg_bypass";

// Signs with the codec's first key. nullopt when it has no key (or OpenSSL
// failed).
std::optional<std::string> MintBypassToken(const SignedTokenCodec& codec,
                                           std::chrono::system_clock::time_point expires_at);

enum class BypassVerdict { kValid, kMalformed, kUnknownKey, kBadMac, kExpired, kTooFarAhead };

// Checks `token` against the codec's keys (any key id listed verifies) at
// `now`. A token expiring more than `max_ttl` after `now` (plus one minute of
// clock skew) is refused: nobody can mint one longer than the admin API
// allows.
BypassVerdict VerifyBypassToken(std::string_view token, const SignedTokenCodec& codec,
                                std::chrono::system_clock::time_point now,
                                std::chrono::milliseconds max_ttl);

// "tg_bypass=<token>; Path=/; Max-Age=N; HttpOnly; SameSite=Lax" (plain) or
// "__Host-tg_bypass=<token>; Path=/; Max-Age=N; Secure; HttpOnly; SameSite=Lax" (TLS).
std::string BypassSetCookie(std::string_view token, bool tls, std::chrono::seconds max_age);

}  // namespace tidegate::common
