// libFuzzer target: the signed-token decoders (common/signed_token.h,
// queue/token.h, common/bypass_token.h) on attacker-controlled cookie text.
//
// Every input is opened as each purpose and verified as a wait, pass and
// bypass token with fixed keys: a forged input must never verify (the fuzzer
// cannot compute the HMAC, so kValid would mean the MAC check was skipped).
// The input is also signed as a body (so the fuzzer reaches the field
// parsers behind the MAC) and opened again: the round trip must give back
// the same body, or Sign() must refuse the body with "".
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/bypass_token.h"
#include "common/signed_token.h"
#include "queue/token.h"

namespace {

using tidegate::common::SignedTokenCodec;
using tidegate::common::TokenCheck;
using tidegate::common::TokenPurpose;

std::vector<tidegate::common::SigningKey> Keys() {
  return {{"k2", std::string(32, 'b')}, {"k1", std::string(32, 'a')}};
}

const SignedTokenCodec& Codec() {
  static const SignedTokenCodec codec(Keys());
  return codec;
}

const tidegate::queue::TokenCodec& Tokens() {
  static const tidegate::queue::TokenCodec codec(Keys());
  return codec;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  SignedTokenCodec::BodyBuffer buffer;
  std::string_view body;
  for (TokenPurpose purpose : {TokenPurpose::kWait, TokenPurpose::kPass, TokenPurpose::kBypass}) {
    if (Codec().Open(purpose, text, buffer, &body) == TokenCheck::kValid) abort();
  }
  const int64_t now_ms = 1'800'000'000'000;
  if (Tokens().VerifyWait(text, "shop", now_ms)) abort();
  if (Tokens().VerifyPass(text, "shop", now_ms)) abort();
  auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms));
  if (tidegate::common::VerifyBypassToken(text, Codec(), now, std::chrono::hours(24)) ==
      tidegate::common::BypassVerdict::kValid)
    abort();

  // Correctly signed bodies: the field parsers behind the MAC (room, ticket,
  // times; bypass expiry) see the input. Whatever verifies must survive a
  // sign/verify round trip with the same fields.
  std::string_view room = text.substr(0, std::min(text.find('|'), text.size()));
  const std::string wait = Codec().Sign(TokenPurpose::kWait, text);
  if (auto token = Tokens().VerifyWait(wait, room, now_ms)) {
    auto again = Tokens().VerifyWait(Tokens().SignWait(*token), room, now_ms);
    if (!again || again->ticket != token->ticket || again->issued_ms != token->issued_ms ||
        again->expires_ms != token->expires_ms || again->room != token->room)
      abort();
  }
  const std::string pass = Codec().Sign(TokenPurpose::kPass, text);
  if (auto token = Tokens().VerifyPass(pass, room, now_ms)) {
    auto again = Tokens().VerifyPass(Tokens().SignPass(*token), room, now_ms);
    if (!again || again->admitted_ms != token->admitted_ms || again->bucket != token->bucket ||
        again->expires_ms != token->expires_ms || again->room != token->room)
      abort();
  }
  const std::string bypass = Codec().Sign(TokenPurpose::kBypass, text);
  if (!bypass.empty()) {
    (void)tidegate::common::VerifyBypassToken(bypass, Codec(), now, std::chrono::hours(24));
  }

  // Round trip: the input as a body.
  for (TokenPurpose purpose : {TokenPurpose::kWait, TokenPurpose::kPass, TokenPurpose::kBypass}) {
    std::string token = Codec().Sign(purpose, text);
    if (token.empty()) continue;
    if (Codec().Open(purpose, token, buffer, &body) != TokenCheck::kValid) abort();
    if (body != text) abort();
  }
  return 0;
}
