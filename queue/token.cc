#include "queue/token.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <random>

#include "queue/pass_cache.h"

namespace tidegate::queue {
namespace {

using common::TokenCheck;
using common::TokenPurpose;

template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  if (text.empty() || text.size() > 20 || text[0] == '-' || text[0] == '+') return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The room and the numbers of a verified body ("<room>|<a>|<b>|<c>[|<d>[|<e>]]",
// the purpose already stripped by the codec): `count` fields are stored
// (4 to 6); false when it has another shape or names another room.
using BodyFields = std::array<std::string_view, 6>;
bool Fields(std::string_view body, std::string_view room, size_t min_fields, BodyFields* f,
            size_t* count) {
  size_t start = 0;
  size_t n = 0;
  while (true) {
    if (n == f->size()) return false;  // too many
    size_t end = body.find('|', start);
    (*f)[n++] = body.substr(start, end == std::string_view::npos ? end : end - start);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  *count = n;
  return n >= min_fields && (*f)[0] == room;
}

bool TimesValid(int64_t start_ms, int64_t expires_ms, int64_t now_ms) {
  return expires_ms > now_ms && start_ms <= now_ms + kClockSkewMillis;
}

// A token body built on the stack: "<room>|<a>|<b>|<c>[|<d>[|<e>]]" with no
// allocation for room names up to kMaxRoom bytes (the configuration allows
// 64 characters); a longer name, which only a caller outside the
// configuration can pass, is built on the heap instead, so that whatever
// verifies signs again to a token that verifies (fuzz/fuzz_token.cc).
class Body {
 public:
  explicit Body(std::string_view room) {
    if (room.size() > kMaxRoom) {
      heap_.assign(room);
      return;
    }
    size_ = room.size();
    std::memcpy(data_, room.data(), size_);
  }
  template <typename T>
  Body& Field(T number) {
    if (heap_.empty()) {
      // Straight into the buffer (room for five fields is always there).
      if (size_ + 1 + kMaxDigits > sizeof data_) return *this;  // never
      data_[size_] = '|';
      char* first = data_ + size_ + 1;
      auto [end, ec] = std::to_chars(first, first + kMaxDigits, number);
      if (ec == std::errc()) size_ = static_cast<size_t>(end - data_);
      return *this;
    }
    char digits[kMaxDigits];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, number);
    if (ec != std::errc()) return *this;  // never: a 64-bit number fits
    heap_ += '|';
    heap_.append(digits, static_cast<size_t>(end - digits));
    return *this;
  }
  std::string_view view() const {
    return heap_.empty() ? std::string_view(data_, size_) : std::string_view(heap_);
  }

 private:
  static constexpr size_t kMaxRoom = 128;
  static constexpr size_t kMaxDigits = 20;  // a 64-bit number
  char data_[kMaxRoom + 5 * (1 + kMaxDigits)];
  size_t size_ = 0;
  std::string heap_;  // the body when the room name is longer than kMaxRoom
};

// Opens `text` as a token of `purpose` for `room`: its fields view `buffer`.
bool Open(const common::SignedTokenCodec& codec, TokenPurpose purpose, std::string_view text,
          std::string_view room, common::SignedTokenCodec::BodyBuffer& buffer, BodyFields* f,
          size_t* count) {
  std::string_view body;
  return codec.Open(purpose, text, buffer, &body) == TokenCheck::kValid &&
         Fields(body, room, 4, f, count);
}

}  // namespace

uint64_t NewSessionId() {
  uint64_t id = 0;
  while (id == 0) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof id) != 1) {
      thread_local std::mt19937_64 fallback{std::random_device{}()};
      id = fallback();
    }
  }
  return id;
}

TokenCodec::TokenCodec(std::vector<SigningKey> keys)
    : codec_(std::move(keys)), pass_cache_(std::make_unique<PassCache>()) {}

TokenCodec::~TokenCodec() = default;
TokenCodec::TokenCodec(TokenCodec&&) noexcept = default;
TokenCodec& TokenCodec::operator=(TokenCodec&&) noexcept = default;

std::string TokenCodec::SignWait(const WaitToken& t) const {
  std::string out;
  AppendWait(t, &out);
  return out;
}

std::string TokenCodec::SignPass(const PassToken& t) const {
  std::string out;
  AppendPass(t, &out);
  return out;
}

bool TokenCodec::AppendWait(const WaitToken& t, std::string* out) const {
  Body body(t.room);
  body.Field(t.ticket).Field(t.issued_ms).Field(t.expires_ms);
  if (t.issuer != 0) body.Field(t.issuer);  // 0: the store's ticket (the format from before)
  return codec_.AppendSigned(TokenPurpose::kWait, body.view(), out);
}

bool TokenCodec::AppendPass(const PassToken& t, std::string* out) const {
  Body body(t.room);
  body.Field(t.admitted_ms).Field(t.bucket).Field(t.expires_ms);
  // 0: the formats from before session ids, and before networks.
  if (t.session != 0) {
    body.Field(t.session);
    if (t.network != 0) body.Field(t.network);
  }
  return codec_.AppendSigned(TokenPurpose::kPass, body.view(), out);
}

namespace {

// A well-formed, correctly signed wait token of `room`, times not checked
// (its `room` left empty: the caller names it once the times are right).
std::optional<WaitToken> OpenWait(const common::SignedTokenCodec& codec, std::string_view text,
                                  std::string_view room) {
  common::SignedTokenCodec::BodyBuffer buffer;
  BodyFields f;
  size_t count = 0;
  if (!Open(codec, TokenPurpose::kWait, text, room, buffer, &f, &count) || count > 5) {
    return std::nullopt;
  }
  WaitToken t;
  if (!ParseNumber(f[1], &t.ticket) || !ParseNumber(f[2], &t.issued_ms) ||
      !ParseNumber(f[3], &t.expires_ms) || t.ticket == 0) {
    return std::nullopt;
  }
  // Five fields: the issuer (never 0); four: the store's ticket (token.h).
  if (count == 5 && (!ParseNumber(f[4], &t.issuer) || t.issuer == 0)) return std::nullopt;
  return t;
}

}  // namespace

std::optional<WaitToken> TokenCodec::VerifyWait(std::string_view text, std::string_view room,
                                                int64_t now_ms) const {
  std::optional<WaitToken> t = OpenWait(codec_, text, room);
  if (!t || !TimesValid(t->issued_ms, t->expires_ms, now_ms)) return std::nullopt;
  t->room = std::string(room);
  return t;
}

std::optional<WaitToken> TokenCodec::VerifyLapsedWait(std::string_view text, std::string_view room,
                                                      int64_t now_ms, int64_t within_ms) const {
  std::optional<WaitToken> t = OpenWait(codec_, text, room);
  if (!t || t->expires_ms > now_ms || now_ms - t->expires_ms >= within_ms ||
      t->issued_ms > t->expires_ms) {
    return std::nullopt;
  }
  t->room = std::string(room);
  return t;
}

std::optional<PassToken> TokenCodec::VerifyPass(std::string_view text, std::string_view room,
                                                int64_t now_ms) const {
  if (std::optional<PassToken> known = pass_cache_->Find(text, room)) {
    if (!TimesValid(known->admitted_ms, known->expires_ms, now_ms)) return std::nullopt;
    return known;
  }
  common::SignedTokenCodec::BodyBuffer buffer;
  BodyFields f;
  size_t count = 0;
  if (!Open(codec_, TokenPurpose::kPass, text, room, buffer, &f, &count)) return std::nullopt;
  PassToken t;
  if (!ParseNumber(f[1], &t.admitted_ms) || !ParseNumber(f[2], &t.bucket) ||
      !ParseNumber(f[3], &t.expires_ms) || !TimesValid(t.admitted_ms, t.expires_ms, now_ms)) {
    return std::nullopt;
  }
  // Six fields: the session id and the network (neither 0); five: a pass
  // from before networks (network 0); four: a pass from before session ids
  // (session 0, see token.h).
  if (count >= 5 && (!ParseNumber(f[4], &t.session) || t.session == 0)) return std::nullopt;
  if (count == 6 && (!ParseNumber(f[5], &t.network) || t.network == 0)) return std::nullopt;
  t.room = std::string(room);
  pass_cache_->Insert(text, t);
  return t;
}

std::string TokenCodec::DerivedSecret(std::string_view label) const {
  return codec_.DerivedSecret(label);
}

uint64_t TokenCodec::ClaimSessionId(const WaitToken& wait) const {
  std::string label = "claim|" + wait.room + "|" + std::to_string(wait.ticket) + "|" +
                      std::to_string(wait.issued_ms);
  if (wait.issuer != 0) label += "|" + std::to_string(wait.issuer);
  std::string secret = codec_.DerivedSecret(label);  // base64url of a MAC
  // The first 66 bits of the MAC, folded into 64 (the low 2 shifted out).
  uint64_t id = 0;
  for (size_t i = 0; i < secret.size() && i < 11; ++i) {
    char c = secret[i];
    uint64_t v = c >= 'A' && c <= 'Z'   ? c - 'A'
                 : c >= 'a' && c <= 'z' ? c - 'a' + 26
                 : c >= '0' && c <= '9' ? c - '0' + 52
                 : c == '-'             ? 62
                                        : 63;
    id = (id << 6) | v;
  }
  return id != 0 ? id : 1;
}

}  // namespace tidegate::queue
