// [rooms.NAME] keys added by the waiting room: refresh_interval and bypass
// rules (scheduled events: room_events_config_test.cc).
#include <gtest/gtest.h>

#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::LoadWithMinimal;

constexpr char kRoom[] = "[rooms.shop]\nmatch = [\"^/\"]\nmode = \"off\"\n";

TEST(RoomKeysTest, DefaultsAndBypassRules) {
  LoadResult plain = LoadWithMinimal(kRoom);
  ASSERT_TRUE(plain.ok()) << AllErrors(plain);
  EXPECT_EQ(plain.config->rooms[0].refresh_interval, Duration(5'000));
  EXPECT_TRUE(plain.config->rooms[0].bypass_ips.empty());

  LoadResult result = LoadWithMinimal(std::string(kRoom) +
                                      "refresh_interval = \"2s\"\n"
                                      "bypass_ips = [\"10.0.0.0/8\", \"192.168.1.7\", \"::1\"]\n"
                                      "bypass_paths = [\"^/static/\", \"\\\\.css$\"]\n"
                                      "bypass_header = \"X-Load-Test\"\n"
                                      "bypass_cookie = \"tg_bypass\"\n"
                                      "bypass_secret_file = \"keys/good\"\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  const RoomConfig& room = result.config->rooms[0];
  EXPECT_EQ(room.refresh_interval, Duration(2'000));
  ASSERT_EQ(room.bypass_ips.size(), 3u);
  EXPECT_EQ(room.bypass_ips[0].prefix_len, 8);
  EXPECT_FALSE(room.bypass_ips[0].ipv6);
  EXPECT_EQ(room.bypass_ips[0].bytes[0], 10);
  EXPECT_EQ(room.bypass_ips[1].prefix_len, 32);
  EXPECT_TRUE(room.bypass_ips[2].ipv6);
  EXPECT_EQ(room.bypass_ips[2].prefix_len, 128);
  EXPECT_EQ(room.bypass_paths.size(), 2u);
  EXPECT_EQ(room.bypass_header, "X-Load-Test");
  EXPECT_GE(room.bypass_secret.size(), 16u);
}

TEST(RoomKeysTest, BadBypassRulesAreReported) {
  LoadResult result = LoadWithMinimal(std::string(kRoom) +
                                      "refresh_interval = \"500ms\"\n"
                                      "bypass_ips = [\"10.0.0.0/33\", \"shop.example\", "
                                      "\"10.0.0.1/8\"]\n"
                                      "bypass_paths = [\"(\"]\n"
                                      "bypass_header = \"X Bad\"\n");
  EXPECT_TRUE(HasError(result, "rooms.shop.refresh_interval", "out of range")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "rooms.shop.bypass_ips[0]", "prefix length")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "rooms.shop.bypass_ips[1]", "not an IP address"));
  // Host bits are an error, as in [maintenance].bypass_cidrs (they were
  // silently masked here before common/cidr.h).
  EXPECT_TRUE(HasError(result, "rooms.shop.bypass_ips[2]",
                       "has host bits set after /8; did you mean \"10.0.0.0/8\"?"));
  EXPECT_TRUE(HasError(result, "rooms.shop.bypass_paths[0]", "missing )"));
  EXPECT_TRUE(HasError(result, "rooms.shop.bypass_header", "not a header name"));
  EXPECT_TRUE(HasError(result, "rooms.shop.bypass_secret_file", "is required"));
  LoadResult short_secret = LoadWithMinimal(
      std::string(kRoom) + "bypass_cookie = \"b\"\nbypass_secret_file = \"keys/short\"\n");
  EXPECT_TRUE(HasError(short_secret, "rooms.shop.bypass_secret_file", "at least 16"))
      << AllErrors(short_secret);
}

// Issue 11: proof-of-work at joining and the per-address cap.
TEST(RoomKeysTest, JoinChallengeAndTicketCap) {
  LoadResult plain = LoadWithMinimal(kRoom);
  ASSERT_TRUE(plain.ok()) << AllErrors(plain);
  EXPECT_EQ(plain.config->rooms[0].join_challenge, JoinChallengeKind::kNone) << "off by default";
  EXPECT_EQ(plain.config->rooms[0].join_challenge_bits, 18u);
  EXPECT_EQ(plain.config->rooms[0].max_tickets_per_ip_per_minute, 60u);

  LoadResult set = LoadWithMinimal(std::string(kRoom) +
                                   "join_challenge = \"pow\"\njoin_challenge_bits = 12\n"
                                   "max_tickets_per_ip_per_minute = 0\n");
  ASSERT_TRUE(set.ok()) << AllErrors(set);
  EXPECT_EQ(set.config->rooms[0].join_challenge, JoinChallengeKind::kPow);
  EXPECT_EQ(set.config->rooms[0].join_challenge_bits, 12u);
  EXPECT_EQ(set.config->rooms[0].max_tickets_per_ip_per_minute, 0u);

  LoadResult bad = LoadWithMinimal(std::string(kRoom) +
                                   "join_challenge = \"captcha\"\njoin_challenge_bits = 40\n"
                                   "max_tickets_per_ip_per_minute = -1\njoin_chalenge_bits = 3\n");
  EXPECT_TRUE(HasError(bad, "rooms.shop.join_challenge", "not one of \"none\", \"pow\""))
      << AllErrors(bad);
  EXPECT_TRUE(HasError(bad, "rooms.shop.join_challenge_bits", "out of range")) << AllErrors(bad);
  EXPECT_TRUE(HasError(bad, "rooms.shop.max_tickets_per_ip_per_minute", "out of range"))
      << AllErrors(bad);
  EXPECT_TRUE(HasError(bad, "rooms.shop.join_chalenge_bits", "did you mean")) << AllErrors(bad);
}

}  // namespace
}  // namespace tidegate::config
