// common/cidr: the one parser of bypass networks and the one matcher.
#include "common/cidr.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tidegate::common {
namespace {

CidrBlock Parsed(const std::string& text) {
  std::string error;
  std::optional<CidrBlock> block = ParseCidr(text, &error);
  EXPECT_TRUE(block) << text << ": " << error;
  return block.value_or(CidrBlock{});
}

std::string ErrorOf(const std::string& text) {
  std::string error;
  EXPECT_FALSE(ParseCidr(text, &error)) << text;
  return error;
}

TEST(CidrParseTest, IPv4AndIPv6NetworksAndBareAddresses) {
  CidrBlock v4 = Parsed("10.0.0.0/8");
  EXPECT_FALSE(v4.ipv6);
  EXPECT_EQ(v4.prefix_len, 8);
  EXPECT_EQ(v4.bytes[0], 10);
  EXPECT_EQ(v4.text, "10.0.0.0/8");
  CidrBlock host = Parsed("192.168.1.7");
  EXPECT_EQ(host.prefix_len, 32);
  EXPECT_EQ(host.bytes[3], 7);
  CidrBlock v6 = Parsed("2001:db8::/32");
  EXPECT_TRUE(v6.ipv6);
  EXPECT_EQ(v6.prefix_len, 32);
  EXPECT_EQ(v6.bytes[0], 0x20);
  EXPECT_EQ(v6.bytes[3], 0xb8);
  EXPECT_EQ(Parsed("::1").prefix_len, 128);
  EXPECT_EQ(Parsed("0.0.0.0/0").prefix_len, 0);
  EXPECT_EQ(Parsed("::/0").prefix_len, 0);
  EXPECT_EQ(Parsed("10.20.0.0/016").prefix_len, 16);
}

TEST(CidrParseTest, HostBitsAreAnErrorThatNamesTheNetwork) {
  EXPECT_EQ(ErrorOf("10.0.0.1/8"),
            "\"10.0.0.1/8\" has host bits set after /8; did you mean \"10.0.0.0/8\"?");
  EXPECT_EQ(ErrorOf("192.168.1.200/25"),
            "\"192.168.1.200/25\" has host bits set after /25; did you mean "
            "\"192.168.1.128/25\"?");
  EXPECT_EQ(ErrorOf("2001:db8::1/32"),
            "\"2001:db8::1/32\" has host bits set after /32; did you mean \"2001:db8::/32\"?");
  EXPECT_NE(ErrorOf("1.2.3.4/0").find("did you mean \"0.0.0.0/0\""), std::string::npos);
}

TEST(CidrParseTest, BadPrefixesAndAddressesAreRefused) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/abc",
                          "10.0.0.0/1234", "10.0.0.0/8/8", "::/129"}) {
    EXPECT_NE(ErrorOf(bad).find("prefix length must be 0-"), std::string::npos) << bad;
  }
  EXPECT_NE(ErrorOf("::/129").find("0-128"), std::string::npos);
  EXPECT_NE(ErrorOf("10.0.0.0/33").find("0-32"), std::string::npos);
  for (const char* bad : {"", "shop.example", "10.0.0", "10.0.0.256", "/8", " 10.0.0.0",
                          "10.0.0.0 /8", "2001:db8:::1"}) {
    EXPECT_NE(ErrorOf(bad).find("is not an IP address"), std::string::npos) << bad;
  }
}

TEST(CidrMatchTest, IPv4AndIPv6) {
  std::vector<CidrBlock> blocks = {Parsed("10.20.0.0/16"), Parsed("127.0.0.1"),
                                   Parsed("2001:db8::/32"), Parsed("192.168.1.128/25")};
  EXPECT_TRUE(InAnyBlock("10.20.3.4", blocks));
  EXPECT_FALSE(InAnyBlock("10.21.3.4", blocks));
  EXPECT_TRUE(InAnyBlock("127.0.0.1", blocks));
  EXPECT_FALSE(InAnyBlock("127.0.0.2", blocks));
  EXPECT_TRUE(InAnyBlock("192.168.1.200", blocks));
  EXPECT_FALSE(InAnyBlock("192.168.1.127", blocks));
  EXPECT_TRUE(InAnyBlock("2001:db8::1", blocks));
  EXPECT_FALSE(InAnyBlock("2001:db9::1", blocks));
  EXPECT_FALSE(InAnyBlock("unknown", blocks));
  EXPECT_FALSE(InAnyBlock("", blocks));
  EXPECT_FALSE(InAnyBlock("10.20.3.4", {}));
  std::vector<CidrBlock> all_v4 = {Parsed("0.0.0.0/0")};
  EXPECT_TRUE(InAnyBlock("8.8.8.8", all_v4));
  EXPECT_FALSE(InAnyBlock("::1", all_v4));
  std::vector<CidrBlock> all_v6 = {Parsed("::/0")};
  EXPECT_TRUE(InAnyBlock("::1", all_v6));
  EXPECT_FALSE(InAnyBlock("8.8.8.8", all_v6));
}

// A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
TEST(CidrMatchTest, IPv4MappedClientMatchesIPv4Blocks) {
  std::vector<CidrBlock> blocks = {Parsed("10.20.0.0/16")};
  EXPECT_TRUE(InAnyBlock("::ffff:10.20.0.1", blocks));
  EXPECT_TRUE(InAnyBlock("::FFFF:10.20.255.255", blocks));
  EXPECT_FALSE(InAnyBlock("::ffff:10.21.0.1", blocks));
  EXPECT_FALSE(InAnyBlock("::10.20.0.1", blocks)) << "IPv4-compatible is not IPv4-mapped";
  EXPECT_FALSE(InAnyBlock("64:ff9b::10.20.0.1", blocks));
  // Still an IPv6 address for IPv6 blocks.
  std::vector<CidrBlock> mapped = {Parsed("::ffff:0:0/96")};
  EXPECT_TRUE(InAnyBlock("::ffff:10.20.0.1", mapped));
  EXPECT_FALSE(InAnyBlock("10.20.0.1", mapped));
}

TEST(CidrMatchTest, AClientAddressIsParsedOnceForManyBlocks) {
  std::optional<ClientAddress> client = ClientAddress::Parse("::ffff:192.0.2.7");
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->In(Parsed("192.0.2.0/24")));
  EXPECT_FALSE(client->In(Parsed("198.51.100.0/24")));
  EXPECT_FALSE(ClientAddress::Parse("192.0.2.7:443"));
  EXPECT_FALSE(ClientAddress::Parse(std::string(100, '1')));
}

}  // namespace
}  // namespace tidegate::common
