// The staff bypass cookie: a signed, expiring token an operator gets from the
// admin API (POST /v1/bypass) so the team can test a fix in production while
// shoppers see the maintenance page.
//
// Value: "v1.<key id>.<expiry, unix seconds>.<base64url(HMAC-SHA256)>", MAC
// over "tidegate-bypass\n<key id>\n<expiry>" with the secret of [secrets]
// key <key id>. The purpose is bound into the MAC, so a bypass token can never
// be replayed as a waiting-room cookie (or the reverse); the expiry is bound
// too, so it cannot be extended. Comparison is constant-time (CRYPTO_memcmp).
//
// Cookie name: "tg_bypass" on plain HTTP, "__Host-tg_bypass" on TLS
// (HttpOnly; SameSite=Lax; Path=/; Secure on TLS).
//
// Contract: pure functions over the given keys, thread-safe, no I/O.
// Verify() never throws and treats anything malformed as "no token".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace tidegate::maintenance {

using WallClock = std::chrono::system_clock;

inline constexpr std::string_view kBypassCookie = "tg_bypass";
inline constexpr std::string_view kBypassCookieTls = "__Host-tg_bypass";

// Signs with the first key. nullopt when `keys` is empty.
std::optional<std::string> MintBypassToken(const std::vector<config::TokenKey>& keys,
                                           WallClock::time_point expires_at);

enum class BypassVerdict { kValid, kMalformed, kUnknownKey, kBadMac, kExpired, kTooFarAhead };

// Checks `token` against `keys` (any key id listed verifies) at `now`. A token
// expiring more than `max_ttl` after `now` (plus one minute of clock skew) is
// refused: nobody can mint one longer than the admin API allows.
BypassVerdict VerifyBypassToken(std::string_view token, const std::vector<config::TokenKey>& keys,
                                WallClock::time_point now, std::chrono::milliseconds max_ttl);

// "tg_bypass=<token>; Path=/; Max-Age=N; HttpOnly; SameSite=Lax" (plain) or
// "__Host-tg_bypass=<token>; Path=/; Max-Age=N; Secure; HttpOnly; SameSite=Lax" (TLS).
std::string BypassSetCookie(std::string_view token, bool tls, std::chrono::seconds max_age);

}  // namespace tidegate::maintenance
