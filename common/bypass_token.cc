#include "common/bypass_token.h"

#include <charconv>

namespace tidegate::common {

std::optional<std::string> MintBypassToken(const SignedTokenCodec& codec,
                                           std::chrono::system_clock::time_point expires_at) {
  std::string expiry = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(expires_at.time_since_epoch()).count());
  std::string token = codec.Sign(TokenPurpose::kBypass, expiry);
  if (token.empty()) return std::nullopt;
  return token;
}

BypassVerdict VerifyBypassToken(std::string_view token, const SignedTokenCodec& codec,
                                std::chrono::system_clock::time_point now,
                                std::chrono::milliseconds max_ttl) {
  SignedTokenCodec::BodyBuffer buffer;
  std::string_view expiry_text;
  switch (codec.Open(TokenPurpose::kBypass, token, buffer, &expiry_text)) {
    case TokenCheck::kValid:
      break;
    case TokenCheck::kUnknownKey:
      return BypassVerdict::kUnknownKey;
    case TokenCheck::kBadMac:
      return BypassVerdict::kBadMac;
    case TokenCheck::kMalformed:
    case TokenCheck::kWrongPurpose:
      return BypassVerdict::kMalformed;
  }
  int64_t expiry = 0;
  auto [end, ec] =
      std::from_chars(expiry_text.data(), expiry_text.data() + expiry_text.size(), expiry);
  if (expiry_text.size() > 12 || ec != std::errc() ||
      end != expiry_text.data() + expiry_text.size() || expiry <= 0) {
    return BypassVerdict::kMalformed;
  }
  // Compared in whole seconds: up to 12 digits of seconds do not fit
  // system_clock's 64-bit nanoseconds (found by fuzz/fuzz_token.cc). An
  // integer expiry is <= (or >) a time exactly when it is <= (or >) that
  // time's whole seconds.
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  if (expiry <= duration_cast<seconds>(now.time_since_epoch()).count()) {
    return BypassVerdict::kExpired;
  }
  auto latest = now + max_ttl + std::chrono::minutes(1);
  if (expiry > duration_cast<seconds>(latest.time_since_epoch()).count()) {
    return BypassVerdict::kTooFarAhead;
  }
  return BypassVerdict::kValid;
}

std::string BypassSetCookie(std::string_view token, bool tls, std::chrono::seconds max_age) {
  std::string out(tls ? kBypassCookieTls : kBypassCookie);
  out += '=';
  out.append(token);
  out += "; Path=/; Max-Age=" + std::to_string(max_age.count());
  if (tls) out += "; Secure";
  out += "; HttpOnly; SameSite=Lax";
  return out;
}

}  // namespace tidegate::common
