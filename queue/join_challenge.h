// The proof-of-work a newcomer solves before a room gives it a place
// ([rooms.NAME] join_challenge = "pow"; docs/waiting-room.md, "Threat model"
// and "Join challenge (wire format)").
//
// Wire format:
// * challenge token = common::SignedTokenCodec token of purpose
//   kJoinChallenge ("<key id>.<base64url("c|" + body)>.<base64url(mac)>"),
//   body = "<room>|<issued ms>|<nonce: 16 hex digits>|<bits>". Stateless:
//   nothing is stored when a challenge is handed out.
// * answer = "<token>.<counter>", counter = 1-20 decimal digits, such that
//   SHA-256(answer bytes) starts with at least <bits> zero bits. Sent back in
//   the request header `Tidegate-Challenge` (kAnswerHeader).
//
// Checking an answer costs one SHA-256 over the answer, one HMAC over the
// body, and one look-up in the room's replay memory: an answer is accepted
// once, only for its room, only while fresh (issued at most kMaxAnswerAgeMs
// ago, at most kClockSkewMs in the future), only with at least the room's
// current number of bits.
//
// Contract:
// * JoinChallengeCodec: immutable after construction, thread-safe (const
//   methods), built from [secrets].token_keys (first key signs, every key
//   verifies). Issue() draws the nonce from OpenSSL's RAND_bytes.
// * ChallengeReplays: the bounded replay memory of one room, shared by
//   every worker (it lives in queue::RoomRuntime, which outlives reloads);
//   thread-safe (64 mutex-protected shards). Memory: kReplaySlots entries of
//   16 bytes (4 MB), allocated shard by shard on first use, so a room
//   without the challenge costs nothing. When a shard's probe window is full
//   of live entries the oldest one is forgotten (counted in evicted_live()):
//   memory stays bounded and only that old answer could be replayed.
//   Per process: instances sharing Redis do not share it (docs say so).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/signed_token.h"

namespace tidegate::queue {

inline constexpr std::string_view kAnswerHeader = "Tidegate-Challenge";
// How long a challenge can be answered (a slow phone, a background tab).
inline constexpr int64_t kMaxAnswerAgeMs = 120'000;
inline constexpr int64_t kClockSkewMs = 5'000;

struct JoinChallenge {
  std::string room;
  int64_t issued_ms = 0;
  uint64_t nonce = 0;
  int bits = 0;
};

enum class AnswerCheck {
  kValid,
  kMalformed,    // not "<token>.<counter>", or the token does not parse
  kForged,       // bad MAC, unknown key, another purpose
  kForeignRoom,  // a challenge of another room
  kStale,        // too old, or from the future
  kTooEasy,      // issued with fewer bits than the room asks now
  kNoWork,       // SHA-256(answer) lacks the leading zero bits
};

// Leading zero bits of a 32-byte digest.
int LeadingZeroBits(const unsigned char* digest);

class JoinChallengeCodec {
 public:
  explicit JoinChallengeCodec(common::SignedTokenCodec codec) : codec_(std::move(codec)) {}

  // A fresh challenge token for `room` ("" without keys).
  std::string Issue(std::string_view room, int bits, int64_t now_ms) const;
  // Checks `answer` (the header's value) for `room`; on kValid, *challenge
  // holds the solved challenge (its nonce keys the replay memory).
  AnswerCheck Check(std::string_view answer, std::string_view room, int min_bits, int64_t now_ms,
                    JoinChallenge* challenge) const;

  // Signs a given challenge (tests, and the C++ solver of the tests).
  std::string Sign(const JoinChallenge& challenge) const;

 private:
  common::SignedTokenCodec codec_;
};

// Finds the answer to `token` for `bits` by brute force (tests and the
// benchmark; a real client does this in the browser). nullopt after
// `max_tries`.
std::optional<std::string> SolveChallenge(std::string_view token, int bits, uint64_t max_tries);

class ChallengeReplays {
 public:
  static constexpr size_t kShards = 64;
  static constexpr size_t kSlotsPerShard = 4096;
  static constexpr size_t kReplaySlots = kShards * kSlotsPerShard;

  ChallengeReplays();
  ~ChallengeReplays();
  // Records the challenge `nonce`, remembered until `expires_ms`. False when
  // it is already remembered (a replay).
  bool FirstUse(uint64_t nonce, int64_t expires_ms, int64_t now_ms);
  uint64_t evicted_live() const { return evicted_live_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    uint64_t nonce = 0;
    int64_t expires_ms = 0;  // 0 = free
  };
  struct Shard {
    std::mutex mutex;
    std::vector<Slot> slots;  // empty until first use
  };
  std::unique_ptr<Shard[]> shards_;
  std::atomic<uint64_t> evicted_live_{0};
};

}  // namespace tidegate::queue
