#include "queue/join_challenge.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <charconv>

#include "common/hex.h"

namespace tidegate::queue {
namespace {

constexpr size_t kMaxCounterDigits = 20;
constexpr size_t kProbe = 8;  // slots looked at per nonce

// The next '|'-separated field of `rest` (consumed).
std::string_view Field(std::string_view* rest) {
  size_t bar = rest->find('|');
  std::string_view field = rest->substr(0, bar);
  *rest = bar == std::string_view::npos ? std::string_view() : rest->substr(bar + 1);
  return field;
}

template <typename T>
bool ParseNumber(std::string_view text, T* out, int base = 10) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out, base);
  return ec == std::errc() && end == text.data() + text.size();
}

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// SplitMix64: spreads a nonce over the shards and slots.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// SHA-256 with the algorithm fetched once per process: OpenSSL 3's one-shot
// SHA256() fetches it on every call (about half the cost of a short input).
void Sha256(std::string_view data, unsigned char* out) {
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (kSha256 == nullptr ||
      EVP_Digest(data.data(), data.size(), out, nullptr, kSha256, nullptr) != 1) {
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  }
}

}  // namespace

int LeadingZeroBits(const unsigned char* digest) {
  int bits = 0;
  for (size_t i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    if (digest[i] == 0) {
      bits += 8;
      continue;
    }
    return bits + __builtin_clz(static_cast<unsigned>(digest[i])) - 24;
  }
  return bits;
}

std::string JoinChallengeCodec::Sign(const JoinChallenge& c) const {
  static constexpr char kHex[] = "0123456789abcdef";
  char nonce[16];
  for (int i = 0; i < 16; ++i) nonce[i] = kHex[(c.nonce >> (60 - 4 * i)) & 0xF];
  std::string body;
  body.reserve(c.room.size() + 48);
  body.append(c.room).append("|").append(std::to_string(c.issued_ms)).append("|");
  body.append(nonce, sizeof nonce).append("|").append(std::to_string(c.bits));
  return codec_.Sign(common::TokenPurpose::kJoinChallenge, body);
}

std::string JoinChallengeCodec::Issue(std::string_view room, int bits, int64_t now_ms) const {
  JoinChallenge c{std::string(room), now_ms, 0, bits};
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&c.nonce), sizeof c.nonce) != 1) return "";
  return Sign(c);
}

AnswerCheck JoinChallengeCodec::Check(std::string_view answer, std::string_view room, int min_bits,
                                      int64_t now_ms, JoinChallenge* out) const {
  size_t dot = answer.rfind('.');
  if (dot == std::string_view::npos || answer.size() > common::SignedTokenCodec::kMaxTokenChars) {
    return AnswerCheck::kMalformed;
  }
  std::string_view counter = answer.substr(dot + 1);
  if (!AllDigits(counter) || counter.size() > kMaxCounterDigits) return AnswerCheck::kMalformed;
  // The cheap check first: a client that did no work costs one SHA-256.
  unsigned char digest[SHA256_DIGEST_LENGTH];
  Sha256(answer, digest);
  int zeros = LeadingZeroBits(digest);
  if (zeros < min_bits) return AnswerCheck::kNoWork;

  common::SignedTokenCodec::BodyBuffer buffer;
  std::string_view body;
  common::TokenCheck check =
      codec_.Open(common::TokenPurpose::kJoinChallenge, answer.substr(0, dot), buffer, &body);
  if (check == common::TokenCheck::kMalformed) return AnswerCheck::kMalformed;
  if (check != common::TokenCheck::kValid) return AnswerCheck::kForged;
  std::string_view rest = body;
  std::string_view room_field = Field(&rest);
  JoinChallenge c;
  if (!ParseNumber(Field(&rest), &c.issued_ms) || !ParseNumber(Field(&rest), &c.nonce, 16) ||
      !ParseNumber(Field(&rest), &c.bits) || !rest.empty()) {
    return AnswerCheck::kMalformed;  // signed by us: only a format change gets here
  }
  if (room_field != room) return AnswerCheck::kForeignRoom;
  if (c.issued_ms > now_ms + kClockSkewMs || now_ms - c.issued_ms > kMaxAnswerAgeMs) {
    return AnswerCheck::kStale;
  }
  if (c.bits < min_bits) return AnswerCheck::kTooEasy;
  if (zeros < c.bits) return AnswerCheck::kNoWork;
  c.room = std::string(room_field);
  if (out != nullptr) *out = std::move(c);
  return AnswerCheck::kValid;
}

std::optional<std::string> SolveChallenge(std::string_view token, int bits, uint64_t max_tries) {
  std::string answer(token);
  answer.push_back('.');
  size_t prefix = answer.size();
  for (uint64_t n = 0; n < max_tries; ++n) {
    answer.resize(prefix);
    answer += std::to_string(n);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    Sha256(answer, digest);
    if (LeadingZeroBits(digest) >= bits) return answer;
  }
  return std::nullopt;
}

ChallengeReplays::ChallengeReplays() : shards_(new Shard[kShards]) {}
ChallengeReplays::~ChallengeReplays() = default;

bool ChallengeReplays::FirstUse(uint64_t nonce, int64_t expires_ms, int64_t now_ms) {
  uint64_t h = Mix(nonce);
  Shard& shard = shards_[h % kShards];
  size_t start = static_cast<size_t>((h / kShards) % kSlotsPerShard);
  std::lock_guard<std::mutex> lock(shard.mutex);
  if (shard.slots.empty()) shard.slots.resize(kSlotsPerShard);
  Slot* free_slot = nullptr;
  Slot* oldest = nullptr;
  for (size_t i = 0; i < kProbe; ++i) {
    Slot& s = shard.slots[(start + i) % kSlotsPerShard];
    bool live = s.expires_ms > now_ms;
    if (live && s.nonce == nonce) return false;
    if (!live && free_slot == nullptr) free_slot = &s;
    if (oldest == nullptr || s.expires_ms < oldest->expires_ms) oldest = &s;
  }
  if (free_slot == nullptr) {
    free_slot = oldest;
    evicted_live_.fetch_add(1, std::memory_order_relaxed);
  }
  free_slot->nonce = nonce;
  free_slot->expires_ms = std::max<int64_t>(expires_ms, now_ms + 1);
  return true;
}

}  // namespace tidegate::queue
