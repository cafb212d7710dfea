// queue/join_challenge: the signed proof-of-work challenge of a join — an
// answer is accepted only when valid, fresh, for its room, with enough
// bits, and only once (issue 11).
#include "queue/join_challenge.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <string>

namespace tidegate::queue {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;
constexpr int kBits = 8;  // 256 tries on average: fast tests

JoinChallengeCodec Codec(const std::string& secret = "join-challenge-test-key-0123456789abcdef") {
  return JoinChallengeCodec(
      common::SignedTokenCodec(std::vector<common::SigningKey>{{"k1", secret}}));
}

std::string Solve(const std::string& token, int bits = kBits) {
  std::optional<std::string> answer = SolveChallenge(token, bits, 1u << 24);
  EXPECT_TRUE(answer) << token;
  return answer.value_or("");
}

TEST(JoinChallengeTest, LeadingZeroBitsCountsFromTheFirstByte) {
  unsigned char d[SHA256_DIGEST_LENGTH] = {};
  EXPECT_EQ(LeadingZeroBits(d), 256);
  d[0] = 0x80;
  EXPECT_EQ(LeadingZeroBits(d), 0);
  d[0] = 0x01;
  EXPECT_EQ(LeadingZeroBits(d), 7);
  d[0] = 0;
  d[1] = 0x10;
  EXPECT_EQ(LeadingZeroBits(d), 11);
}

TEST(JoinChallengeTest, AFreshSolvedAnswerIsValidAndCarriesItsChallenge) {
  JoinChallengeCodec codec = Codec();
  std::string token = codec.Issue("shop", kBits, kNow);
  ASSERT_FALSE(token.empty());
  std::string answer = Solve(token);
  ASSERT_EQ(answer.rfind(token + ".", 0), 0u) << "answer = token.counter";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(answer.data()), answer.size(), digest);
  EXPECT_GE(LeadingZeroBits(digest), kBits);
  JoinChallenge c;
  EXPECT_EQ(codec.Check(answer, "shop", kBits, kNow + 1'000, &c), AnswerCheck::kValid);
  EXPECT_EQ(c.room, "shop");
  EXPECT_EQ(c.issued_ms, kNow);
  EXPECT_EQ(c.bits, kBits);
  // Two challenges never share a nonce (the replay key).
  JoinChallenge other;
  ASSERT_EQ(codec.Check(Solve(codec.Issue("shop", kBits, kNow)), "shop", kBits, kNow, &other),
            AnswerCheck::kValid);
  EXPECT_NE(c.nonce, other.nonce);
}

TEST(JoinChallengeTest, StaleAndFutureAnswersAreRefused) {
  JoinChallengeCodec codec = Codec();
  std::string answer = Solve(codec.Issue("shop", kBits, kNow));
  EXPECT_EQ(codec.Check(answer, "shop", kBits, kNow + kMaxAnswerAgeMs, nullptr),
            AnswerCheck::kValid);
  EXPECT_EQ(codec.Check(answer, "shop", kBits, kNow + kMaxAnswerAgeMs + 1, nullptr),
            AnswerCheck::kStale);
  EXPECT_EQ(codec.Check(answer, "shop", kBits, kNow - kClockSkewMs - 1, nullptr),
            AnswerCheck::kStale);
}

TEST(JoinChallengeTest, AnotherRoomsChallengeIsRefused) {
  JoinChallengeCodec codec = Codec();
  std::string answer = Solve(codec.Issue("drop", kBits, kNow));
  EXPECT_EQ(codec.Check(answer, "shop", kBits, kNow, nullptr), AnswerCheck::kForeignRoom);
  EXPECT_EQ(codec.Check(answer, "drop", kBits, kNow, nullptr), AnswerCheck::kValid);
}

TEST(JoinChallengeTest, TamperedOrForeignKeyTokensAreRefused) {
  JoinChallengeCodec codec = Codec();
  JoinChallenge c{"shop", kNow, 42, kBits};
  std::string token = codec.Sign(c);
  // A client that lowers the bits in the body breaks the MAC.
  c.bits = 1;
  std::string lowered = codec.Sign(c);
  std::string forged =
      token.substr(0, token.find('.') + 1) +
      lowered.substr(lowered.find('.') + 1, lowered.rfind('.') - lowered.find('.')) +
      token.substr(token.rfind('.') + 1);
  EXPECT_EQ(codec.Check(Solve(forged, kBits), "shop", kBits, kNow, nullptr), AnswerCheck::kForged);
  // Signed by another secret.
  JoinChallengeCodec stranger = Codec("another-secret-of-the-same-size-0123456789");
  EXPECT_EQ(codec.Check(Solve(stranger.Issue("shop", kBits, kNow)), "shop", kBits, kNow, nullptr),
            AnswerCheck::kForged);
  // A wait or pass token of the same keys is no challenge.
  common::SignedTokenCodec same(
      std::vector<common::SigningKey>{{"k1", "join-challenge-test-key-0123456789abcdef"}});
  std::string wait = same.Sign(common::TokenPurpose::kWait, "shop|1|1800000000000|0|16");
  EXPECT_EQ(codec.Check(Solve(wait), "shop", kBits, kNow, nullptr), AnswerCheck::kForged);
  // Garbage.
  for (std::string_view bad : {"", ".", "abc", "k1.x.y.", "k1.x.y.12a", "k1.x.y.-1"}) {
    EXPECT_EQ(codec.Check(bad, "shop", 0, kNow, nullptr), AnswerCheck::kMalformed) << bad;
  }
}

TEST(JoinChallengeTest, TooFewBitsAreRefused) {
  JoinChallengeCodec codec = Codec();
  std::string token = codec.Issue("shop", kBits, kNow);
  // A counter that is not a solution: find one with fewer than kBits zeros.
  for (int n = 0; n < 100; ++n) {
    std::string answer = token + "." + std::to_string(n);
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(answer.data()), answer.size(), d);
    if (LeadingZeroBits(d) >= kBits) continue;
    EXPECT_EQ(codec.Check(answer, "shop", kBits, kNow, nullptr), AnswerCheck::kNoWork);
    break;
  }
  // The room asks more than the challenge was issued with (raised by a reload).
  std::string easy = Solve(codec.Issue("shop", 4, kNow), 4);
  EXPECT_EQ(codec.Check(easy, "shop", 4, kNow, nullptr), AnswerCheck::kValid);
  std::string enough_work = Solve(codec.Issue("shop", 4, kNow), kBits + 2);
  EXPECT_EQ(codec.Check(enough_work, "shop", kBits, kNow, nullptr), AnswerCheck::kTooEasy);
}

TEST(ChallengeReplaysTest, AnAnswerIsUsedOnceUntilItExpires) {
  ChallengeReplays replays;
  EXPECT_TRUE(replays.FirstUse(7, kNow + 1'000, kNow));
  EXPECT_FALSE(replays.FirstUse(7, kNow + 1'000, kNow + 10)) << "replayed";
  EXPECT_TRUE(replays.FirstUse(8, kNow + 1'000, kNow + 10));
  // Once expired the answer itself is stale: the slot is free again.
  EXPECT_TRUE(replays.FirstUse(7, kNow + 5'000, kNow + 2'000));
}

TEST(ChallengeReplaysTest, MemoryStaysBoundedUnderAFlood) {
  ChallengeReplays replays;
  const uint64_t n = ChallengeReplays::kReplaySlots + ChallengeReplays::kReplaySlots / 2;
  for (uint64_t i = 1; i <= n; ++i) replays.FirstUse(i, kNow + 60'000, kNow);
  EXPECT_GT(replays.evicted_live(), 0u) << "more live answers than slots: the oldest go";
  // Recent answers are still remembered.
  uint64_t remembered = 0;
  for (uint64_t i = n - 1000; i <= n; ++i)
    remembered += replays.FirstUse(i, kNow + 60'000, kNow) ? 0 : 1;
  EXPECT_GT(remembered, 990u);
}

}  // namespace
}  // namespace tidegate::queue
