#include "common/hex.h"

#include <gtest/gtest.h>

namespace tidegate::common {
namespace {

TEST(HexDigitValueTest, DigitsOfEitherCase) {
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('9'), 9);
  EXPECT_EQ(HexDigitValue('a'), 10);
  EXPECT_EQ(HexDigitValue('F'), 15);
}

TEST(HexDigitValueTest, AnythingElseIsMinusOne) {
  for (char c : {'g', 'G', '/', ':', '@', '`', ' ', '\0', '%'}) {
    EXPECT_EQ(HexDigitValue(c), -1) << static_cast<int>(c);
  }
}

}  // namespace
}  // namespace tidegate::common
