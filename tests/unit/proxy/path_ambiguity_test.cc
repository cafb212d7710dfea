// Request paths that origins read in different ways (audit 15): refused.
#include "proxy/path_ambiguity.h"

#include <gtest/gtest.h>

#include <string>

namespace tidegate::proxy {
namespace {

constexpr char kDot[] = "dot segment in request path";
constexpr char kNul[] = "encoded NUL in request path";
constexpr char kEscape[] = "malformed percent-encoding in request path";

std::string Reason(std::string_view target) {
  const char* why = AmbiguousPathReason(target);
  return why == nullptr ? "" : why;
}

TEST(PathAmbiguityTest, OrdinaryPathsPass) {
  for (const char* t :
       {"/", "/checkout", "/checkout/", "/a/b.css", "/.well-known/security.txt", "/a/...", "/a/..b",
        "/a/b..", "/a/.b/", "/static/app.min.js?v=1.2", "/search?q=../..&x=%zz", "/p/%41%42",
        "/x%2Fy", "/a;jsessionid=1/b", "/caf%C3%A9", "/a//b", "/x#../.."}) {
    EXPECT_EQ(Reason(t), "") << t;
  }
}

TEST(PathAmbiguityTest, DotSegmentsInEverySpellingAreRefused) {
  for (const char* t : {"/checkout/..",
                        "/checkout//..",
                        "/checkout/../x",
                        "/./checkout",
                        "/a/.",
                        "/.",
                        "/..",
                        "/checkout%2F..",
                        "/checkout%2f..%2fx",
                        "/checkout%5C..",
                        "/checkout\\..",
                        "/%2e%2e/checkout",
                        "/%2E/checkout",
                        "/.%2e/x",
                        "/checkout;%2F..",
                        "/checkout;%5C..",
                        "/checkout;\\..",
                        "/static/..;/checkout",
                        "/static/..;x/checkout",
                        "/checkout%3F/..",
                        "/checkout%23/../static/x",
                        "/static/.%3Bx/checkout",
                        "/a/..?q=1",
                        "/a/.#f"}) {
    EXPECT_EQ(Reason(t), kDot) << t;
  }
}

TEST(PathAmbiguityTest, EncodedNulIsRefused) {
  EXPECT_EQ(Reason("/checkout%00/.."), kNul);
  EXPECT_EQ(Reason("/checkout%00"), kNul);
  EXPECT_EQ(Reason("/checkout?x=%00"), "") << "the query is the origin's to read";
}

TEST(PathAmbiguityTest, MalformedEscapesAreRefused) {
  for (const char* t : {"/%u0063heckout", "/100%", "/a%2", "/a%zz", "/a%%41", "/%G0"}) {
    EXPECT_EQ(Reason(t), kEscape) << t;
  }
}

}  // namespace
}  // namespace tidegate::proxy
