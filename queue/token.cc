#include "queue/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

namespace tidegate::queue {
namespace {

constexpr std::string_view kMacContext = "tidegate.v1|";
constexpr size_t kMacBytes = 32;

std::string Hmac(std::string_view secret, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &length);
  return std::string(reinterpret_cast<char*>(out), length);
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
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1 || text.size() > 4096) return std::nullopt;
  std::string in(text);
  for (char& c : in) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (c == '+' || c == '/' || c == '=') {
      return std::nullopt;  // not base64url
    }
  }
  size_t padding = (4 - in.size() % 4) % 4;
  in.append(padding, '=');
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0 || static_cast<size_t>(n) < padding) return std::nullopt;
  out.resize(static_cast<size_t>(n) - padding);
  // Reject non-canonical encodings (stray bits in the last character), so a
  // token has exactly one accepted spelling.
  if (Base64UrlEncode(out) != text) return std::nullopt;
  return out;
}

TokenCodec::TokenCodec(std::vector<SigningKey> keys) : keys_(std::move(keys)) {}

std::string TokenCodec::Sign(const std::string& payload) const {
  const SigningKey& key = keys_.front();
  std::string message = std::string(kMacContext) + key.id + "|" + payload;
  return key.id + "." + Base64UrlEncode(payload) + "." + Base64UrlEncode(Hmac(key.secret, message));
}

std::optional<std::string> TokenCodec::Open(std::string_view text) const {
  if (text.size() > 1024) return std::nullopt;
  std::vector<std::string_view> parts = Split(text, '.');
  if (parts.size() != 3) return std::nullopt;
  const SigningKey* key = nullptr;
  for (const SigningKey& k : keys_) {
    if (k.id == parts[0]) key = &k;
  }
  if (key == nullptr) return std::nullopt;  // unknown or retired key id
  std::optional<std::string> payload = Base64UrlDecode(parts[1]);
  std::optional<std::string> mac = Base64UrlDecode(parts[2]);
  if (!payload || !mac || mac->size() != kMacBytes) return std::nullopt;
  std::string expected = Hmac(key->secret, std::string(kMacContext) + key->id + "|" + *payload);
  if (CRYPTO_memcmp(expected.data(), mac->data(), kMacBytes) != 0) return std::nullopt;
  return payload;
}

std::string TokenCodec::SignWait(const WaitToken& t) const {
  return Sign("w|" + t.room + "|" + std::to_string(t.ticket) + "|" + std::to_string(t.issued_ms) +
              "|" + std::to_string(t.expires_ms));
}

std::string TokenCodec::SignPass(const PassToken& t) const {
  return Sign("p|" + t.room + "|" + std::to_string(t.admitted_ms) + "|" + std::to_string(t.bucket) +
              "|" + std::to_string(t.expires_ms));
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
  std::string mac =
      Hmac(keys_.front().secret, std::string(kMacContext) + "derive|" + std::string(label));
  return Base64UrlEncode(mac);
}

}  // namespace tidegate::queue
