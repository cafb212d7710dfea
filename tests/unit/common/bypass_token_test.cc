// common/bypass_token: the staff bypass cookie over the signed-token codec.
#include "common/bypass_token.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tidegate::common {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

SignedTokenCodec Keys() {
  return SignedTokenCodec({{"k2", std::string(40, 'b')}, {"k1", std::string(40, 'a')}});
}

using WallTime = std::chrono::system_clock::time_point;
const WallTime kNow = WallTime(seconds(1'795'000'000));

TEST(BypassTokenTest, MintedTokenVerifiesUntilItExpires) {
  auto token = MintBypassToken(Keys(), kNow + hours(1));
  ASSERT_TRUE(token);
  EXPECT_EQ(token->rfind("v1.k2.1795003600.", 0), 0u) << *token;  // the first key signs
  EXPECT_EQ(VerifyBypassToken(*token, Keys(), kNow, hours(24)), BypassVerdict::kValid);
  EXPECT_EQ(VerifyBypassToken(*token, Keys(), kNow + minutes(59), hours(24)),
            BypassVerdict::kValid);
  EXPECT_EQ(VerifyBypassToken(*token, Keys(), kNow + hours(1), hours(24)), BypassVerdict::kExpired);
}

TEST(BypassTokenTest, EveryKeyVerifiesRetiredKeysDoNot) {
  auto token = MintBypassToken(SignedTokenCodec({{"k1", std::string(40, 'a')}}), kNow + hours(1));
  ASSERT_TRUE(token);
  EXPECT_EQ(VerifyBypassToken(*token, Keys(), kNow, hours(24)), BypassVerdict::kValid);
  SignedTokenCodec retired({{"k2", std::string(40, 'b')}});
  EXPECT_EQ(VerifyBypassToken(*token, retired, kNow, hours(24)), BypassVerdict::kUnknownKey);
  EXPECT_FALSE(MintBypassToken(SignedTokenCodec(std::vector<SigningKey>{}), kNow + hours(1)));
}

TEST(BypassTokenTest, TamperingIsRejected) {
  std::string token = *MintBypassToken(Keys(), kNow + hours(1));
  // A flipped character anywhere in the MAC.
  for (size_t i = token.rfind('.') + 1; i < token.size(); ++i) {
    std::string bad = token;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_EQ(VerifyBypassToken(bad, Keys(), kNow, hours(24)), BypassVerdict::kBadMac) << bad;
  }
  // A truncated MAC, a longer expiry, another key id, garbage.
  EXPECT_EQ(VerifyBypassToken(token.substr(0, token.size() - 1), Keys(), kNow, hours(24)),
            BypassVerdict::kBadMac);
  std::string later = token;
  later.replace(6, 10, std::to_string(1'795'000'000 + 7200));
  EXPECT_EQ(VerifyBypassToken(later, Keys(), kNow, hours(24)), BypassVerdict::kBadMac);
  std::string other_key = token;
  other_key.replace(3, 2, "k1");
  EXPECT_EQ(VerifyBypassToken(other_key, Keys(), kNow, hours(24)), BypassVerdict::kBadMac);
  for (const char* bad : {"", "v1", "v1...", "v2.k2.1795003600.abc", "v1.k2.-5.abc",
                          "v1.k2.12x.abc", "v1.k2.1795003600.abc.def", "v1.k9.1795003600.abc"}) {
    EXPECT_NE(VerifyBypassToken(bad, Keys(), kNow, hours(24)), BypassVerdict::kValid) << bad;
  }
}

// A waiting-room cookie signed with the same keys is no staff bypass.
TEST(BypassTokenTest, OtherPurposesAreNoBypass) {
  SignedTokenCodec codec = Keys();
  for (TokenPurpose purpose : {TokenPurpose::kWait, TokenPurpose::kPass}) {
    EXPECT_NE(VerifyBypassToken(codec.Sign(purpose, "1795003600"), codec, kNow, hours(24)),
              BypassVerdict::kValid);
  }
}

// A correctly signed body that is no expiry (never minted by tidegate).
TEST(BypassTokenTest, SignedBodiesThatAreNoExpiryAreMalformed) {
  SignedTokenCodec codec = Keys();
  for (const char* body : {"-5", "12x", "0", "1795003600000000", "soon"}) {
    EXPECT_EQ(VerifyBypassToken(codec.Sign(TokenPurpose::kBypass, body), codec, kNow, hours(24)),
              BypassVerdict::kMalformed)
        << body;
  }
}

TEST(BypassTokenTest, ExpiryBeyondTheMaximumLifetimeIsRefused) {
  auto token = MintBypassToken(Keys(), kNow + hours(48));
  EXPECT_EQ(VerifyBypassToken(*token, Keys(), kNow, hours(24)), BypassVerdict::kTooFarAhead);
  EXPECT_EQ(VerifyBypassToken(*token, Keys(), kNow + hours(25), hours(24)), BypassVerdict::kValid);
}

// Found by fuzz/fuzz_token.cc (fuzz/corpus/token/crash-bypass-expiry-overflow):
// a signed expiry of 11+ digits overflowed system_clock's nanoseconds
// (undefined behaviour; in practice it wrapped into the past: kExpired).
TEST(BypassTokenTest, FarFutureExpiryIsTooFarAheadNotAnOverflow) {
  SignedTokenCodec codec = Keys();
  for (const char* body : {"18101010100", "10000000000", "999999999999"}) {
    EXPECT_EQ(VerifyBypassToken(codec.Sign(TokenPurpose::kBypass, body), codec, kNow, hours(24)),
              BypassVerdict::kTooFarAhead)
        << body;
  }
  // The bounds themselves are unchanged, to the second.
  auto at = [&](seconds offset) {
    std::string body = std::to_string((kNow + offset).time_since_epoch() / seconds(1));
    return VerifyBypassToken(codec.Sign(TokenPurpose::kBypass, body), codec, kNow, hours(24));
  };
  EXPECT_EQ(at(seconds(0)), BypassVerdict::kExpired);
  EXPECT_EQ(at(seconds(1)), BypassVerdict::kValid);
  EXPECT_EQ(at(hours(24) + minutes(1)), BypassVerdict::kValid);
  EXPECT_EQ(at(hours(24) + minutes(1) + seconds(1)), BypassVerdict::kTooFarAhead);
}

TEST(BypassTokenTest, SetCookieAttributes) {
  EXPECT_EQ(BypassSetCookie("T", false, seconds(60)),
            "tg_bypass=T; Path=/; Max-Age=60; HttpOnly; SameSite=Lax");
  EXPECT_EQ(BypassSetCookie("T", true, seconds(60)),
            "__Host-tg_bypass=T; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Lax");
}

}  // namespace
}  // namespace tidegate::common
