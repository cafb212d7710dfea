#include "maintenance/bypass_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

namespace tidegate::maintenance {
namespace {

constexpr std::string_view kVersion = "v1";
constexpr size_t kMacBytes = 32;

std::string Base64Url(const unsigned char* data, size_t len) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((len * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 2 < len; i += 3) {
    uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == len) {
    uint32_t v = data[i] << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (i + 2 == len) {
    uint32_t v = (data[i] << 16) | (data[i + 1] << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

bool Mac(const config::TokenKey& key, std::string_view expiry, unsigned char* out) {
  std::string input = "tidegate-bypass\n";
  input += key.id;
  input += '\n';
  input.append(expiry);
  unsigned int len = 0;
  return HMAC(EVP_sha256(), key.secret.data(), static_cast<int>(key.secret.size()),
              reinterpret_cast<const unsigned char*>(input.data()), input.size(), out,
              &len) != nullptr &&
         len == kMacBytes;
}

}  // namespace

std::optional<std::string> MintBypassToken(const std::vector<config::TokenKey>& keys,
                                           WallClock::time_point expires_at) {
  if (keys.empty()) return std::nullopt;
  const config::TokenKey& key = keys.front();
  std::string expiry = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(expires_at.time_since_epoch()).count());
  unsigned char mac[kMacBytes];
  if (!Mac(key, expiry, mac)) return std::nullopt;
  std::string token(kVersion);
  token += '.';
  token += key.id;
  token += '.';
  token += expiry;
  token += '.';
  token += Base64Url(mac, kMacBytes);
  return token;
}

BypassVerdict VerifyBypassToken(std::string_view token, const std::vector<config::TokenKey>& keys,
                                WallClock::time_point now, std::chrono::milliseconds max_ttl) {
  // v1.<kid>.<expiry>.<mac>
  std::string_view parts[4];
  std::string_view rest = token;
  for (int i = 0; i < 4; ++i) {
    size_t dot = rest.find('.');
    if (i < 3) {
      if (dot == std::string_view::npos) return BypassVerdict::kMalformed;
      parts[i] = rest.substr(0, dot);
      rest.remove_prefix(dot + 1);
    } else {
      if (dot != std::string_view::npos) return BypassVerdict::kMalformed;
      parts[i] = rest;
    }
  }
  if (parts[0] != kVersion || parts[1].empty() || parts[2].empty() || parts[2].size() > 12) {
    return BypassVerdict::kMalformed;
  }
  int64_t expiry = 0;
  auto [end, ec] = std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), expiry);
  if (ec != std::errc() || end != parts[2].data() + parts[2].size() || expiry <= 0) {
    return BypassVerdict::kMalformed;
  }
  const config::TokenKey* key = nullptr;
  for (const config::TokenKey& k : keys) {
    if (k.id == parts[1]) key = &k;
  }
  if (key == nullptr) return BypassVerdict::kUnknownKey;
  unsigned char mac[kMacBytes];
  if (!Mac(*key, parts[2], mac)) return BypassVerdict::kBadMac;
  std::string expected = Base64Url(mac, kMacBytes);
  if (parts[3].size() != expected.size() ||
      CRYPTO_memcmp(parts[3].data(), expected.data(), expected.size()) != 0) {
    return BypassVerdict::kBadMac;
  }
  auto expires = WallClock::time_point(std::chrono::seconds(expiry));
  if (expires <= now) return BypassVerdict::kExpired;
  if (expires > now + max_ttl + std::chrono::minutes(1)) return BypassVerdict::kTooFarAhead;
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

}  // namespace tidegate::maintenance
