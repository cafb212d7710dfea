// notify/signature.h: the Tidegate-Signature header a receiver checks.
#include "notify/signature.h"

#include <gtest/gtest.h>

namespace tidegate::notify {
namespace {

constexpr char kSecret[] = "whsec-0123456789abcdef";
constexpr char kBody[] = R"({"id":"evt_1"})";

TEST(SignatureTest, IsHmacSha256OfTimestampDotBody) {
  // Reference value from Python: hmac.new(secret, b'1764945000.' + body, sha256).hexdigest()
  EXPECT_EQ(SignatureHex(kSecret, 1764945000, kBody),
            "36c692b7a5284122256826f37b35d471a799f6185bbafed656e07dbd1d9ec4ca");
  EXPECT_EQ(SignatureHeader(kSecret, 1764945000, kBody),
            "t=1764945000,v1=36c692b7a5284122256826f37b35d471a799f6185bbafed656e07dbd1d9ec4ca");
}

TEST(SignatureTest, ReceiverAcceptsOnlyTheExactBodySecretAndAFreshTimestamp) {
  std::string header = SignatureHeader(kSecret, 1000, kBody);
  EXPECT_TRUE(VerifySignature(kSecret, header, kBody, 1000, 300));
  EXPECT_TRUE(VerifySignature(kSecret, header, kBody, 1299, 300));
  EXPECT_FALSE(VerifySignature(kSecret, header, kBody, 1301, 300)) << "too old: a replay";
  EXPECT_FALSE(VerifySignature(kSecret, header, kBody, 600, 300)) << "from the future";
  EXPECT_FALSE(VerifySignature(kSecret, header, R"({"id":"evt_2"})", 1000, 300));
  EXPECT_FALSE(VerifySignature("another-secret-0123456789", header, kBody, 1000, 300));
  // The timestamp is signed: moving it breaks the signature.
  std::string moved = "t=1001" + header.substr(header.find(','));
  EXPECT_FALSE(VerifySignature(kSecret, moved, kBody, 1000, 300));
  EXPECT_FALSE(VerifySignature(kSecret, "", kBody, 1000, 300));
  EXPECT_FALSE(VerifySignature(kSecret, "t=x,v1=00", kBody, 1000, 300));
  EXPECT_FALSE(VerifySignature(kSecret, header.substr(0, header.size() - 2), kBody, 1000, 300));
}

}  // namespace
}  // namespace tidegate::notify
