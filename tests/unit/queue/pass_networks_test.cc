// queue/pass_networks: at most kMaxNetworks client networks may use one pass
// session within the window; the network a pass records (IPv4 exact, IPv6
// by /64, keyed); bounded memory.
#include "queue/pass_networks.h"

#include <gtest/gtest.h>

#include <string>

namespace tidegate::queue {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;
constexpr uint64_t kKey = 0x0123456789abcdefULL;
constexpr size_t K = PassNetworks::kMaxNetworks;

uint32_t Net(const std::string& ip) { return PassNetworkOf(kKey, ip); }

TEST(PassNetworkOfTest, IPv4ExactIPv6BySlash64MappedAsIPv4AndKeyed) {
  EXPECT_NE(Net("203.0.113.7"), 0u);
  EXPECT_NE(Net("203.0.113.7"), Net("203.0.113.8")) << "each IPv4 address is its own network";
  EXPECT_EQ(Net("::ffff:203.0.113.7"), Net("203.0.113.7"));
  EXPECT_EQ(Net("2001:db8:1:2::1"), Net("2001:db8:1:2:ffff::9")) << "one /64";
  EXPECT_NE(Net("2001:db8:1:2::1"), Net("2001:db8:1:3::1"));
  EXPECT_NE(PassNetworkOf(kKey + 1, "203.0.113.7"), Net("203.0.113.7")) << "keyed by the room";
  EXPECT_EQ(Net(""), 0u) << "not known";
  EXPECT_EQ(Net("unix"), 0u);
  EXPECT_EQ(Net("203.0.113"), 0u);
}

TEST(PassNetworksTest, AtMostKNetworksPerSessionWithinTheWindow) {
  PassNetworks table;
  for (uint32_t n = 1; n <= K; ++n) EXPECT_TRUE(table.Use(7, n, kNow)) << n;
  EXPECT_FALSE(table.Use(7, K + 1, kNow)) << "one network too many";
  EXPECT_FALSE(table.Use(7, K + 2, kNow + 1000));
  for (uint32_t n = 1; n <= K; ++n) EXPECT_TRUE(table.Use(7, n, kNow + 2000)) << "still theirs";
  EXPECT_TRUE(table.Use(8, K + 1, kNow)) << "another session has its own networks";
}

TEST(PassNetworksTest, ANetworkNotSeenWithinTheWindowFreesItsSlot) {
  PassNetworks table;
  for (uint32_t n = 1; n <= K; ++n) ASSERT_TRUE(table.Use(7, n, kNow));
  // Networks 2..K keep being used (renewals); network 1 is gone.
  int64_t later = kNow + PassNetworks::kWindowMillis / 2;
  for (uint32_t n = 2; n <= K; ++n) ASSERT_TRUE(table.Use(7, n, later));
  EXPECT_FALSE(table.Use(7, 99, later));
  int64_t past = kNow + PassNetworks::kWindowMillis;
  EXPECT_TRUE(table.Use(7, 99, past)) << "network 1's slot is free once the window passed";
  EXPECT_FALSE(table.Use(7, 1, past)) << "and network 1 is now one too many";
}

// One shopper moving over Wi-Fi, cellular and back, dual stack, keeps going.
TEST(PassNetworksTest, AShopperRoamingOverItsNetworksIsNeverRefused) {
  PassNetworks table;
  uint32_t wifi4 = Net("192.0.2.10"), wifi6 = Net("2001:db8:a::10");
  uint32_t cell4 = Net("198.51.100.20"), cell6 = Net("2001:db8:b::20");
  int64_t t = kNow;
  for (int round = 0; round < 30; ++round, t += 10'000) {
    for (uint32_t n : {wifi4, wifi6, cell4, cell6}) EXPECT_TRUE(table.Use(7, n, t)) << round;
  }
}

TEST(PassNetworksTest, UnknownNetworksAndSessionsAreNeitherCountedNorRefused) {
  PassNetworks table;
  for (uint32_t n = 1; n <= K; ++n) ASSERT_TRUE(table.Use(7, n, kNow));
  EXPECT_TRUE(table.Use(7, 0, kNow)) << "the client's address is not known";
  for (uint32_t n = 1; n <= 10; ++n)
    EXPECT_TRUE(table.Use(0, n, kNow)) << "a pass without a session";
  EXPECT_EQ(table.sessions(), 1u);
}

TEST(PassNetworksTest, MemoryIsBoundedAndStaleSessionsAreSwept) {
  PassNetworks table;
  uint64_t session = 1;
  for (; session <= PassNetworks::kSessions + 1000; ++session) table.Use(session, 1, kNow);
  EXPECT_LE(table.sessions(), PassNetworks::kSessions);
  EXPECT_GT(table.untracked(), 0u) << "a session that cannot be tracked is let through";
  // A window later the stale sessions are swept as new ones come.
  int64_t later = kNow + PassNetworks::kWindowMillis;
  for (uint64_t s = 1; s <= 1000; ++s) EXPECT_TRUE(table.Use(session + s, 1, later));
  EXPECT_LT(table.sessions(), PassNetworks::kSessions / 2);
}

}  // namespace
}  // namespace tidegate::queue
