#include "banner/accept_encoding.h"

#include <gtest/gtest.h>

namespace tidegate::banner {
namespace {

bool Accepts(std::initializer_list<const char*> values) {
  proxy::HeaderList headers;
  headers.Add("Accept", "text/html");
  for (const char* v : values) headers.Add("accept-encoding", v);
  return AcceptsGzip(headers);
}

TEST(AcceptEncodingTest, GzipListedWithoutOrAboveZeroQuality) {
  EXPECT_TRUE(Accepts({"gzip"}));
  EXPECT_TRUE(Accepts({"gzip, deflate, br"}));
  EXPECT_TRUE(Accepts({"br;q=1.0, GZIP;q=0.5"}));
  EXPECT_TRUE(Accepts({"x-gzip"}));
  EXPECT_TRUE(Accepts({"gzip ; q=0.001"}));
  EXPECT_TRUE(Accepts({"deflate", "gzip"}));  // two fields are one list
}

TEST(AcceptEncodingTest, QualityZeroRefusesEvenWithStar) {
  EXPECT_FALSE(Accepts({"gzip;q=0"}));
  EXPECT_FALSE(Accepts({"gzip; Q=0.000, *"}));
  EXPECT_FALSE(Accepts({"*;q=1", "gzip;q=0."}));
}

TEST(AcceptEncodingTest, StarAndAbsence) {
  EXPECT_TRUE(Accepts({"*"}));
  EXPECT_TRUE(Accepts({"br, *;q=0.1"}));
  EXPECT_FALSE(Accepts({"*;q=0"}));
  EXPECT_FALSE(Accepts({}));
  EXPECT_FALSE(Accepts({""}));
  EXPECT_FALSE(Accepts({"identity"}));
  EXPECT_FALSE(Accepts({"deflate, br"}));
  EXPECT_FALSE(Accepts({"gzipx, xgzip"}));
}

}  // namespace
}  // namespace tidegate::banner
