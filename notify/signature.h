// The signature of a webhook POST (docs/webhooks.md):
//
//   Tidegate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// The receiver recomputes the HMAC over the timestamp, a dot and the raw
// body with the shared secret ([[notify.webhooks]].secret_file), compares in
// constant time, and refuses timestamps too far from its clock (replays).
//
// Contract: pure functions (OpenSSL HMAC), thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tidegate::notify {

// Lower-case hex of HMAC-SHA256(secret, "<unix_seconds>.<body>").
std::string SignatureHex(std::string_view secret, int64_t unix_seconds, std::string_view body);

// The header value "t=<unix_seconds>,v1=<hex>".
std::string SignatureHeader(std::string_view secret, int64_t unix_seconds, std::string_view body);

// True when `header` is "t=<t>,v1=<hex>" with a valid HMAC of `body` and
// |now - t| <= tolerance_seconds (what a receiver does; tests use it).
bool VerifySignature(std::string_view secret, std::string_view header, std::string_view body,
                     int64_t now_unix_seconds, int64_t tolerance_seconds);

}  // namespace tidegate::notify
