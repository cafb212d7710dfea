// common/base64url: strict, unpadded, canonical.
#include "common/base64url.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

namespace tidegate::common {
namespace {

TEST(Base64UrlTest, RoundTripAndStrictness) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\xff\xfe\x00x"}) {
    auto decoded = Base64UrlDecode(Base64UrlEncode(s));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_FALSE(Base64UrlDecode("a"));
  EXPECT_FALSE(Base64UrlDecode("YQ=="));
  EXPECT_FALSE(Base64UrlDecode("YR")) << "non-canonical trailing bits";
  EXPECT_FALSE(Base64UrlDecode("a+b/"));
  EXPECT_FALSE(Base64UrlDecode(std::string(4100, 'A'))) << "longer than 4096 characters";
}

TEST(Base64UrlTest, LengthsAndAppend) {
  for (size_t n = 0; n < 40; ++n) {
    EXPECT_EQ(Base64UrlEncode(std::string(n, 'x')).size(), Base64UrlLength(n)) << n;
    EXPECT_GE(Base64UrlDecodedCapacity(Base64UrlLength(n)), n) << n;
  }
  std::string out = "k1.";
  AppendBase64Url("hi", &out);
  EXPECT_EQ(out, "k1.aGk");
  char buffer[Base64UrlDecodedCapacity(3)];
  EXPECT_EQ(Base64UrlDecodeTo("aGk", buffer), 2u);
  EXPECT_EQ(std::string_view(buffer, 2), "hi");
  EXPECT_EQ(Base64UrlDecodeTo("aG=", buffer), std::string_view::npos);
}

// Base64url against OpenSSL's standard base64 for every length up to 64.
TEST(Base64UrlTest, MatchesStandardBase64WithTheUrlAlphabet) {
  std::string bytes;
  for (int n = 0; n <= 64; ++n) {
    std::string standard(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(standard.data()),
                              reinterpret_cast<const unsigned char*>(bytes.data()),
                              static_cast<int>(bytes.size()));
    standard.resize(static_cast<size_t>(len));
    while (!standard.empty() && standard.back() == '=') standard.pop_back();
    for (char& c : standard) c = c == '+' ? '-' : c == '/' ? '_' : c;
    EXPECT_EQ(Base64UrlEncode(bytes), standard) << n;
    EXPECT_EQ(Base64UrlDecode(standard), bytes) << n;
    bytes.push_back(static_cast<char>(n * 37 + 251));
  }
  // A last character of a 2- or 3-character group with stray low bits
  // (not 0 in the 4 or 2 bits beyond the last byte) is refused.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t v = 0; v < alphabet.size(); ++v) {
    EXPECT_EQ(Base64UrlDecode(std::string("Y") + alphabet[v]).has_value(), v % 16 == 0) << v;
    EXPECT_EQ(Base64UrlDecode(std::string("YW") + alphabet[v]).has_value(), v % 4 == 0) << v;
  }
}

// The encoder works on six bytes at a time while eight can be read, then on
// three: every length and alignment, every 12-bit value, against OpenSSL.
TEST(Base64UrlTest, MatchesOpenSslForEveryLengthAndOffset) {
  std::string pool;
  uint32_t state = 12345;
  for (int i = 0; i < 8192 + 16; ++i) {  // LCG bytes, then every 12-bit pair in order
    state = state * 1103515245 + 12345;
    pool.push_back(static_cast<char>(state >> 24));
  }
  for (int v = 0; v < 4096; ++v) {
    pool.push_back(static_cast<char>(v >> 4));
    pool.push_back(static_cast<char>((v & 15) << 4));
    pool.push_back('\0');
  }
  auto standard = [](std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                              reinterpret_cast<const unsigned char*>(bytes.data()),
                              static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(len));
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return out;
  };
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t n = 0; n <= 100; ++n) {
      std::string_view bytes = std::string_view(pool).substr(offset * 97, n);
      std::string out = "prefix.";
      AppendBase64Url(bytes, &out);
      EXPECT_EQ(out, "prefix." + standard(bytes)) << offset << " " << n;
    }
  }
  std::string_view all = std::string_view(pool).substr(8192 + 16);
  EXPECT_EQ(Base64UrlEncode(all), standard(all));
}

}  // namespace
}  // namespace tidegate::common
