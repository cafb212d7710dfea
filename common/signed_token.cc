#include "common/signed_token.h"

#include "common/hmac_sha256.h"

#include <openssl/crypto.h>

#include <cstring>

namespace tidegate::common {

// A key id and its pre-keyed HMAC-SHA256 (common/hmac_sha256.h).
struct SignedTokenCodec::KeyedMac {
  std::string id;
  HmacSha256 mac;
  // `mac` with the encoded format's context ("tidegate.v1|<id>|") already
  // hashed: a wait or pass token's MAC hashes only its payload.
  HmacSha256 encoded;
};

namespace {

constexpr size_t kMacBytes = SignedTokenCodec::kMacBytes;
constexpr size_t kMacChars = SignedTokenCodec::kMacChars;
// MAC contexts of the two formats (see the header).
constexpr std::string_view kEncodedContext = "tidegate.v1|";
constexpr std::string_view kBypassContext = "tidegate-bypass\n";
constexpr std::string_view kBypassVersion = "v1";
// Longest body of a token, so that it stays under kMaxTokenChars.
constexpr size_t kMaxPayloadBytes = SignedTokenCodec::kMaxTokenChars / 4 * 3 - 64;

// "w|", "p|" or "c|" before the body of an encoded token.
std::string_view Tag(TokenPurpose purpose) {
  if (purpose == TokenPurpose::kJoinChallenge) return "c|";
  return purpose == TokenPurpose::kWait ? std::string_view("w|") : std::string_view("p|");
}

std::string_view AsChars(const unsigned char* bytes, size_t n) {
  return std::string_view(reinterpret_cast<const char*>(bytes), n);
}

// Decodes a 43-character MAC; false when it is anything else.
bool DecodeMac(std::string_view text, unsigned char* out) {
  char mac[kMacBytes + 2];
  if (text.size() != kMacChars || Base64UrlDecodeTo(text, mac) != kMacBytes) return false;
  std::memcpy(out, mac, kMacBytes);
  return true;
}

}  // namespace

SignedTokenCodec::SignedTokenCodec(std::vector<SigningKey> keys) {
  keys_.reserve(keys.size());
  for (SigningKey& k : keys) {
    HmacSha256 mac(k.secret);
    std::string context = std::string(kEncodedContext) + k.id + "|";
    HmacSha256 encoded = mac.WithPrefix(context);
    keys_.push_back(std::make_unique<KeyedMac>(KeyedMac{std::move(k.id), mac, encoded}));
  }
}

SignedTokenCodec::~SignedTokenCodec() = default;
SignedTokenCodec::SignedTokenCodec(SignedTokenCodec&&) noexcept = default;
SignedTokenCodec& SignedTokenCodec::operator=(SignedTokenCodec&&) noexcept = default;

std::string_view SignedTokenCodec::signing_key_id() const {
  return keys_.empty() ? std::string_view() : std::string_view(keys_.front()->id);
}

// HMAC of the concatenation of `parts` with `key`.
bool SignedTokenCodec::Mac(const HmacSha256& mac, std::initializer_list<std::string_view> parts,
                           unsigned char* out) {
  mac.Compute(parts, out);
  return true;
}

SignedTokenCodec::KeyedMac* SignedTokenCodec::Find(std::string_view id) const {
  for (const std::unique_ptr<KeyedMac>& k : keys_) {
    if (k->id == id) return k.get();
  }
  return nullptr;
}

std::string SignedTokenCodec::Sign(TokenPurpose purpose, std::string_view body) const {
  std::string out;
  AppendSigned(purpose, body, &out);
  return out;
}

bool SignedTokenCodec::AppendSigned(TokenPurpose purpose, std::string_view body,
                                    std::string* out) const {
  if (keys_.empty() || body.size() > kMaxPayloadBytes) return false;
  KeyedMac& key = *keys_.front();
  unsigned char mac[kMacBytes];
  if (purpose == TokenPurpose::kBypass) {
    if (body.empty() || body.find('.') != std::string_view::npos) return false;
    if (!Mac(key.mac, {kBypassContext, key.id, "\n", body}, mac)) return false;
    out->reserve(out->size() + kBypassVersion.size() + key.id.size() + body.size() + 3 + kMacChars);
    out->append(kBypassVersion).append(".").append(key.id).append(".").append(body).append(".");
  } else {
    // The payload ("w|" or "p|", then the body) on the stack: no temporary.
    char payload[kMaxPayloadBytes + 2];
    std::string_view tag = Tag(purpose);
    std::memcpy(payload, tag.data(), tag.size());
    std::memcpy(payload + tag.size(), body.data(), body.size());
    std::string_view signed_bytes(payload, tag.size() + body.size());
    if (!Mac(key.encoded, {signed_bytes}, mac)) return false;  // "tidegate.v1|<id>|" + payload
    out->reserve(out->size() + key.id.size() + 2 + Base64UrlLength(signed_bytes.size()) +
                 kMacChars);
    out->append(key.id).push_back('.');
    AppendBase64Url(signed_bytes, out);
    out->push_back('.');
  }
  AppendBase64Url(AsChars(mac, kMacBytes), out);
  return true;
}

TokenCheck SignedTokenCodec::Open(TokenPurpose purpose, std::string_view text, BodyBuffer& buffer,
                                  std::string_view* body) const {
  if (text.size() > kMaxTokenChars) return TokenCheck::kMalformed;
  if (purpose == TokenPurpose::kBypass) return OpenBypass(text, body);
  return OpenEncoded(purpose, text, buffer, body);
}

// "<key id>.<base64url(payload)>.<base64url(mac)>"
TokenCheck SignedTokenCodec::OpenEncoded(TokenPurpose purpose, std::string_view text,
                                         BodyBuffer& buffer, std::string_view* body) const {
  size_t dot1 = text.find('.');
  if (dot1 == std::string_view::npos) return TokenCheck::kMalformed;
  size_t dot2 = text.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || text.find('.', dot2 + 1) != std::string_view::npos) {
    return TokenCheck::kMalformed;
  }
  KeyedMac* key = Find(text.substr(0, dot1));
  if (key == nullptr) return TokenCheck::kUnknownKey;  // unknown or retired key id
  unsigned char mac[kMacBytes];
  if (!DecodeMac(text.substr(dot2 + 1), mac)) return TokenCheck::kBadMac;
  size_t n = Base64UrlDecodeTo(text.substr(dot1 + 1, dot2 - dot1 - 1), buffer);
  if (n == std::string_view::npos) return TokenCheck::kMalformed;
  std::string_view payload(buffer, n);
  unsigned char expected[kMacBytes];
  if (!Mac(key->encoded, {payload}, expected) ||  // "tidegate.v1|<id>|" + payload
      CRYPTO_memcmp(expected, mac, kMacBytes) != 0) {
    return TokenCheck::kBadMac;
  }
  // Checked after the MAC, as before: the purpose is part of the signed bytes.
  std::string_view tag = Tag(purpose);
  if (payload.substr(0, tag.size()) != tag) return TokenCheck::kWrongPurpose;
  *body = payload.substr(tag.size());
  return TokenCheck::kValid;
}

// "v1.<key id>.<body>.<base64url(mac)>"
TokenCheck SignedTokenCodec::OpenBypass(std::string_view text, std::string_view* body) const {
  std::string_view parts[4];
  std::string_view rest = text;
  for (int i = 0; i < 3; ++i) {
    size_t dot = rest.find('.');
    if (dot == std::string_view::npos) return TokenCheck::kMalformed;
    parts[i] = rest.substr(0, dot);
    rest.remove_prefix(dot + 1);
  }
  if (rest.find('.') != std::string_view::npos) return TokenCheck::kMalformed;
  parts[3] = rest;
  if (parts[0] != kBypassVersion || parts[1].empty() || parts[2].empty()) {
    return TokenCheck::kMalformed;
  }
  KeyedMac* key = Find(parts[1]);
  if (key == nullptr) return TokenCheck::kUnknownKey;
  unsigned char mac[kMacBytes];
  if (!DecodeMac(parts[3], mac)) return TokenCheck::kBadMac;
  unsigned char expected[kMacBytes];
  if (!Mac(key->mac, {kBypassContext, key->id, "\n", parts[2]}, expected) ||
      CRYPTO_memcmp(expected, mac, kMacBytes) != 0) {
    return TokenCheck::kBadMac;
  }
  *body = parts[2];
  return TokenCheck::kValid;
}

std::string SignedTokenCodec::DerivedSecret(std::string_view label) const {
  unsigned char mac[kMacBytes];
  if (keys_.empty() || !Mac(keys_.front()->mac, {kEncodedContext, "derive|", label}, mac))
    return "";
  return Base64UrlEncode(AsChars(mac, kMacBytes));
}

}  // namespace tidegate::common
