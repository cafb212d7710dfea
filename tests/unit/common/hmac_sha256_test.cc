#include "common/hmac_sha256.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <random>
#include <string>

namespace tidegate::common {
namespace {

std::string Hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xF]);
  }
  return out;
}

std::string Mac(std::string_view key, std::initializer_list<std::string_view> parts) {
  unsigned char out[HmacSha256::kBytes];
  HmacSha256(key).Compute(parts, out);
  return Hex(out, sizeof(out));
}

std::string OpenSslMac(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &n);
  return Hex(out, n);
}

// RFC 4231, test cases 1, 2 and 6 (a key longer than the block is hashed first).
TEST(HmacSha256Test, Rfc4231Vectors) {
  EXPECT_EQ(Mac(std::string(20, '\x0b'), {"Hi There"}),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(Mac("Jefe", {"what do ya want ", "for nothing?"}),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(
      Mac(std::string(131, '\xaa'), {"Test Using Larger Than Block-Size Key - Hash Key First"}),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// Any key length (empty, one block, longer) and any split of the message
// into parts: the same bytes as OpenSSL's HMAC().
TEST(HmacSha256Test, MatchesOpenSslForAnyKeyAndSplit) {
  std::mt19937 rng(15);
  for (size_t key_len : {0, 1, 32, 63, 64, 65, 200}) {
    std::string key(key_len, '\0');
    for (char& c : key) c = static_cast<char>(rng());
    HmacSha256 mac(key);
    for (size_t len : {0, 1, 55, 56, 64, 119, 300}) {
      std::string message(len, '\0');
      for (char& c : message) c = static_cast<char>(rng());
      size_t cut = len / 3;
      unsigned char out[HmacSha256::kBytes];
      mac.Compute({std::string_view(message).substr(0, cut), std::string_view(message).substr(cut)},
                  out);
      EXPECT_EQ(Hex(out, sizeof(out)), OpenSslMac(key, message)) << key_len << " " << len;
      // The kept states are not changed by a computation.
      mac.Compute({message}, out);
      EXPECT_EQ(Hex(out, sizeof(out)), OpenSslMac(key, message));
    }
  }
}

// WithPrefix: the prefix hashed once, then any message after it: the MAC
// of prefix + message (prefixes shorter and longer than a block, so that
// the kept state holds a partial block or none), and the original unchanged.
TEST(HmacSha256Test, WithPrefixIsTheMacOfThePrefixAndTheMessage) {
  std::mt19937 rng(16);
  std::string key = "k1-secret";
  HmacSha256 mac(key);
  for (size_t prefix_len : {0, 15, 63, 64, 65, 130}) {
    std::string prefix(prefix_len, '\0');
    for (char& c : prefix) c = static_cast<char>(rng());
    HmacSha256 prefixed = mac.WithPrefix(prefix);
    for (size_t len : {0, 1, 49, 64, 200}) {
      std::string message(len, '\0');
      for (char& c : message) c = static_cast<char>(rng());
      unsigned char out[HmacSha256::kBytes];
      prefixed.Compute({message}, out);
      EXPECT_EQ(Hex(out, sizeof(out)), OpenSslMac(key, prefix + message))
          << prefix_len << " " << len;
      mac.Compute({message}, out);
      EXPECT_EQ(Hex(out, sizeof(out)), OpenSslMac(key, message)) << "the original is unchanged";
    }
  }
}

}  // namespace
}  // namespace tidegate::common
