#include "queue/room_logic.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <queue>
#include <random>
#include <set>
#include <vector>

namespace tidegate::queue {
namespace {

using config::QueueingMethod;
using config::RoomMode;

constexpr int64_t kStart = 1'700'000'000'000;  // a fixed fake wall clock (ms)

RoomLimits Limits(uint32_t total, uint32_t per_minute, int64_t session_ms = 300'000) {
  RoomLimits l;
  l.total_active_users = total;
  l.new_users_per_minute = per_minute;
  l.session_ms = session_ms;
  return l;
}

// A fake-clock simulation of a room: visitors arrive at a steady rate, are
// queued, poll every `poll_ms` and claim when invited; a share of them are
// ghosts that never come back. Ticks every 250 ms, like the gate does.
struct Simulation {
  RoomLimits limits;
  double arrivals_per_second = 5;
  double ghost_share = 0;
  int64_t poll_ms = 5'000;
  bool may_admit_directly = true;

  RoomState state;
  uint64_t claims = 0;
  uint64_t direct = 0;
  int64_t max_active = 0;

  struct Visitor {
    int64_t arrived_ms;
    bool ghost;
  };

  void Run(int64_t duration_ms, int64_t measure_from_ms = 0) {
    limits.refresh_ms = poll_ms;  // the queue page polls at refresh_interval
    std::mt19937 rng(42);
    std::bernoulli_distribution is_ghost(ghost_share);
    std::vector<Visitor> visitors(1);            // by ticket (index 0 unused)
    using Claim = std::pair<int64_t, uint64_t>;  // time, ticket
    std::priority_queue<Claim, std::vector<Claim>, std::greater<>> due;
    uint64_t served_seen = 0;
    double arrival_credit = 0;
    for (int64_t t = 0; t < duration_ms; t += 250) {
      int64_t now = kStart + t;
      arrival_credit += arrivals_per_second / 4;
      while (arrival_credit >= 1) {
        arrival_credit -= 1;
        ArriveOutcome a = ArriveStep(state, limits, now, may_admit_directly);
        if (a.admitted) {
          if (t >= measure_from_ms) ++direct;
        } else {
          visitors.push_back({now, is_ghost(rng)});
          EXPECT_EQ(a.ticket, visitors.size() - 1);
        }
      }
      RoomCounters c = TickStep(state, limits, now);
      for (uint64_t ticket = served_seen + 1; ticket <= c.serving && ticket < visitors.size();
           ++ticket) {
        const Visitor& v = visitors[ticket];
        if (v.ghost) continue;
        int64_t polls = (now - v.arrived_ms) / poll_ms + 1;
        due.push({v.arrived_ms + polls * poll_ms, ticket});
      }
      served_seen = std::max(served_seen, c.serving);
      while (!due.empty() && due.top().first <= now) {
        auto [when, ticket] = due.top();
        due.pop();
        ClaimOutcome o = ClaimStep(state, limits, now, ticket);
        if (o.admitted) {
          if (t >= measure_from_ms) ++claims;
        } else {
          due.push({when + poll_ms, ticket});  // room full: it polls again
        }
      }
      max_active = std::max(max_active, CountersOf(state, limits, now).active);
    }
  }
};

TEST(RoomLogicTest, AdmitsDirectlyWhenThereIsSpaceAndNobodyWaits) {
  RoomState state;
  RoomLimits limits = Limits(10, 60);
  ArriveOutcome a = ArriveStep(state, limits, kStart, true);
  EXPECT_TRUE(a.admitted);
  EXPECT_EQ(a.bucket, BucketOf(kStart));
  EXPECT_EQ(a.counters.active, 1);
  EXPECT_EQ(a.counters.admitted_total, 1u);
  EXPECT_EQ(a.counters.queued(), 0u);
}

TEST(RoomLogicTest, QueueAllNeverAdmitsDirectly) {
  RoomState state;
  ArriveOutcome a = ArriveStep(state, Limits(10, 60), kStart, /*may_admit_directly=*/false);
  EXPECT_FALSE(a.admitted);
  EXPECT_EQ(a.ticket, 1u);
  EXPECT_EQ(a.counters.queued(), 1u);
}

TEST(RoomLogicTest, QueuesBeyondTotalActiveUsersAndOnceSomebodyWaits) {
  RoomState state;
  RoomLimits limits = Limits(2, 6000);
  EXPECT_TRUE(ArriveStep(state, limits, kStart, true).admitted);
  EXPECT_TRUE(ArriveStep(state, limits, kStart, true).admitted);
  ArriveOutcome third = ArriveStep(state, limits, kStart, true);
  EXPECT_FALSE(third.admitted);
  EXPECT_EQ(third.ticket, 1u);
  // A slot frees: the waiting visitor goes first, a newcomer queues behind.
  EXPECT_TRUE(EndStep(state, limits, kStart + 1000, BucketOf(kStart)));
  ArriveOutcome fourth = ArriveStep(state, limits, kStart + 1000, true);
  EXPECT_FALSE(fourth.admitted) << "somebody is waiting";
  EXPECT_EQ(fourth.ticket, 2u);
  RoomCounters c = TickStep(state, limits, kStart + 1250);
  EXPECT_EQ(c.serving, 1u);
  EXPECT_FALSE(ClaimStep(state, limits, kStart + 1300, 2).admitted) << "not invited yet";
  ClaimOutcome first = ClaimStep(state, limits, kStart + 1300, 1);
  EXPECT_TRUE(first.admitted);
  EXPECT_EQ(first.counters.active, 2);
}

TEST(RoomLogicTest, RateLimitsDirectAdmissions) {
  RoomState state;
  RoomLimits limits = Limits(1000, 60);  // 1 per second, a burst of 5
  int admitted = 0;
  for (int i = 0; i < 20; ++i) admitted += ArriveStep(state, limits, kStart, true).admitted;
  EXPECT_EQ(admitted, 5);
}

TEST(RoomLogicTest, RateWithinFivePercentOverAnHour) {
  Simulation sim;
  sim.limits = Limits(100'000, 120);
  sim.arrivals_per_second = 5;  // 2.5x the admission rate
  sim.Run(3'600'000, /*measure_from_ms=*/60'000);
  double per_minute = static_cast<double>(sim.claims + sim.direct) / 59.0;
  EXPECT_NEAR(per_minute, 120.0, 6.0) << "claims " << sim.claims << " direct " << sim.direct;
}

TEST(RoomLogicTest, GhostsDoNotStallTheRate) {
  Simulation sim;
  sim.limits = Limits(100'000, 120);
  sim.arrivals_per_second = 6;
  sim.ghost_share = 0.5;  // half the queue never comes back
  sim.Run(3'600'000, /*measure_from_ms=*/300'000);
  double per_minute = static_cast<double>(sim.claims + sim.direct) / 55.0;
  EXPECT_NEAR(per_minute, 120.0, 6.0) << "claims " << sim.claims << " direct " << sim.direct;
  EXPECT_LT(sim.state.claim_ratio, 0.7);
}

// The ghost share is measured per cohort of invitations, so the correction
// is right as soon as the first cohorts are judged, not after a minute of
// drift: with half the queue abandoning, the real rate is at target from
// the second minute on.
TEST(RoomLogicTest, GhostCorrectionIsInPlaceWithinAMinute) {
  Simulation sim;
  sim.limits = Limits(100'000, 600);
  sim.arrivals_per_second = 30;
  sim.ghost_share = 0.5;
  sim.Run(150'000, /*measure_from_ms=*/60'000);
  double per_minute = static_cast<double>(sim.claims + sim.direct) / 1.5;
  EXPECT_NEAR(per_minute, 600.0, 30.0) << "claims " << sim.claims << " direct " << sim.direct;
  EXPECT_NEAR(sim.state.claim_ratio, 0.5, 0.08);
}

// Visitors who poll rarely (refresh_interval 30 s) are not taken for ghosts
// before they had the time to come back: the rate does not overshoot.
TEST(RoomLogicTest, SlowPollersAreNotTakenForGhosts) {
  Simulation sim;
  sim.limits = Limits(100'000, 120);
  sim.arrivals_per_second = 5;
  sim.poll_ms = 30'000;
  sim.Run(1'800'000, /*measure_from_ms=*/300'000);
  double per_minute = static_cast<double>(sim.claims + sim.direct) / 25.0;
  EXPECT_NEAR(per_minute, 120.0, 6.0) << "claims " << sim.claims << " direct " << sim.direct;
  EXPECT_GT(sim.state.claim_ratio, 0.9);
}

TEST(RoomLogicTest, ClaimsCountInTheBucketOfTheirInvitation) {
  RoomState state;
  RoomLimits limits = Limits(100'000, 600);  // 10 per second, a burst of 50
  state.tickets = 200;
  EXPECT_EQ(TickStep(state, limits, kStart).serving, 50u);  // the first burst
  int64_t first = BucketOf(kStart);
  RoomCounters later = TickStep(state, limits, kStart + 10'000);
  ASSERT_GT(later.serving, 50u);
  EXPECT_EQ(CohortOf(state, 1), first);
  EXPECT_EQ(CohortOf(state, 50), first);
  EXPECT_EQ(CohortOf(state, 51), first + 1);
  EXPECT_EQ(CohortOf(state, later.serving), first + 1);
  // A visitor invited in the first bucket who claims in the second counts
  // for the first bucket's cohort.
  ASSERT_TRUE(ClaimStep(state, limits, kStart + 15'000, 7).admitted);
  EXPECT_EQ(state.claims.Get(first), 1);
  EXPECT_EQ(state.claims.Get(first + 1), 0);
  // Two minutes on, the first cohort is forgotten: a claim counts nowhere.
  TickStep(state, limits, kStart + 130'000);
  EXPECT_EQ(CohortOf(state, 7), -1);
}

TEST(RoomLogicTest, ActiveNeverAboveTotalActiveUsers) {
  Simulation sim;
  sim.limits = Limits(300, 600, 120'000);
  sim.arrivals_per_second = 20;
  sim.ghost_share = 0.3;
  sim.Run(1'800'000);
  EXPECT_LE(sim.max_active, 300);
  EXPECT_GE(sim.max_active, 290) << "the room should fill up";
}

TEST(RoomLogicTest, RenewalMovesTheSessionAndExpiryFreesIt) {
  RoomState state;
  RoomLimits limits = Limits(10, 600, 60'000);  // 6 buckets
  ArriveOutcome a = ArriveStep(state, limits, kStart, true);
  ASSERT_TRUE(a.admitted);
  int64_t later = kStart + 50'000;
  int64_t renewed = RenewStep(state, limits, later, a.bucket);
  EXPECT_EQ(renewed, BucketOf(later));
  EXPECT_EQ(CountersOf(state, limits, later).active, 1) << "moved, not added";
  EXPECT_EQ(RenewStep(state, limits, later + 1, renewed), renewed) << "same bucket: no change";
  // Without activity the session leaves the window after session_duration.
  EXPECT_EQ(CountersOf(state, limits, later + 59'000).active, 1);
  EXPECT_EQ(CountersOf(state, limits, later + 71'000).active, 0);
}

TEST(RoomLogicTest, EndSessionFreesASlotOnce) {
  RoomState state;
  RoomLimits limits = Limits(1, 600);
  ArriveOutcome a = ArriveStep(state, limits, kStart, true);
  ASSERT_TRUE(a.admitted);
  EXPECT_FALSE(ArriveStep(state, limits, kStart + 10, true).admitted);
  EXPECT_TRUE(EndStep(state, limits, kStart + 20, a.bucket));
  EXPECT_FALSE(EndStep(state, limits, kStart + 20, a.bucket)) << "never below zero";
  EXPECT_EQ(CountersOf(state, limits, kStart + 20).active, 0);
  EXPECT_EQ(TickStep(state, limits, kStart + 300).serving, 1u);
}

TEST(RoomLogicTest, PassthroughAndRejectInviteNobody) {
  for (QueueingMethod method : {QueueingMethod::kPassthrough, QueueingMethod::kReject}) {
    RoomState state;
    RoomLimits limits = Limits(1, 600);
    limits.method = method;
    state.tickets = 5;
    EXPECT_EQ(TickStep(state, limits, kStart).serving, 0u);
  }
}

TEST(RoomLogicTest, TickingMoreOftenAdmitsNoMore) {
  RoomLimits limits = Limits(100'000, 60);
  RoomState a;
  RoomState b;
  a.tickets = b.tickets = 1000;
  // Every invited visitor claims at once (no ghosts).
  auto tick_and_claim = [&](RoomState& s, int64_t now) {
    uint64_t before = s.serving;
    TickStep(s, limits, now);
    for (uint64_t n = before + 1; n <= s.serving; ++n) ClaimStep(s, limits, now, n);
  };
  for (int64_t t = 0; t <= 60'000; t += 1000) tick_and_claim(a, kStart + t);
  for (int64_t t = 0; t <= 60'000; t += 10) tick_and_claim(b, kStart + t);
  EXPECT_NEAR(static_cast<double>(a.serving), 65.0, 1.0);  // burst of 5 + 60 per minute
  EXPECT_NEAR(static_cast<double>(b.serving), static_cast<double>(a.serving), 1.0);
}

TEST(RoomLogicTest, ShuffleIsAPermutationOfEachBlock) {
  std::set<uint64_t> seen;
  for (uint64_t t = 1; t <= 2 * kShuffleBlock; ++t) {
    uint64_t n = ShuffledNumber(t, "secret-seed");
    EXPECT_EQ((n - 1) / kShuffleBlock, (t - 1) / kShuffleBlock) << "blocks stay in order";
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 2 * kShuffleBlock);
  int moved = 0;
  for (uint64_t t = 1; t <= kShuffleBlock; ++t) moved += ShuffledNumber(t, "secret-seed") != t;
  EXPECT_GT(moved, 32);
  EXPECT_NE(ShuffledNumber(1, "a"), ShuffledNumber(1, "b")) << "keyed";
  EXPECT_EQ(InviteCeiling(65, QueueingMethod::kRandom), 128u);
  EXPECT_EQ(InviteCeiling(65, QueueingMethod::kFifo), 65u);
}

TEST(RoomLogicTest, BucketMemoryIsBounded) {
  RoomState state;
  RoomLimits limits = Limits(1'000'000, 1'000'000, 60'000);
  for (int64_t t = 0; t < 3'600'000; t += 1000) {
    ArriveStep(state, limits, kStart + t, true);
    TickStep(state, limits, kStart + t);
  }
  EXPECT_LE(state.sessions.size(), 8u);
  EXPECT_LE(state.admissions.size(), 14u);
}

}  // namespace
}  // namespace tidegate::queue
