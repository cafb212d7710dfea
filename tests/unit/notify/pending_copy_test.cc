// notify/pending_copy.h: the bounded copy of the pending deliveries an
// instance knows of (written back to a Redis outbox restarted empty):
// replaces by id, refuses new ones beyond its bound, and Prune() drops only
// the gone ids put long enough ago.
#include "notify/pending_copy.h"

#include <gtest/gtest.h>

namespace tidegate::notify {
namespace {

Delivery D(const std::string& id, uint32_t attempts = 0) {
  Delivery d;
  d.id = id;
  d.event_id = "evt";
  d.event_type = "maintenance.on";
  d.attempts = attempts;
  return d;
}

TEST(PendingCopyTest, PutReplacesByIdAndRemoveForgets) {
  PendingCopy copy;
  EXPECT_TRUE(copy.Put(D("a.1"), 1000));
  EXPECT_TRUE(copy.Put(D("b.1"), 1000));
  EXPECT_TRUE(copy.Put(D("a.1", 3), 2000));  // rescheduled: the latest attempts kept
  ASSERT_EQ(copy.size(), 2u);
  std::vector<Delivery> all = copy.All();
  EXPECT_EQ(all[0].id, "a.1");
  EXPECT_EQ(all[0].attempts, 3u);
  copy.Remove("a.1");
  copy.Remove("unknown");
  EXPECT_EQ(copy.Ids(), std::vector<std::string>{"b.1"});
}

TEST(PendingCopyTest, RefusesNewDeliveriesBeyondItsBoundButStillUpdatesKnownOnes) {
  PendingCopy copy;
  for (size_t i = 0; i < PendingCopy::kMaxEntries; ++i) {
    ASSERT_TRUE(copy.Put(D("e" + std::to_string(i) + ".1"), 0));
  }
  EXPECT_FALSE(copy.Put(D("one-too-many.1"), 0));
  EXPECT_EQ(copy.size(), PendingCopy::kMaxEntries);
  EXPECT_TRUE(copy.Put(D("e7.1", 2), 0));
  copy.Remove("e7.1");
  EXPECT_TRUE(copy.Put(D("now-there-is-room.1"), 0));
}

TEST(PendingCopyTest, PruneDropsOnlyGoneIdsPutBeforeTheCutoff) {
  PendingCopy copy;
  copy.Put(D("old.1"), 1000);
  copy.Put(D("young.1"), 9000);
  copy.Put(D("kept.1"), 1000);
  EXPECT_EQ(copy.Prune({"old.1", "young.1", "never-held.1"}, 5000), 1u);
  EXPECT_EQ(copy.Ids(), (std::vector<std::string>{"kept.1", "young.1"}));
}

}  // namespace
}  // namespace tidegate::notify
