// ToTimeval: milliseconds to the struct libevent and hiredis take.
#include "common/timeval.h"

#include <gtest/gtest.h>

namespace tidegate::common {
namespace {

TEST(TimevalTest, SplitsSecondsAndMicroseconds) {
  timeval tv = ToTimeval(std::chrono::milliseconds(0));
  EXPECT_EQ(tv.tv_sec, 0);
  EXPECT_EQ(tv.tv_usec, 0);
  tv = ToTimeval(std::chrono::milliseconds(250));
  EXPECT_EQ(tv.tv_sec, 0);
  EXPECT_EQ(tv.tv_usec, 250'000);
  tv = ToTimeval(std::chrono::milliseconds(61'001));
  EXPECT_EQ(tv.tv_sec, 61);
  EXPECT_EQ(tv.tv_usec, 1'000);
  tv = ToTimeval(std::chrono::seconds(30));  // converts implicitly
  EXPECT_EQ(tv.tv_sec, 30);
  EXPECT_EQ(tv.tv_usec, 0);
}

}  // namespace
}  // namespace tidegate::common
