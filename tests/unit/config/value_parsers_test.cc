#include "config/value_parsers.h"

#include <gtest/gtest.h>

namespace tidegate::config {
namespace {

TEST(ParseDurationTest, AcceptsWholeNumbersWithUnits) {
  std::string error;
  EXPECT_EQ(ParseDuration("250ms", &error), Duration(250));
  EXPECT_EQ(ParseDuration("30s", &error), Duration(30'000));
  EXPECT_EQ(ParseDuration("5m", &error), Duration(300'000));
  EXPECT_EQ(ParseDuration("1h", &error), Duration(3'600'000));
  EXPECT_EQ(ParseDuration("0s", &error), Duration(0));
}

TEST(ParseDurationTest, RejectsAmbiguousForms) {
  for (const char* text : {"5", "-1s", "5 m", " 5m", "5m ", "1.5s", "1m30s", "5M", "5sec", "", "ms",
                           "+5s", "5d", "99999999999999999999s"}) {
    std::string error;
    EXPECT_FALSE(ParseDuration(text, &error).has_value()) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

// Operators' delays take days too ("7d" is the longest next update);
// configuration durations do not (RejectsAmbiguousForms: "5d").
TEST(ParseDelayTest, AcceptsDurationsAndWholeDays) {
  std::string error;
  EXPECT_EQ(ParseDelay("30m", &error), Duration(1'800'000));
  EXPECT_EQ(ParseDelay("7d", &error), Duration(7 * 86'400'000LL));
  EXPECT_EQ(ParseDelay("0d", &error), Duration(0));
  for (const char* text : {"", "d", "1.5d", "-1d", "2 d", "2D", "1d2h", "3651d", "5"}) {
    EXPECT_FALSE(ParseDelay(text, &error).has_value()) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(ParseSizeTest, AcceptsBytesAndBinaryUnits) {
  std::string error;
  EXPECT_EQ(ParseSize("0", &error), 0u);
  EXPECT_EQ(ParseSize("512", &error), 512u);
  EXPECT_EQ(ParseSize("512B", &error), 512u);
  EXPECT_EQ(ParseSize("8KB", &error), 8u << 10);
  EXPECT_EQ(ParseSize("8kib", &error), 8u << 10);
  EXPECT_EQ(ParseSize("16MB", &error), 16u << 20);
  EXPECT_EQ(ParseSize("16MiB", &error), 16u << 20);
  EXPECT_EQ(ParseSize("2GB", &error), uint64_t{2} << 30);
}

TEST(ParseSizeTest, RejectsOtherForms) {
  for (const char* text :
       {"", "MB", "16 MB", "1.5MB", "-1", "16TB", "16M", "99999999999999999999GB"}) {
    std::string error;
    EXPECT_FALSE(ParseSize(text, &error).has_value()) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(ParseAddressTest, AcceptsIpv4Ipv6AndUnix) {
  std::string error;
  auto v4 = ParseAddress("127.0.0.1:8080", {}, &error);
  ASSERT_TRUE(v4) << error;
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  EXPECT_EQ(v4->text, "127.0.0.1:8080");

  auto v6 = ParseAddress("[::1]:8443", {}, &error);
  ASSERT_TRUE(v6) << error;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8443);

  auto unix_socket = ParseAddress("unix:/run/redis.sock", {.allow_unix = true}, &error);
  ASSERT_TRUE(unix_socket) << error;
  EXPECT_EQ(unix_socket->unix_path, "/run/redis.sock");
  EXPECT_TRUE(unix_socket->host.empty());

  // Port 0 (the kernel picks) is refused, with its own reason, unless allowed.
  auto any_port = ParseAddress("0.0.0.0:0", {.allow_port_zero = true}, &error);
  ASSERT_TRUE(any_port) << error;
  EXPECT_EQ(any_port->port, 0);
  EXPECT_FALSE(ParseAddress("0.0.0.0:0", {}, &error));
  EXPECT_NE(error.find("port 0 is not supported"), std::string::npos) << error;
  EXPECT_FALSE(ParseAddress("[::1]:0", {.allow_unix = true}, &error));
  EXPECT_NE(error.find("port 0 is not supported"), std::string::npos) << error;

  // A URL (nginx's proxy_pass habit) says so, not "IPv6 addresses need brackets".
  EXPECT_FALSE(ParseAddress("http://127.0.0.1:9000", {.allow_host_names = true}, &error));
  EXPECT_NE(error.find("without a scheme: \"127.0.0.1:9000\""), std::string::npos) << error;
  EXPECT_FALSE(ParseAddress("https://shop.internal:443", {.allow_host_names = true}, &error));
  EXPECT_NE(error.find("\"shop.internal:443\""), std::string::npos) << error;
}

TEST(ParseHostWithoutPortTest, AcceptsNamesAndLiteralsNormalized) {
  std::string error;
  EXPECT_EQ(ParseHostWithoutPort("Shop.Example.", true, &error), "shop.example");
  EXPECT_EQ(ParseHostWithoutPort("10.0.0.1", true, &error), "10.0.0.1");
  EXPECT_EQ(ParseHostWithoutPort("[2001:DB8::1]", true, &error), "[2001:db8::1]");
  EXPECT_EQ(ParseHostWithoutPort("::1", false, &error), "::1");  // admin: literals unbracketed
  EXPECT_EQ(ParseHostWithoutPort("localhost", false, &error), "localhost");
}

TEST(ParseHostWithoutPortTest, RefusesWhatNoHostHeaderEquals) {
  for (const char* text :
       {"shop.example:8443", "shop.example:", "[::1]:80", "a:80:80", "shop..example", ".shop",
        "shop.example..", "[::1", "::1]", "[x]", "::1", "shop example", "shop/x", "", "[::1]x"}) {
    std::string error;
    EXPECT_FALSE(ParseHostWithoutPort(text, true, &error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
  std::string error;
  EXPECT_FALSE(ParseHostWithoutPort("shop.example:8443", true, &error));
  EXPECT_EQ(error,
            "\"shop.example:8443\": host takes no port: rules compare the Host header without "
            "its port");
  EXPECT_FALSE(ParseHostWithoutPort("[::1]", false, &error));
}

TEST(ParseAddressTest, RejectsNamesBadPortsAndUnixWhereNotAllowed) {
  struct Case {
    const char* text;
    AddressRules rules;
  };
  for (const Case& c :
       {Case{"localhost:9000", {}}, Case{"127.0.0.1", {}}, Case{"127.0.0.1:", {}},
        Case{"127.0.0.1:0", {}}, Case{"127.0.0.1:65536", {}}, Case{"127.0.0.1:80x", {}},
        Case{"::1:8080", {}}, Case{"[::1]8080", {}}, Case{"[nope]:80", {}}, Case{"unix:/tmp/x", {}},
        Case{"unix:relative", {.allow_unix = true}}, Case{"", {}}, Case{"300.1.1.1:80", {}}}) {
    std::string error;
    EXPECT_FALSE(ParseAddress(c.text, c.rules, &error).has_value()) << c.text;
    EXPECT_FALSE(error.empty()) << c.text;
  }
}

TEST(NameTest, RestrictsCharacters) {
  EXPECT_TRUE(IsValidName("shop"));
  EXPECT_TRUE(IsValidName("Black-Friday_2026"));
  EXPECT_FALSE(IsValidName(""));
  EXPECT_FALSE(IsValidName("a b"));
  EXPECT_FALSE(IsValidName("a{b}"));
  EXPECT_FALSE(IsValidName(std::string(65, 'a')));
  EXPECT_TRUE(IsHttpToken("POST"));
  EXPECT_FALSE(IsHttpToken("PO ST"));
  EXPECT_FALSE(IsHttpToken(""));
}

TEST(FormatDurationTest, LargestWholeUnitAndRoundTrip) {
  EXPECT_EQ(FormatDuration(Duration(0)), "0s");  // table_reader's copy said "0h"
  EXPECT_EQ(FormatDuration(Duration(250)), "250ms");
  EXPECT_EQ(FormatDuration(Duration(30'000)), "30s");
  EXPECT_EQ(FormatDuration(Duration(300'000)), "5m");
  EXPECT_EQ(FormatDuration(Duration(7'200'000)), "2h");
  EXPECT_EQ(FormatDuration(Duration(90'000)), "90s");
  for (int64_t ms : {0, 1, 999, 1000, 61'000, 3'600'000, 86'400'000}) {
    std::string error;
    EXPECT_EQ(ParseDuration(FormatDuration(Duration(ms)), &error), Duration(ms)) << error;
  }
}

}  // namespace
}  // namespace tidegate::config
