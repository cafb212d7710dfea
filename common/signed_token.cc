#include "common/signed_token.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstring>
#include <mutex>

namespace tidegate::common {

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

// A key id and its HMAC-SHA256 context keyed with the secret (null if
// OpenSSL failed), plus spare copies of it: a signature borrows one, resets
// it to the keyed state (EVP_MAC_init without a key) and gives it back, so
// the steady state allocates nothing. The mutex guards `spare` only.
struct SignedTokenCodec::KeyedMac {
  std::string id;
  MacCtx keyed;
  std::mutex mutex;
  std::vector<MacCtx> spare;
};

namespace {

constexpr size_t kMacBytes = 32;
constexpr size_t kMacChars = Base64UrlLength(kMacBytes);  // 43
// MAC contexts of the two formats (see the header).
constexpr std::string_view kEncodedContext = "tidegate.v1|";
constexpr std::string_view kBypassContext = "tidegate-bypass\n";
constexpr std::string_view kBypassVersion = "v1";
// Longest body of a token, so that it stays under kMaxTokenChars.
constexpr size_t kMaxPayloadBytes = SignedTokenCodec::kMaxTokenChars / 4 * 3 - 64;

// At most this many spare contexts per key (one per concurrent signer).
constexpr size_t kMaxSpare = 64;

// "w|", "p|" or "c|" before the body of an encoded token.
std::string_view Tag(TokenPurpose purpose) {
  if (purpose == TokenPurpose::kJoinChallenge) return "c|";
  return purpose == TokenPurpose::kWait ? std::string_view("w|") : std::string_view("p|");
}

// An HMAC-SHA256 context keyed with `secret` (null on an OpenSSL failure).
MacCtx KeyedContext(std::string_view secret) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return nullptr;
  MacCtx ctx(EVP_MAC_CTX_new(mac));
  EVP_MAC_free(mac);  // the context holds its own reference
  if (!ctx) return nullptr;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                   params) != 1) {
    return nullptr;
  }
  return ctx;
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
    auto key = std::make_unique<KeyedMac>();
    key->id = std::move(k.id);
    key->keyed = KeyedContext(k.secret);
    keys_.push_back(std::move(key));
  }
}

SignedTokenCodec::~SignedTokenCodec() = default;
SignedTokenCodec::SignedTokenCodec(SignedTokenCodec&&) noexcept = default;
SignedTokenCodec& SignedTokenCodec::operator=(SignedTokenCodec&&) noexcept = default;

std::string_view SignedTokenCodec::signing_key_id() const {
  return keys_.empty() ? std::string_view() : std::string_view(keys_.front()->id);
}

// HMAC of the concatenation of `parts` with `key`.
bool SignedTokenCodec::Mac(KeyedMac& key, std::initializer_list<std::string_view> parts,
                           unsigned char* out) {
  if (!key.keyed) return false;
  MacCtx ctx;
  {
    std::lock_guard<std::mutex> lock(key.mutex);
    if (!key.spare.empty()) {
      ctx = std::move(key.spare.back());
      key.spare.pop_back();
    }
  }
  if (ctx) {
    if (EVP_MAC_init(ctx.get(), nullptr, 0, nullptr) != 1) ctx.reset();  // back to keyed
  }
  if (!ctx) ctx.reset(EVP_MAC_CTX_dup(key.keyed.get()));
  if (!ctx) return false;
  bool ok = true;
  for (std::string_view part : parts) {
    ok = ok && EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(part.data()),
                              part.size()) == 1;
  }
  size_t length = 0;
  ok = ok && EVP_MAC_final(ctx.get(), out, &length, kMacBytes) == 1 && length == kMacBytes;
  if (ok) {
    std::lock_guard<std::mutex> lock(key.mutex);
    if (key.spare.size() < kMaxSpare) key.spare.push_back(std::move(ctx));
  }
  return ok;
}

SignedTokenCodec::KeyedMac* SignedTokenCodec::Find(std::string_view id) const {
  for (const std::unique_ptr<KeyedMac>& k : keys_) {
    if (k->id == id) return k.get();
  }
  return nullptr;
}

std::string SignedTokenCodec::Sign(TokenPurpose purpose, std::string_view body) const {
  if (keys_.empty() || body.size() > kMaxPayloadBytes) return "";
  KeyedMac& key = *keys_.front();
  unsigned char mac[kMacBytes];
  std::string out;
  if (purpose == TokenPurpose::kBypass) {
    if (body.empty() || body.find('.') != std::string_view::npos) return "";
    if (!Mac(key, {kBypassContext, key.id, "\n", body}, mac)) return "";
    out.reserve(kBypassVersion.size() + key.id.size() + body.size() + 3 + kMacChars);
    out.append(kBypassVersion).append(".").append(key.id).append(".").append(body).append(".");
  } else {
    // The payload ("w|" or "p|", then the body) on the stack: no temporary.
    char payload[kMaxPayloadBytes + 2];
    std::string_view tag = Tag(purpose);
    std::memcpy(payload, tag.data(), tag.size());
    std::memcpy(payload + tag.size(), body.data(), body.size());
    std::string_view signed_bytes(payload, tag.size() + body.size());
    if (!Mac(key, {kEncodedContext, key.id, "|", signed_bytes}, mac)) return "";
    out.reserve(key.id.size() + 2 + Base64UrlLength(signed_bytes.size()) + kMacChars);
    out.append(key.id).push_back('.');
    AppendBase64Url(signed_bytes, &out);
    out.push_back('.');
  }
  AppendBase64Url(AsChars(mac, kMacBytes), &out);
  return out;
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
  if (!Mac(*key, {kEncodedContext, key->id, "|", payload}, expected) ||
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
  if (!Mac(*key, {kBypassContext, key->id, "\n", parts[2]}, expected) ||
      CRYPTO_memcmp(expected, mac, kMacBytes) != 0) {
    return TokenCheck::kBadMac;
  }
  *body = parts[2];
  return TokenCheck::kValid;
}

std::string SignedTokenCodec::DerivedSecret(std::string_view label) const {
  unsigned char mac[kMacBytes];
  if (keys_.empty() || !Mac(*keys_.front(), {kEncodedContext, "derive|", label}, mac)) return "";
  return Base64UrlEncode(AsChars(mac, kMacBytes));
}

}  // namespace tidegate::common
