// common/signed_token: one HMAC-SHA256 codec, purpose-bound, two wire formats.
#include "common/signed_token.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

namespace tidegate::common {
namespace {

const std::string kSecret1(40, 'a');
const std::string kSecret2 = "another-secret-that-is-long-enough-1234567";

SignedTokenCodec K1() { return SignedTokenCodec({{"k1", kSecret1}}); }

// The body of `text` opened as `purpose`, or "<refused: N>".
std::string Opened(const SignedTokenCodec& codec, TokenPurpose purpose, std::string_view text) {
  SignedTokenCodec::BodyBuffer buffer;
  std::string_view body;
  TokenCheck check = codec.Open(purpose, text, buffer, &body);
  if (check != TokenCheck::kValid) return "<refused: " + std::to_string(int(check)) + ">";
  return std::string(body);
}

TokenCheck Check(const SignedTokenCodec& codec, TokenPurpose purpose, std::string_view text) {
  SignedTokenCodec::BodyBuffer buffer;
  std::string_view body;
  return codec.Open(purpose, text, buffer, &body);
}

std::string Hmac(const std::string& secret, const std::string& message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &length);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), length));
}

constexpr TokenPurpose kAll[] = {TokenPurpose::kWait, TokenPurpose::kPass, TokenPurpose::kBypass};

TEST(SignedTokenTest, RoundTripsForEveryPurpose) {
  SignedTokenCodec codec = K1();
  for (TokenPurpose purpose : kAll) {
    std::string token = codec.Sign(purpose, "shop|42|1795003600");
    ASSERT_FALSE(token.empty());
    EXPECT_EQ(Opened(codec, purpose, token), "shop|42|1795003600");
  }
  EXPECT_EQ(codec.signing_key_id(), "k1");
}

// Cookies issued before common/ existed stay valid: both formats are the
// documented ones, recomputed here with OpenSSL's one-shot HMAC.
TEST(SignedTokenTest, WireFormatsAreTheDocumentedOnes) {
  SignedTokenCodec codec = K1();
  EXPECT_EQ(codec.Sign(TokenPurpose::kWait, "shop|42|1|2"),
            "k1." + Base64UrlEncode("w|shop|42|1|2") + "." +
                Hmac(kSecret1, "tidegate.v1|k1|w|shop|42|1|2"));
  EXPECT_EQ(codec.Sign(TokenPurpose::kPass, "shop|1|2|3"),
            "k1." + Base64UrlEncode("p|shop|1|2|3") + "." +
                Hmac(kSecret1, "tidegate.v1|k1|p|shop|1|2|3"));
  EXPECT_EQ(codec.Sign(TokenPurpose::kBypass, "1795003600"),
            "v1.k1.1795003600." + Hmac(kSecret1, "tidegate-bypass\nk1\n1795003600"));
  EXPECT_EQ(codec.DerivedSecret("shuffle|shop"), Hmac(kSecret1, "tidegate.v1|derive|shuffle|shop"));
}

TEST(SignedTokenTest, APurposeNeverOpensAsAnother) {
  SignedTokenCodec codec = K1();
  std::string wait = codec.Sign(TokenPurpose::kWait, "shop|1|2|3");
  std::string pass = codec.Sign(TokenPurpose::kPass, "shop|1|2|3");
  std::string bypass = codec.Sign(TokenPurpose::kBypass, "1795003600");
  EXPECT_EQ(Check(codec, TokenPurpose::kPass, wait), TokenCheck::kWrongPurpose);
  EXPECT_EQ(Check(codec, TokenPurpose::kWait, pass), TokenCheck::kWrongPurpose);
  EXPECT_NE(Check(codec, TokenPurpose::kBypass, wait), TokenCheck::kValid);
  EXPECT_NE(Check(codec, TokenPurpose::kBypass, pass), TokenCheck::kValid);
  EXPECT_NE(Check(codec, TokenPurpose::kWait, bypass), TokenCheck::kValid);
  EXPECT_NE(Check(codec, TokenPurpose::kPass, bypass), TokenCheck::kValid);
}

TEST(SignedTokenTest, TamperingIsRejected) {
  SignedTokenCodec codec = K1();
  for (TokenPurpose purpose : kAll) {
    std::string token = codec.Sign(purpose, "1795003600");
    for (size_t i = 0; i < token.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string bad = token;
        bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
        EXPECT_NE(Check(codec, purpose, bad), TokenCheck::kValid) << bad;
      }
    }
    for (size_t n = 0; n < token.size(); ++n) {
      EXPECT_NE(Check(codec, purpose, token.substr(0, n)), TokenCheck::kValid) << n;
    }
    EXPECT_NE(Check(codec, purpose, token + "A"), TokenCheck::kValid);
    EXPECT_NE(Check(codec, purpose, token + ".x"), TokenCheck::kValid);
  }
  std::string bypass = codec.Sign(TokenPurpose::kBypass, "1795003600");
  std::string later = bypass;
  later.replace(6, 10, "1795007200");
  EXPECT_EQ(Check(codec, TokenPurpose::kBypass, later), TokenCheck::kBadMac);
  std::string padded = codec.Sign(TokenPurpose::kPass, "x");
  padded.insert(padded.rfind('.') + 1, "=");
  EXPECT_EQ(Check(codec, TokenPurpose::kPass, padded), TokenCheck::kBadMac);
  for (const char* bad : {"", ".", "..", "...", "k1.!!!.###", "v1", "v1...", "v2.k1.1.abc"}) {
    for (TokenPurpose purpose : kAll) EXPECT_NE(Check(codec, purpose, bad), TokenCheck::kValid);
  }
  EXPECT_EQ(Check(codec, TokenPurpose::kPass, std::string(2000, 'A')), TokenCheck::kMalformed);
}

TEST(SignedTokenTest, KeyRotationFirstSignsEveryKeyVerifies) {
  SignedTokenCodec old_codec = K1();
  SignedTokenCodec rotated({{"k2", kSecret2}, {"k1", kSecret1}});
  SignedTokenCodec retired({{"k2", kSecret2}});
  for (TokenPurpose purpose : kAll) {
    std::string old_token = old_codec.Sign(purpose, "body");
    EXPECT_EQ(Opened(rotated, purpose, old_token), "body");
    EXPECT_EQ(Check(retired, purpose, old_token), TokenCheck::kUnknownKey);
    std::string fresh = rotated.Sign(purpose, "body");
    EXPECT_NE(fresh.find("k2."), std::string::npos) << fresh;
    EXPECT_EQ(Check(old_codec, purpose, fresh), TokenCheck::kUnknownKey);
  }
  // Same secret under another id, and a token relabelled with a known id.
  SignedTokenCodec other({{"k9", kSecret1}});
  EXPECT_EQ(Check(old_codec, TokenPurpose::kPass, other.Sign(TokenPurpose::kPass, "b")),
            TokenCheck::kUnknownKey);
  std::string relabelled = "k2" + old_codec.Sign(TokenPurpose::kPass, "b").substr(2);
  EXPECT_EQ(Check(rotated, TokenPurpose::kPass, relabelled), TokenCheck::kBadMac);
  EXPECT_EQ(SignedTokenCodec::FromKeys(std::vector<SigningKey>{{"k3", kSecret2}}).signing_key_id(),
            "k3");
}

TEST(SignedTokenTest, WithoutKeysNothingIsSignedOrOpened) {
  SignedTokenCodec none(std::vector<SigningKey>{});
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.signing_key_id(), "");
  EXPECT_EQ(none.DerivedSecret("x"), "");
  for (TokenPurpose purpose : kAll) {
    EXPECT_EQ(none.Sign(purpose, "body"), "");
    EXPECT_EQ(Check(none, purpose, K1().Sign(purpose, "body")), TokenCheck::kUnknownKey);
  }
}

TEST(SignedTokenTest, BodiesTheFormatCannotCarryAreNotSigned) {
  SignedTokenCodec codec = K1();
  EXPECT_EQ(codec.Sign(TokenPurpose::kBypass, ""), "");
  EXPECT_EQ(codec.Sign(TokenPurpose::kBypass, "1.5"), "");
  EXPECT_EQ(codec.Sign(TokenPurpose::kPass, std::string(5000, 'x')), "");
  std::string longest = codec.Sign(TokenPurpose::kPass, std::string(700, 'x'));
  ASSERT_FALSE(longest.empty());
  EXPECT_LE(longest.size(), SignedTokenCodec::kMaxTokenChars);
  EXPECT_EQ(Opened(codec, TokenPurpose::kPass, longest), std::string(700, 'x'));
}

}  // namespace
}  // namespace tidegate::common
