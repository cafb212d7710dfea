#include "queue/token.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <charconv>
#include <initializer_list>
#include <mutex>

namespace tidegate::queue {

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

// A key id and its HMAC-SHA256 context keyed with the secret (null if
// OpenSSL failed), plus spare copies of it: a signature borrows one, resets
// it to the keyed state (EVP_MAC_init without a key) and gives it back, so
// the steady state allocates nothing. The mutex guards `spare` only.
struct TokenCodec::KeyedMac {
  std::string id;
  MacCtx keyed;
  std::mutex mutex;
  std::vector<MacCtx> spare;
};

namespace {

constexpr std::string_view kMacContext = "tidegate.v1|";
constexpr size_t kMacBytes = 32;

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

// At most this many spare contexts per key (one per concurrent signer).
constexpr size_t kMaxSpare = 64;

}  // namespace

// HMAC of the concatenation of `parts` with `key`.
bool TokenCodec::Mac(KeyedMac& key, std::initializer_list<std::string_view> parts,
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

namespace {

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void AppendBase64Url(std::string_view bytes, std::string* out) {
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  size_t at = out->size();
  out->resize(at + n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1));
  char* o = out->data() + at;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    *o++ = kBase64Url[v >> 18];
    *o++ = kBase64Url[(v >> 12) & 63];
    *o++ = kBase64Url[(v >> 6) & 63];
    *o++ = kBase64Url[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = uint32_t{in[i]} << 16;
    *o++ = kBase64Url[v >> 18];
    *o++ = kBase64Url[(v >> 12) & 63];
  } else if (n - i == 2) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    *o++ = kBase64Url[v >> 18];
    *o++ = kBase64Url[(v >> 12) & 63];
    *o++ = kBase64Url[(v >> 6) & 63];
  }
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  if (text.empty() || text.size() > 20 || text[0] == '-' || text[0] == '+') return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The fields of a verified payload of `purpose` for `room`, or empty.
std::vector<std::string_view> Fields(std::string_view payload, char purpose,
                                     std::string_view room) {
  std::vector<std::string_view> fields = Split(payload, '|');
  if (fields.size() != 5 || fields[0].size() != 1 || fields[0][0] != purpose || fields[1] != room) {
    return {};
  }
  return fields;
}

bool TimesValid(int64_t start_ms, int64_t expires_ms, int64_t now_ms) {
  return expires_ms > now_ms && start_ms <= now_ms + kClockSkewMillis;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  AppendBase64Url(bytes, &out);
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1 || text.size() > 4096) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    uint32_t v;
    if (c >= 'A' && c <= 'Z') {
      v = static_cast<uint32_t>(c - 'A');
    } else if (c >= 'a' && c <= 'z') {
      v = static_cast<uint32_t>(c - 'a') + 26;
    } else if (c >= '0' && c <= '9') {
      v = static_cast<uint32_t>(c - '0') + 52;
    } else if (c == '-') {
      v = 62;
    } else if (c == '_') {
      v = 63;
    } else {
      return std::nullopt;  // not base64url (padding, '+', '/' included)
    }
    bits = (bits << 6) | v;
    if (++count == 4) {
      out.push_back(static_cast<char>(bits >> 16));
      out.push_back(static_cast<char>((bits >> 8) & 0xff));
      out.push_back(static_cast<char>(bits & 0xff));
      bits = 0;
      count = 0;
    }
  }
  // A partial group: the stray low bits must be zero, so a token has
  // exactly one accepted spelling.
  if (count == 2) {
    if ((bits & 0xf) != 0) return std::nullopt;
    out.push_back(static_cast<char>(bits >> 4));
  } else if (count == 3) {
    if ((bits & 0x3) != 0) return std::nullopt;
    out.push_back(static_cast<char>(bits >> 10));
    out.push_back(static_cast<char>((bits >> 2) & 0xff));
  }
  return out;
}

TokenCodec::TokenCodec(std::vector<SigningKey> keys) {
  keys_.reserve(keys.size());
  for (SigningKey& k : keys) {
    auto key = std::make_unique<KeyedMac>();
    key->id = std::move(k.id);
    key->keyed = KeyedContext(k.secret);
    keys_.push_back(std::move(key));
  }
}

TokenCodec::~TokenCodec() = default;
TokenCodec::TokenCodec(TokenCodec&&) noexcept = default;
TokenCodec& TokenCodec::operator=(TokenCodec&&) noexcept = default;

std::string TokenCodec::Sign(std::string_view payload) const {
  KeyedMac& key = *keys_.front();
  unsigned char mac[kMacBytes];
  if (!Mac(key, {kMacContext, key.id, "|", payload}, mac)) return "";
  std::string out;
  out.reserve(key.id.size() + 2 + (payload.size() + 2) / 3 * 4 + 43);
  out.append(key.id).push_back('.');
  AppendBase64Url(payload, &out);
  out.push_back('.');
  AppendBase64Url(std::string_view(reinterpret_cast<char*>(mac), kMacBytes), &out);
  return out;
}

std::optional<std::string> TokenCodec::Open(std::string_view text) const {
  if (text.size() > 1024) return std::nullopt;
  size_t dot1 = text.find('.');
  if (dot1 == std::string_view::npos) return std::nullopt;
  size_t dot2 = text.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || text.find('.', dot2 + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view id = text.substr(0, dot1);
  KeyedMac* key = nullptr;
  for (const std::unique_ptr<KeyedMac>& k : keys_) {
    if (k->id == id) key = k.get();
  }
  if (key == nullptr) return std::nullopt;  // unknown or retired key id
  std::optional<std::string> payload = Base64UrlDecode(text.substr(dot1 + 1, dot2 - dot1 - 1));
  std::optional<std::string> mac = Base64UrlDecode(text.substr(dot2 + 1));
  if (!payload || !mac || mac->size() != kMacBytes) return std::nullopt;
  unsigned char expected[kMacBytes];
  if (!Mac(*key, {kMacContext, key->id, "|", *payload}, expected)) return std::nullopt;
  if (CRYPTO_memcmp(expected, mac->data(), kMacBytes) != 0) return std::nullopt;
  return payload;
}

namespace {

template <typename T>
void AppendField(T number, std::string* out) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, number);
  out->push_back('|');
  out->append(digits, end);
}

// "<purpose>|<room>|<a>|<b>|<c>" with no temporary strings.
template <typename A>
std::string Payload(char purpose, std::string_view room, A a, int64_t b, int64_t c) {
  std::string out;
  out.reserve(room.size() + 2 + 3 * 21);
  out.push_back(purpose);
  out.push_back('|');
  out.append(room);
  AppendField(a, &out);
  AppendField(b, &out);
  AppendField(c, &out);
  return out;
}

}  // namespace

std::string TokenCodec::SignWait(const WaitToken& t) const {
  return Sign(Payload('w', t.room, t.ticket, t.issued_ms, t.expires_ms));
}

std::string TokenCodec::SignPass(const PassToken& t) const {
  return Sign(Payload('p', t.room, t.admitted_ms, t.bucket, t.expires_ms));
}

std::optional<WaitToken> TokenCodec::VerifyWait(std::string_view text, std::string_view room,
                                                int64_t now_ms) const {
  std::optional<std::string> payload = Open(text);
  if (!payload) return std::nullopt;
  std::vector<std::string_view> f = Fields(*payload, 'w', room);
  WaitToken t;
  if (f.empty() || !ParseNumber(f[2], &t.ticket) || !ParseNumber(f[3], &t.issued_ms) ||
      !ParseNumber(f[4], &t.expires_ms) || t.ticket == 0 ||
      !TimesValid(t.issued_ms, t.expires_ms, now_ms)) {
    return std::nullopt;
  }
  t.room = std::string(room);
  return t;
}

std::optional<PassToken> TokenCodec::VerifyPass(std::string_view text, std::string_view room,
                                                int64_t now_ms) const {
  std::optional<std::string> payload = Open(text);
  if (!payload) return std::nullopt;
  std::vector<std::string_view> f = Fields(*payload, 'p', room);
  PassToken t;
  if (f.empty() || !ParseNumber(f[2], &t.admitted_ms) || !ParseNumber(f[3], &t.bucket) ||
      !ParseNumber(f[4], &t.expires_ms) || !TimesValid(t.admitted_ms, t.expires_ms, now_ms)) {
    return std::nullopt;
  }
  t.room = std::string(room);
  return t;
}

std::string TokenCodec::DerivedSecret(std::string_view label) const {
  unsigned char mac[kMacBytes];
  if (!Mac(*keys_.front(), {kMacContext, "derive|", label}, mac)) return "";
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), kMacBytes));
}

}  // namespace tidegate::queue
