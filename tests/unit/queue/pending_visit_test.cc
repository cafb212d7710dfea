// queue/room_visit.h PendingVisit: a decision waiting for the store reaches
// its waiter once, and never after the waiter cancelled it or went away —
// the store's late reply then touches no freed memory (run this binary
// under the sanitize build to have AddressSanitizer check the last part).
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <vector>

#include "queue/room_visit.h"

namespace tidegate::queue {
namespace {

// A per-request filter waiting for the store, as the room gate is: it owns
// its PendingVisit; OnDestroy() cancels it.
class Waiter : public VisitWaiter {
 public:
  explicit Waiter(std::vector<Visit::Outcome>* decided) : decided_(decided) {}
  void Decided(Visit visit) override {
    decided_->push_back(visit.outcome);
    if (cancel_inside) pending.Cancel();  // a reply that ends the exchange at once
  }
  void OnDestroy() { pending.Cancel(); }

  std::vector<Visit::Outcome>* decided_;
  bool cancel_inside = false;
  PendingVisit pending{*this};
};

Visit Queued() {
  Visit v;
  v.outcome = Visit::Outcome::kQueued;
  return v;
}

TEST(PendingVisitTest, TheReplyReachesTheWaiterOnce) {
  std::vector<Visit::Outcome> decided;
  Waiter waiter(&decided);
  EXPECT_FALSE(waiter.pending.pending());
  std::function<void(Visit)> reply = waiter.pending.Arm();
  EXPECT_TRUE(waiter.pending.pending());
  reply(Queued());
  reply(Queued());  // a store must not, but a second call is dropped
  ASSERT_EQ(decided.size(), 1u);
  EXPECT_EQ(decided[0], Visit::Outcome::kQueued);
  EXPECT_FALSE(waiter.pending.pending());
}

TEST(PendingVisitTest, AReplyAfterTheClientWentAwayTouchesNothing) {
  std::vector<Visit::Outcome> decided;
  auto waiter = std::make_unique<Waiter>(&decided);
  std::function<void(Visit)> reply = waiter->pending.Arm();
  // The client goes away: the stream calls OnDestroy, then frees the filter.
  waiter->OnDestroy();
  waiter.reset();
  reply(Queued());  // the store's reply arrives on the loop afterwards
  EXPECT_TRUE(decided.empty());
}

TEST(PendingVisitTest, DestroyingTheWaiterAloneCancels) {
  // A filter freed without OnDestroy (defence in depth): the handle's
  // destructor cancels too.
  std::vector<Visit::Outcome> decided;
  auto waiter = std::make_unique<Waiter>(&decided);
  std::function<void(Visit)> reply = waiter->pending.Arm();
  waiter.reset();
  reply(Queued());
  EXPECT_TRUE(decided.empty());
}

TEST(PendingVisitTest, CancellingFromInsideTheDecisionIsSafe) {
  std::vector<Visit::Outcome> decided;
  Waiter waiter(&decided);
  waiter.cancel_inside = true;  // SendLocalReply → exchange ends → OnDestroy
  std::function<void(Visit)> reply = waiter.pending.Arm();
  reply(Queued());
  EXPECT_EQ(decided.size(), 1u);
  waiter.OnDestroy();  // idempotent
  EXPECT_FALSE(waiter.pending.pending());
}

TEST(PendingVisitTest, ArmingAgainDropsTheEarlierWait) {
  std::vector<Visit::Outcome> decided;
  Waiter waiter(&decided);
  std::function<void(Visit)> first = waiter.pending.Arm();
  std::function<void(Visit)> second = waiter.pending.Arm();
  first(Queued());
  EXPECT_TRUE(decided.empty());
  second(Queued());
  EXPECT_EQ(decided.size(), 1u);
}

}  // namespace
}  // namespace tidegate::queue
