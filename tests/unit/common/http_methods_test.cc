#include "common/http_methods.h"

#include <gtest/gtest.h>

namespace tidegate::common {
namespace {

TEST(HttpMethodsTest, KnownMethodsAreHttpParsers) {
  EXPECT_EQ(KnownMethodName(0), "DELETE");
  EXPECT_EQ(KnownMethodName(1), "GET");
  EXPECT_EQ(KnownMethodName(kConnectMethod), "CONNECT");
  EXPECT_EQ(KnownMethodName(kLastKnownMethod), "SOURCE");
  EXPECT_EQ(KnownMethodName(kLastKnownMethod + 1), "");
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "PATCH", "OPTIONS", "TRACE", "PROPFIND",
                        "M-SEARCH", "PURGE"}) {
    EXPECT_TRUE(IsForwardedMethod(m)) << m;
  }
}

TEST(HttpMethodsTest, UnknownCaseAndConnectAreNotForwarded) {
  for (const char* m : {"POTS", "get", "PRI", "DESCRIBE", "", "GET "}) {
    EXPECT_FALSE(IsKnownMethod(m)) << m;
    EXPECT_FALSE(IsForwardedMethod(m)) << m;
  }
  EXPECT_TRUE(IsKnownMethod("CONNECT"));
  EXPECT_FALSE(IsForwardedMethod("CONNECT"));
}

}  // namespace
}  // namespace tidegate::common
