// maintenance/bypass_token and cidr_match: the two staff bypasses.
#include <gtest/gtest.h>

#include "maintenance/bypass_token.h"
#include "maintenance/cidr_match.h"

namespace tidegate::maintenance {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

std::vector<config::TokenKey> Keys() {
  return {{"k2", "", std::string(40, 'b')}, {"k1", "", std::string(40, 'a')}};
}

const WallClock::time_point kNow = WallClock::time_point(seconds(1'795'000'000));

TEST(BypassTokenTest, MintedTokenVerifiesUntilItExpires) {
  auto token = MintBypassToken(Keys(), kNow + hours(1));
  ASSERT_TRUE(token);
  EXPECT_EQ(token->rfind("v1.k2.", 0), 0u) << *token;  // the first key signs
  EXPECT_EQ(VerifyBypassToken(*token, Keys(), kNow, hours(24)), BypassVerdict::kValid);
  EXPECT_EQ(VerifyBypassToken(*token, Keys(), kNow + minutes(59), hours(24)),
            BypassVerdict::kValid);
  EXPECT_EQ(VerifyBypassToken(*token, Keys(), kNow + hours(1), hours(24)), BypassVerdict::kExpired);
}

TEST(BypassTokenTest, EveryKeyVerifiesRetiredKeysDoNot) {
  std::vector<config::TokenKey> old_first = {Keys()[1]};
  auto token = MintBypassToken(old_first, kNow + hours(1));
  ASSERT_TRUE(token);
  EXPECT_EQ(VerifyBypassToken(*token, Keys(), kNow, hours(24)), BypassVerdict::kValid);
  std::vector<config::TokenKey> retired = {Keys()[0]};
  EXPECT_EQ(VerifyBypassToken(*token, retired, kNow, hours(24)), BypassVerdict::kUnknownKey);
  EXPECT_FALSE(MintBypassToken({}, kNow + hours(1)));
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

TEST(BypassTokenTest, ExpiryBeyondTheMaximumLifetimeIsRefused) {
  auto token = MintBypassToken(Keys(), kNow + hours(48));
  EXPECT_EQ(VerifyBypassToken(*token, Keys(), kNow, hours(24)), BypassVerdict::kTooFarAhead);
  EXPECT_EQ(VerifyBypassToken(*token, Keys(), kNow + hours(25), hours(24)), BypassVerdict::kValid);
}

TEST(BypassTokenTest, SetCookieAttributes) {
  EXPECT_EQ(BypassSetCookie("T", false, seconds(60)),
            "tg_bypass=T; Path=/; Max-Age=60; HttpOnly; SameSite=Lax");
  EXPECT_EQ(BypassSetCookie("T", true, seconds(60)),
            "__Host-tg_bypass=T; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Lax");
}

config::CidrBlock Block(bool v6, std::vector<uint8_t> bytes, int len) {
  config::CidrBlock b;
  b.ipv6 = v6;
  std::copy(bytes.begin(), bytes.end(), b.bytes.begin());
  b.prefix_len = len;
  return b;
}

TEST(CidrMatchTest, IPv4AndIPv6) {
  std::vector<config::CidrBlock> blocks = {
      Block(false, {10, 20, 0, 0}, 16), Block(false, {127, 0, 0, 1}, 32),
      Block(true, {0x20, 0x01, 0x0d, 0xb8}, 32), Block(false, {192, 168, 1, 128}, 25)};
  EXPECT_TRUE(AddressInBlocks("10.20.3.4", blocks));
  EXPECT_FALSE(AddressInBlocks("10.21.3.4", blocks));
  EXPECT_TRUE(AddressInBlocks("127.0.0.1", blocks));
  EXPECT_FALSE(AddressInBlocks("127.0.0.2", blocks));
  EXPECT_TRUE(AddressInBlocks("192.168.1.200", blocks));
  EXPECT_FALSE(AddressInBlocks("192.168.1.127", blocks));
  EXPECT_TRUE(AddressInBlocks("2001:db8::1", blocks));
  EXPECT_FALSE(AddressInBlocks("2001:db9::1", blocks));
  EXPECT_TRUE(AddressInBlocks("::ffff:10.20.0.1", blocks));  // IPv4-mapped
  EXPECT_FALSE(AddressInBlocks("unknown", blocks));
  EXPECT_FALSE(AddressInBlocks("", blocks));
  EXPECT_FALSE(AddressInBlocks("10.20.3.4", {}));
  std::vector<config::CidrBlock> all = {Block(false, {0, 0, 0, 0}, 0)};
  EXPECT_TRUE(AddressInBlocks("8.8.8.8", all));
  EXPECT_FALSE(AddressInBlocks("::1", all));
}

}  // namespace
}  // namespace tidegate::maintenance
