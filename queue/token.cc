#include "queue/token.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <charconv>
#include <initializer_list>
#include <mutex>

#include "queue/pass_cache.h"

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

template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  if (text.empty() || text.size() > 20 || text[0] == '-' || text[0] == '+') return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The five fields of a verified payload of `purpose` for `room`; false
// when it has another shape.
using PayloadFields = std::array<std::string_view, 5>;
bool Fields(std::string_view payload, char purpose, std::string_view room, PayloadFields* f) {
  size_t start = 0;
  for (size_t i = 0; i < f->size(); ++i) {
    size_t end = payload.find('|', start);
    bool last = i + 1 == f->size();
    if ((end == std::string_view::npos) != last) return false;  // too few or too many
    (*f)[i] = payload.substr(start, last ? std::string_view::npos : end - start);
    start = end + 1;
  }
  return (*f)[0].size() == 1 && (*f)[0][0] == purpose && (*f)[1] == room;
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

size_t Base64UrlDecodeTo(std::string_view text, char* out) {
  constexpr size_t kBad = std::string_view::npos;
  if (text.size() % 4 == 1) return kBad;
  char* o = out;
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
      return kBad;  // not base64url (padding, '+', '/' included)
    }
    bits = (bits << 6) | v;
    if (++count == 4) {
      *o++ = static_cast<char>(bits >> 16);
      *o++ = static_cast<char>((bits >> 8) & 0xff);
      *o++ = static_cast<char>(bits & 0xff);
      bits = 0;
      count = 0;
    }
  }
  // A partial group: the stray low bits must be zero, so a token has
  // exactly one accepted spelling.
  if (count == 2) {
    if ((bits & 0xf) != 0) return kBad;
    *o++ = static_cast<char>(bits >> 4);
  } else if (count == 3) {
    if ((bits & 0x3) != 0) return kBad;
    *o++ = static_cast<char>(bits >> 10);
    *o++ = static_cast<char>((bits >> 2) & 0xff);
  }
  return static_cast<size_t>(o - out);
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() > 4096) return std::nullopt;
  std::string out(text.size() / 4 * 3 + 2, '\0');
  size_t n = Base64UrlDecodeTo(text, out.data());
  if (n == std::string_view::npos) return std::nullopt;
  out.resize(n);
  return out;
}

TokenCodec::TokenCodec(std::vector<SigningKey> keys) : pass_cache_(std::make_unique<PassCache>()) {
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

bool TokenCodec::Open(std::string_view text, char (&buffer)[kMaxPayloadBytes],
                      std::string_view* payload) const {
  if (text.size() > kMaxTokenChars) return false;
  size_t dot1 = text.find('.');
  if (dot1 == std::string_view::npos) return false;
  size_t dot2 = text.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || text.find('.', dot2 + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view id = text.substr(0, dot1);
  KeyedMac* key = nullptr;
  for (const std::unique_ptr<KeyedMac>& k : keys_) {
    if (k->id == id) key = k.get();
  }
  if (key == nullptr) return false;  // unknown or retired key id
  // 32 MAC bytes are 43 base64url characters, exactly.
  std::string_view mac_text = text.substr(dot2 + 1);
  char mac[kMacBytes + 2];
  if (mac_text.size() != (kMacBytes * 4 + 2) / 3 || Base64UrlDecodeTo(mac_text, mac) != kMacBytes) {
    return false;
  }
  size_t n = Base64UrlDecodeTo(text.substr(dot1 + 1, dot2 - dot1 - 1), buffer);
  if (n == std::string_view::npos) return false;
  *payload = std::string_view(buffer, n);
  unsigned char expected[kMacBytes];
  if (!Mac(*key, {kMacContext, key->id, "|", *payload}, expected)) return false;
  return CRYPTO_memcmp(expected, mac, kMacBytes) == 0;
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
  char buffer[kMaxPayloadBytes];
  std::string_view payload;
  PayloadFields f;
  if (!Open(text, buffer, &payload) || !Fields(payload, 'w', room, &f)) return std::nullopt;
  WaitToken t;
  if (!ParseNumber(f[2], &t.ticket) || !ParseNumber(f[3], &t.issued_ms) ||
      !ParseNumber(f[4], &t.expires_ms) || t.ticket == 0 ||
      !TimesValid(t.issued_ms, t.expires_ms, now_ms)) {
    return std::nullopt;
  }
  t.room = std::string(room);
  return t;
}

std::optional<PassToken> TokenCodec::VerifyPass(std::string_view text, std::string_view room,
                                                int64_t now_ms) const {
  if (std::optional<PassToken> known = pass_cache_->Find(text, room)) {
    if (!TimesValid(known->admitted_ms, known->expires_ms, now_ms)) return std::nullopt;
    return known;
  }
  char buffer[kMaxPayloadBytes];
  std::string_view payload;
  PayloadFields f;
  if (!Open(text, buffer, &payload) || !Fields(payload, 'p', room, &f)) return std::nullopt;
  PassToken t;
  if (!ParseNumber(f[2], &t.admitted_ms) || !ParseNumber(f[3], &t.bucket) ||
      !ParseNumber(f[4], &t.expires_ms) || !TimesValid(t.admitted_ms, t.expires_ms, now_ms)) {
    return std::nullopt;
  }
  t.room = std::string(room);
  pass_cache_->Insert(text, t);
  return t;
}

std::string TokenCodec::DerivedSecret(std::string_view label) const {
  unsigned char mac[kMacBytes];
  if (!Mac(*keys_.front(), {kMacContext, "derive|", label}, mac)) return "";
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), kMacBytes));
}

}  // namespace tidegate::queue
