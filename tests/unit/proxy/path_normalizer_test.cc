#include "proxy/path_normalizer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace tidegate::proxy {
namespace {

TEST(PathNormalizerTest, KeepsCanonicalPaths) {
  EXPECT_EQ(NormalizePath("/"), "/");
  EXPECT_EQ(NormalizePath("/checkout"), "/checkout");
  EXPECT_EQ(NormalizePath("/a/b/"), "/a/b/");
}

TEST(PathNormalizerTest, CutsQueryAndFragment) {
  EXPECT_EQ(NormalizePath("/checkout?step=1"), "/checkout");
  EXPECT_EQ(NormalizePath("/checkout#top"), "/checkout");
  EXPECT_EQ(NormalizePath("/a?b/../c"), "/a");
}

TEST(PathNormalizerTest, CollapsesRepeatedSlashes) {
  EXPECT_EQ(NormalizePath("//checkout"), "/checkout");
  EXPECT_EQ(NormalizePath("/a///b"), "/a/b");
  EXPECT_EQ(NormalizePath("//.tidegate//health"), "/.tidegate/health");
}

TEST(PathNormalizerTest, ResolvesDotSegments) {
  EXPECT_EQ(NormalizePath("/a/../checkout"), "/checkout");
  EXPECT_EQ(NormalizePath("/./checkout"), "/checkout");
  EXPECT_EQ(NormalizePath("/a/b/.."), "/a/");
  EXPECT_EQ(NormalizePath("/a/."), "/a/");
  EXPECT_EQ(NormalizePath("/../../etc"), "/etc");  // never above the root
  EXPECT_EQ(NormalizePath("/.."), "/");
}

TEST(PathNormalizerTest, DecodesUnreservedEscapesOnly) {
  EXPECT_EQ(NormalizePath("/%63heckout"), "/checkout");
  EXPECT_EQ(NormalizePath("/%2Etidegate/health"), "/.tidegate/health");
  EXPECT_EQ(NormalizePath("/%2e%2e/x"), "/x");   // decoded dots are dot segments
  EXPECT_EQ(NormalizePath("/a%2fb"), "/a%2Fb");  // an encoded slash stays data
  EXPECT_EQ(NormalizePath("/a%20b"), "/a%20b");
  EXPECT_EQ(NormalizePath("/bad%zz"), "/bad%25zz");
  EXPECT_EQ(NormalizePath("/trailing%2"), "/trailing%252");
}

TEST(PathNormalizerTest, StripsSegmentParams) {
  EXPECT_EQ(NormalizePath("/checkout;x"), "/checkout");
  EXPECT_EQ(NormalizePath("/a;p=1/b"), "/a/b");
  EXPECT_EQ(NormalizePath("/checkout;x", {.strip_segment_params = false}), "/checkout;x");
}

TEST(PathNormalizerTest, LowerCasesOnRequest) {
  EXPECT_EQ(NormalizePath("/Checkout"), "/Checkout");
  EXPECT_EQ(NormalizePath("/Checkout", {.lower_case = true}), "/checkout");
}

TEST(PathNormalizerTest, NonOriginFormGetsALeadingSlash) {
  EXPECT_EQ(NormalizePath("*"), "/*");
  EXPECT_EQ(NormalizePath(""), "/");
  EXPECT_EQ(NormalizePath("checkout"), "/checkout");
}

TEST(PathNormalizerTest, DecodeSlashesOption) {
  PathNormalizeOptions slashes;
  slashes.decode_slashes = true;
  for (const char* target :
       {"/api/payments", "/api%2Fpayments", "/api%2fpayments", "/api\\payments", "/api%5Cpayments",
        "/api%5cpayments", "/x%2F..%2Fapi%2Fpayments", "/api%2F%2Fpayments?x=%2F"}) {
    EXPECT_EQ(NormalizePath(target, slashes), "/api/payments") << target;
  }
  // Off (the default): an encoded slash stays an ordinary character.
  EXPECT_EQ(NormalizePath("/api%2fpayments"), "/api%2Fpayments");
  EXPECT_EQ(NormalizePath("/api\\payments"), "/api\\payments");
}

// The canonical-form shortcut of NormalizePath never changes a result:
// every short target over an alphabet of the characters that matter, with
// every option combination, normalises exactly as the general algorithm.
TEST(PathNormalizerTest, ShortcutAgreesWithTheGeneralAlgorithm) {
  static constexpr char kAlphabet[] = "/.aZ%2f5c;\\?#";
  std::mt19937 rng(15);
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::uniform_int_distribution<size_t> length(0, 10);
  int shortcut_cases = 0;
  for (int n = 0; n < 50000; ++n) {
    std::string target;
    for (size_t i = length(rng); i > 0; --i) target.push_back(kAlphabet[pick(rng)]);
    if (n % 2 == 0) target.insert(0, "/");
    for (int bits = 0; bits < 8; ++bits) {
      PathNormalizeOptions o;
      o.strip_segment_params = bits & 1;
      o.lower_case = bits & 2;
      o.decode_slashes = bits & 4;
      std::string fast = NormalizePath(target, o);
      ASSERT_EQ(fast, detail::NormalizePathGeneral(target, o)) << target << " options " << bits;
      shortcut_cases += fast == target.substr(0, target.find_first_of("?#"));
    }
  }
  EXPECT_GT(shortcut_cases, 1000);  // the shortcut was really exercised
  // The usual shop paths are returned as they are.
  for (const char* path : {"/", "/small.html", "/products/7", "/a/", "/.well-known/x", "/a/b.c"}) {
    EXPECT_EQ(NormalizePath(path), path);
    EXPECT_EQ(NormalizePath(std::string(path) + "?q=1#f"), path);
  }
}

// The same for long targets, which the shortcut reads eight bytes at a time
// (mostly plain characters, so that whole words are skipped, with the
// characters that matter anywhere, word edges included).
TEST(PathNormalizerTest, WordAtATimeShortcutAgreesOnLongTargets) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz-_0123456789/.aZ%2f5c;\\?#";
  std::mt19937 rng(16);
  std::uniform_int_distribution<size_t> plain(0, 37);  // letters, digits, '-', '_'
  std::uniform_int_distribution<size_t> any(0, sizeof(kAlphabet) - 2);
  std::uniform_int_distribution<size_t> length(0, 40);
  std::uniform_int_distribution<int> percent(0, 99);
  for (int n = 0; n < 40000; ++n) {
    std::string target = "/";
    for (size_t i = length(rng); i > 0; --i) {
      target.push_back(kAlphabet[percent(rng) < 85 ? plain(rng) : any(rng)]);
    }
    for (int bits = 0; bits < 8; ++bits) {
      PathNormalizeOptions o;
      o.strip_segment_params = bits & 1;
      o.lower_case = bits & 2;
      o.decode_slashes = bits & 4;
      ASSERT_EQ(NormalizePath(target, o), detail::NormalizePathGeneral(target, o))
          << target << " options " << bits;
    }
  }
  for (const char* path : {"/collections/summer-sale/products/linen-shirt-blue",
                           "/collections/summer-sale/.well-known/products/x",
                           "/collections/summer-sale//products", "/collections/summer-sale/./x",
                           "/collections/summer-sale/../x", "/collections/summer%2Fsale/x"}) {
    EXPECT_EQ(NormalizePath(path), detail::NormalizePathGeneral(path, {})) << path;
  }
}

}  // namespace
}  // namespace tidegate::proxy
