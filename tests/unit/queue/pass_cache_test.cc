#include "queue/pass_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace tidegate::queue {
namespace {

PassToken Pass(const std::string& room, int64_t bucket) { return {room, 1, bucket, 2}; }

TEST(PassCacheTest, FindsOnlyTheExactTextOfTheSameRoom) {
  PassCache cache;
  EXPECT_FALSE(cache.Find("k1.abc.def", "shop"));
  cache.Insert("k1.abc.def", Pass("shop", 7));
  auto hit = cache.Find("k1.abc.def", "shop");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->bucket, 7);
  EXPECT_FALSE(cache.Find("k1.abc.deg", "shop"));
  EXPECT_FALSE(cache.Find("k1.abd.def", "shop"));  // the signed fields
  EXPECT_FALSE(cache.Find("k2.abc.def", "shop"));
  EXPECT_FALSE(cache.Find("k1.abc.de", "shop"));
  EXPECT_FALSE(cache.Find("k1.abc.def", "sale"));
  EXPECT_FALSE(cache.Find("", "shop"));
}

TEST(PassCacheTest, BoundedSlotsReplaceEachOther) {
  PassCache cache;
  constexpr size_t kMany = PassCache::kShards * PassCache::kSlotsPerShard * 4;
  for (size_t i = 0; i < kMany; ++i) {
    cache.Insert("token-" + std::to_string(i), Pass("shop", static_cast<int64_t>(i)));
  }
  size_t found = 0;
  for (size_t i = 0; i < kMany; ++i) {
    auto hit = cache.Find("token-" + std::to_string(i), "shop");
    if (hit) {
      EXPECT_EQ(hit->bucket, static_cast<int64_t>(i)) << "a slot never answers for another text";
      ++found;
    }
  }
  EXPECT_LE(found, PassCache::kShards * PassCache::kSlotsPerShard);
  EXPECT_GT(found, 0u);
}

}  // namespace
}  // namespace tidegate::queue
