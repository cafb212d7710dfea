#include "proxy/client_address.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tidegate::proxy {
namespace {

std::vector<common::CidrBlock> Blocks(std::initializer_list<const char*> texts) {
  std::vector<common::CidrBlock> out;
  for (const char* text : texts) {
    std::string error;
    auto block = common::ParseCidr(text, &error);
    EXPECT_TRUE(block) << error;
    if (block) out.push_back(*block);
  }
  return out;
}

HeaderList Fields(std::initializer_list<std::pair<const char*, const char*>> fields) {
  HeaderList h;
  for (const auto& [name, value] : fields) h.Add(name, value);
  return h;
}

const auto kFronts = Blocks({"10.0.0.0/8", "2001:db8:f::/48"});

std::string Resolve(const HeaderList& h, std::string_view field = "x-forwarded-for") {
  return ResolveClientIp(h, field, kFronts).value_or("(peer)");
}

TEST(ClientAddressTest, TheNearestUntrustedAddressFromTheRightIsTheClient) {
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "203.0.113.7"}})), "203.0.113.7");
  // A client's own claim on the left is not believed past an untrusted hop.
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "1.2.3.4, 203.0.113.7, 10.1.1.1"}})),
            "203.0.113.7");
  // Several lines are one list, in order.
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "1.2.3.4"}, {"x-forwarded-for", "10.9.9.9"}})),
            "1.2.3.4");
  // Every hop trusted: the leftmost.
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "10.0.0.5, 10.0.0.6"}})), "10.0.0.5");
  // Empty elements are skipped.
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", " , 198.51.100.2 ,, "}})), "198.51.100.2");
}

TEST(ClientAddressTest, SomethingThatIsNotAnAddressStopsTheWalk) {
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "unknown"}})), "(peer)");
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "1.2.3.4, garbage"}})), "(peer)");
  // The last address accepted (a front) stands.
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "1.2.3.4, junk, 10.2.2.2"}})), "10.2.2.2");
  EXPECT_EQ(Resolve(Fields({})), "(peer)");
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", ""}})), "(peer)");
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "1.2.3"}})), "(peer)");
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "1.2.3.4.5"}})), "(peer)");
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "01.2.3.4"}})), "(peer)");
}

TEST(ClientAddressTest, PortsBracketsIpv6AndMappedAddressesAreCanonical) {
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "203.0.113.7:5150"}})), "203.0.113.7");
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "2001:DB8::7"}})), "2001:db8::7");
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "[2001:db8:0::7]:443"}})), "2001:db8::7");
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "::ffff:203.0.113.9"}})), "203.0.113.9");
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "198.51.100.1, 2001:db8:f::1"}})), "198.51.100.1");
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "[2001:db8::7"}})), "(peer)");
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "[2001:db8::7]x"}})), "(peer)");
}

TEST(ClientAddressTest, ForwardedReadsTheForParameter) {
  EXPECT_EQ(Resolve(Fields({{"Forwarded", "for=192.0.2.60;proto=https;by=10.0.0.1"}}), "forwarded"),
            "192.0.2.60");
  EXPECT_EQ(Resolve(Fields({{"Forwarded", "For=\"[2001:db8::60]:4711\""}}), "forwarded"),
            "2001:db8::60");
  EXPECT_EQ(Resolve(Fields({{"Forwarded", "for=198.51.100.3, for=10.0.0.2"}}), "forwarded"),
            "198.51.100.3");
  // Obfuscated or unknown identifiers, and elements without `for`, are no address.
  EXPECT_EQ(Resolve(Fields({{"Forwarded", "for=_hidden"}}), "forwarded"), "(peer)");
  EXPECT_EQ(Resolve(Fields({{"Forwarded", "for=unknown"}}), "forwarded"), "(peer)");
  EXPECT_EQ(Resolve(Fields({{"Forwarded", "proto=https"}}), "forwarded"), "(peer)");
  // X-Forwarded-For is not read when the field is Forwarded.
  EXPECT_EQ(Resolve(Fields({{"X-Forwarded-For", "192.0.2.1"}}), "forwarded"), "(peer)");
}

TEST(ClientAddressTest, ASingleAddressFieldWorksTheSame) {
  EXPECT_EQ(Resolve(Fields({{"CF-Connecting-IP", "203.0.113.50"}}), "cf-connecting-ip"),
            "203.0.113.50");
}

TEST(ClientAddressTest, OnlyPeersInTheTrustedNetworksAreBelieved) {
  EXPECT_TRUE(PeerIsTrusted("10.3.4.5", kFronts));
  EXPECT_TRUE(PeerIsTrusted("::ffff:10.3.4.5", kFronts));
  EXPECT_TRUE(PeerIsTrusted("2001:db8:f::9", kFronts));
  EXPECT_FALSE(PeerIsTrusted("11.0.0.1", kFronts));
  EXPECT_FALSE(PeerIsTrusted("127.0.0.1", {}));
}

TEST(ClientAddressTest, TheSchemeIsOneHttpOrHttpsValue) {
  EXPECT_EQ(ForwardedSchemeIsHttps(Fields({{"X-Forwarded-Proto", "https"}})), true);
  EXPECT_EQ(ForwardedSchemeIsHttps(Fields({{"X-Forwarded-Proto", " HTTP "}})), false);
  EXPECT_EQ(ForwardedSchemeIsHttps(Fields({{"X-Forwarded-Proto", "https, http"}})), std::nullopt);
  EXPECT_EQ(ForwardedSchemeIsHttps(
                Fields({{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Proto", "https"}})),
            std::nullopt);
  EXPECT_EQ(ForwardedSchemeIsHttps(Fields({{"X-Forwarded-Proto", "wss"}})), std::nullopt);
  EXPECT_EQ(ForwardedSchemeIsHttps(Fields({})), std::nullopt);
}

}  // namespace
}  // namespace tidegate::proxy
