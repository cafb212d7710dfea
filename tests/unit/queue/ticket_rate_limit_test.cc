// queue/ticket_rate_limit: max_tickets_per_ip_per_minute, counted per IPv4
// address (mapped IPv6 included) and per IPv6 /64, in bounded memory.
#include "queue/ticket_rate_limit.h"

#include <gtest/gtest.h>

#include <string>

namespace tidegate::queue {
namespace {

constexpr int64_t kMinute = 1'800'000'040'000 / 60'000 * 60'000;  // a window's start

int Allowed(TicketRateLimiter& limiter, const std::string& ip, uint32_t cap, int tries,
            int64_t now = kMinute) {
  int allowed = 0;
  for (int i = 0; i < tries; ++i) allowed += limiter.Allow(ip, cap, now) ? 1 : 0;
  return allowed;
}

TEST(TicketRateLimitTest, IPv4AddressesAreCountedOneByOne) {
  TicketRateLimiter limiter;
  EXPECT_EQ(Allowed(limiter, "203.0.113.7", 5, 8), 5);
  EXPECT_EQ(Allowed(limiter, "203.0.113.8", 5, 8), 5) << "the neighbour has its own count";
}

TEST(TicketRateLimitTest, IPv4MappedClientsCountAsTheirIPv4Address) {
  TicketRateLimiter limiter;
  EXPECT_EQ(Allowed(limiter, "203.0.113.7", 5, 3), 3);
  EXPECT_EQ(Allowed(limiter, "::ffff:203.0.113.7", 5, 5), 2);
  EXPECT_EQ(ClientNetworkKey("::ffff:203.0.113.7"), ClientNetworkKey("203.0.113.7"));
}

TEST(TicketRateLimitTest, IPv6AddressesAreCountedPerSlash64) {
  TicketRateLimiter limiter;
  // A client rotating through its /64 does not escape the cap.
  EXPECT_EQ(limiter.Allow("2001:db8:1:2::1", 3, kMinute), true);
  EXPECT_EQ(limiter.Allow("2001:db8:1:2:ffff::9", 3, kMinute), true);
  EXPECT_EQ(limiter.Allow("2001:db8:1:2:abcd:1234:5678:9abc", 3, kMinute), true);
  EXPECT_EQ(limiter.Allow("2001:db8:1:2::77", 3, kMinute), false);
  EXPECT_EQ(limiter.Allow("2001:db8:1:3::1", 3, kMinute), true) << "another /64";
  EXPECT_EQ(ClientNetworkKey("2001:db8:1:2::1"), ClientNetworkKey("2001:db8:1:2:ffff::2"));
  EXPECT_NE(ClientNetworkKey("2001:db8:1:2::1"), ClientNetworkKey("2001:db8:1:3::1"));
  EXPECT_EQ(ClientNetworkKey("fe80::1%eth0"), ClientNetworkKey("fe80::2"));
}

TEST(TicketRateLimitTest, TheCountStartsAgainEachMinute) {
  TicketRateLimiter limiter;
  EXPECT_EQ(Allowed(limiter, "198.51.100.1", 2, 3, kMinute + 59'000), 2);
  EXPECT_EQ(Allowed(limiter, "198.51.100.1", 2, 3, kMinute + 60'000), 2);
  EXPECT_EQ(TicketRateLimiter::SecondsToNextWindow(kMinute + 59'000), 1);
  EXPECT_EQ(TicketRateLimiter::SecondsToNextWindow(kMinute), 60);
}

TEST(TicketRateLimitTest, ZeroMeansNoCapAndUnparsableAddressesAreNotLimited) {
  TicketRateLimiter limiter;
  EXPECT_EQ(Allowed(limiter, "203.0.113.7", 0, 1000), 1000);
  EXPECT_EQ(Allowed(limiter, "not-an-address", 1, 10), 10);
  EXPECT_FALSE(ClientNetworkKey(""));
  EXPECT_FALSE(ClientNetworkKey("300.1.1.1"));
}

TEST(TicketRateLimitTest, MemoryIsBoundedAndAFullTableNeverRefusesAShopper) {
  TicketRateLimiter limiter;
  // Far more networks in one minute than slots: none is refused.
  int refused = 0;
  for (uint32_t i = 0; i < TicketRateLimiter::kSlots * 2; ++i) {
    std::string ip = std::to_string(10 + (i >> 16 & 0xff)) + "." + std::to_string(i >> 8 & 0xff) +
                     "." + std::to_string(i & 0xff) + ".1";
    refused += limiter.Allow(ip, 1, kMinute) ? 0 : 1;
  }
  EXPECT_EQ(refused, 0);
  EXPECT_GT(limiter.untracked(), 0u);
  // Next minute, the slots are free again and counting works.
  EXPECT_EQ(Allowed(limiter, "192.0.2.1", 1, 3, kMinute + 60'000), 1);
}

}  // namespace
}  // namespace tidegate::queue
