#include "queue/eta.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace tidegate::queue {
namespace {

TEST(EtaTest, RangeAroundPositionOverRate) {
  WaitRange r = EstimateWait(100, 1.0);  // 100 s expected
  EXPECT_LE(r.low_seconds, 100);
  EXPECT_GE(r.high_seconds, 100);
  EXPECT_EQ(r.low_seconds % 10, 0);
  EXPECT_EQ(r.high_seconds % 60, 0);
  WaitRange first = EstimateWait(0, 1.0);
  EXPECT_EQ(first.low_seconds, 0);
  EXPECT_EQ(first.high_seconds, 10);
  WaitRange long_wait = EstimateWait(10'000, 1.0);
  EXPECT_EQ(long_wait.low_seconds % 900, 0);
  EXPECT_EQ(EstimateWait(5, 0).high_seconds > 0, true) << "a zero rate is floored, not infinite";
}

TEST(EtaTest, UsesFallbackUntilMeasured) {
  QueueSpeed speed;
  EXPECT_DOUBLE_EQ(speed.PerSecond(2.0), 2.0);
  speed.Observe(1'000, 0, true, 2.0);
  speed.Observe(6'000, 50, true, 2.0);
  EXPECT_DOUBLE_EQ(speed.PerSecond(2.0), 2.0) << "5 s is not enough";
  speed.Observe(11'000, 60, true, 2.0);
  EXPECT_NEAR(speed.PerSecond(2.0), 6.0, 1e-9) << "the mean of the first 10 s, burst included";
}

TEST(EtaTest, TimeWithNobodyWaitingIsNotMeasured) {
  QueueSpeed speed;
  // Ten minutes with an empty queue: serving does not move, and that says
  // nothing about the queue's speed.
  for (int64_t t = 0; t <= 600; ++t) speed.Observe(t * 1000, 100, false, 3.0);
  EXPECT_DOUBLE_EQ(speed.PerSecond(3.0), 3.0) << "still the fallback";
  // Then a queue forms and moves 4 numbers a second.
  // (The last sample: the queue has just emptied.)
  for (int64_t t = 601; t <= 620; ++t) speed.Observe(t * 1000, 100 + 4 * (t - 600), t < 620, 3.0);
  EXPECT_NEAR(speed.PerSecond(3.0), 4.0, 0.01);
  // Idle again for an hour: the speed measured is kept.
  uint64_t serving = 100 + 4 * 20;
  for (int64_t t = 621; t <= 4200; t += 10) speed.Observe(t * 1000, serving, false, 3.0);
  EXPECT_NEAR(speed.PerSecond(3.0), 4.0, 0.01);
}

TEST(EtaTest, SmoothedRateDoesNotJumpAround) {
  // Numbers are invited in noisy bursts around 2 per second; polled every
  // 5 s by a visitor moving up the queue, the range changes rarely and
  // smoothly.
  std::mt19937 rng(7);
  std::poisson_distribution<int> per_second(2.0);
  QueueSpeed speed;
  uint64_t serving = 0;
  int64_t position = 1200;
  int changes = 0;
  WaitRange previous{-1, -1};
  for (int64_t t = 0; t < 600; ++t) {
    serving += per_second(rng);
    speed.Observe(t * 1000 + 1, serving, true, 2.0);
    if (t % 5 != 0 || t < 60) continue;
    position = std::max<int64_t>(0, 1200 - static_cast<int64_t>(serving));
    WaitRange r = EstimateWait(static_cast<uint64_t>(position), speed.PerSecond(2.0));
    if (previous.low_seconds >= 0) {
      changes += r.low_seconds != previous.low_seconds || r.high_seconds != previous.high_seconds;
      EXPECT_LE(r.high_seconds, previous.high_seconds + 60) << "never jumps up at t=" << t;
    }
    previous = r;
  }
  EXPECT_LT(changes, 40) << "out of ~108 polls";
  EXPECT_NEAR(speed.PerSecond(0), 2.0, 0.4);
}

// At 2 a minute a 10-s window holds no invitation: a measured zero would
// promise an hour to the seventh in line. The first window holds about five
// invitations at the configured rate (150 s), the configured rate is used
// until then, and the smoothing is slow enough that one quiet half-minute
// does not triple the estimate.
TEST(EtaTest, SlowRoomsMeasureOverEnoughInvitations) {
  const double rate = 2.0 / 60.0;
  QueueSpeed speed;
  uint64_t serving = 0;
  for (int64_t t = 0; t <= 140; ++t) {
    if (t > 0 && t % 30 == 0) ++serving;  // one invitation every 30 s
    speed.Observe(t * 1000, serving, true, rate);
    EXPECT_DOUBLE_EQ(speed.PerSecond(rate), rate) << "still the configured rate at t=" << t;
  }
  for (int64_t t = 141; t <= 600; ++t) {
    if (t % 30 == 0) ++serving;
    speed.Observe(t * 1000, serving, true, rate);
  }
  EXPECT_NEAR(speed.PerSecond(rate), rate, rate * 0.3);
  WaitRange seventh = EstimateWait(7, speed.PerSecond(rate));
  EXPECT_LE(seventh.low_seconds, 210);
  EXPECT_GE(seventh.high_seconds, 210);
  EXPECT_LE(seventh.high_seconds, 420) << "not an hour";
}

// A restart forgets what was measured: the fallback applies again until a
// new first window, so a pre-queue's standstill or an old limit's speed
// does not carry over.
TEST(EtaTest, RestartGoesBackToTheConfiguredRate) {
  QueueSpeed speed;
  for (int64_t t = 0; t <= 60; ++t)
    speed.Observe(t * 1000, static_cast<uint64_t>(t) * 4, true, 2.0);
  EXPECT_NEAR(speed.PerSecond(2.0), 4.0, 0.01);
  speed.Restart();
  EXPECT_DOUBLE_EQ(speed.PerSecond(0.5), 0.5);
  for (int64_t t = 61; t <= 75; ++t)
    speed.Observe(t * 1000, 240 + static_cast<uint64_t>(t - 61), true, 0.5);
  EXPECT_NEAR(speed.PerSecond(0.5), 1.0, 0.01) << "measured again from the restart on";
}

// A line that stops moving is noticed: after 5 s (or two invitations' time
// at a slow configured rate) with people waiting and nothing invited.
TEST(EtaTest, StallIsNoticedAfterTwoInvitationsTime) {
  QueueSpeed speed;
  for (int64_t t = 0; t <= 20; ++t) speed.Observe(t * 1000, static_cast<uint64_t>(t), true, 1.0);
  EXPECT_TRUE(speed.Measured());
  EXPECT_FALSE(speed.Stalled());
  for (int64_t t = 21; t <= 25; ++t) speed.Observe(t * 1000, 20, true, 1.0);
  EXPECT_FALSE(speed.Stalled()) << "5 s is usual";
  speed.Observe(27'000, 20, true, 1.0);
  EXPECT_TRUE(speed.Stalled());
  speed.Observe(28'000, 21, true, 1.0);
  EXPECT_FALSE(speed.Stalled()) << "moving again";
  // Nobody waiting: no stall.
  for (int64_t t = 29; t <= 60; ++t) speed.Observe(t * 1000, 21, false, 1.0);
  EXPECT_FALSE(speed.Stalled());
  // At 2 a minute, 50 s without an invitation is usual; 61 s is not.
  QueueSpeed slow;
  for (int64_t t = 0; t <= 50; ++t) slow.Observe(t * 1000, 0, true, 2.0 / 60.0);
  EXPECT_FALSE(slow.Stalled());
  for (int64_t t = 51; t <= 62; ++t) slow.Observe(t * 1000, 0, true, 2.0 / 60.0);
  EXPECT_TRUE(slow.Stalled());
}

// Audit F4: after a measurement restarted, the configured rate (200 a
// minute) promised "less than a minute" to the 141st in line of a queue
// seen moving 4 numbers in 20 s. Until the first window is measured, what
// was seen so far bounds the speed: one invitation more than seen.
TEST(EtaTest, UnmeasuredSpeedIsBoundedByWhatWasSeen) {
  const double configured = 200.0 / 60.0;
  QueueSpeed speed;
  speed.Observe(1'000, 500, true, configured);
  for (int64_t t = 2; t <= 6; ++t) speed.Observe(t * 1000, 500, true, configured);
  ASSERT_FALSE(speed.Measured()) << "5 s of a 10-s first window";
  EXPECT_NEAR(speed.PerSecond(configured), 1.0 / 5.0, 1e-9) << "(0 + 1) invitations in 5 s";
  WaitRange r = EstimateWait(141, speed.PerSecond(configured));
  EXPECT_GE(r.high_seconds, 600) << "not less than a minute";
  // A line seen moving faster than the configured rate keeps the latter.
  QueueSpeed fast;
  fast.Observe(1'000, 0, true, 1.0);
  fast.Observe(3'000, 20, true, 1.0);
  EXPECT_DOUBLE_EQ(fast.PerSecond(1.0), 1.0);
}

// Audit F4: a stalled line's speed floored at one invitation per 10 min
// gave the 141st in line "67,500 to 106,200 s" (29 hours).
TEST(EtaTest, NeverShowsMoreThanFourHours) {
  WaitRange day = EstimateWait(141, 0);
  EXPECT_TRUE(day.more_than);
  EXPECT_EQ(day.low_seconds, kMaxShownWaitSeconds);
  EXPECT_EQ(day.high_seconds, kMaxShownWaitSeconds);
  WaitRange near = EstimateWait(3 * 3600, 1.0);  // 2 h 24 to 3 h 45
  EXPECT_FALSE(near.more_than);
  EXPECT_LE(near.high_seconds, kMaxShownWaitSeconds);
  EXPECT_GT(near.high_seconds, near.low_seconds);
  WaitRange edge = EstimateWait(4 * 3600, 1.0);  // low 3 h 12: top end clipped
  EXPECT_FALSE(edge.more_than);
  EXPECT_EQ(edge.high_seconds, kMaxShownWaitSeconds);
  EXPECT_GT(edge.high_seconds, edge.low_seconds);
  EXPECT_TRUE(EstimateWait(5 * 3600, 1.0).more_than) << "low end 4 h";
}

// A line that stopped for a minute (or ten invitations' time at a slow
// configured rate) is said to have stopped.
TEST(EtaTest, LongStallIsNoticedAfterAMinute) {
  QueueSpeed speed;
  for (int64_t t = 0; t <= 20; ++t) speed.Observe(t * 1000, static_cast<uint64_t>(t), true, 1.0);
  for (int64_t t = 21; t <= 79; ++t) speed.Observe(t * 1000, 20, true, 1.0);
  EXPECT_TRUE(speed.Stalled());
  EXPECT_FALSE(speed.LongStalled()) << "59 s";
  speed.Observe(80'000, 20, true, 1.0);
  EXPECT_TRUE(speed.LongStalled());
  speed.Observe(81'000, 21, true, 1.0);
  EXPECT_FALSE(speed.LongStalled()) << "moving again";
  QueueSpeed slow;  // 2 a minute: ten invitations are 5 min
  for (int64_t t = 0; t <= 200; ++t) slow.Observe(t * 1000, 0, true, 2.0 / 60.0);
  EXPECT_FALSE(slow.LongStalled());
  for (int64_t t = 201; t <= 301; ++t) slow.Observe(t * 1000, 0, true, 2.0 / 60.0);
  EXPECT_TRUE(slow.LongStalled());
}

// The shown speed follows a rise at once, a fall by at most half per 5 s;
// a reset lets a fall through at once.
TEST(EtaTest, ShownRateFallsByAtMostHalfPerFiveSeconds) {
  ShownRate shown;
  EXPECT_DOUBLE_EQ(shown.Bound(3.0), 3.0) << "nothing shown yet";
  shown.Update(1'000, 4.0);
  EXPECT_DOUBLE_EQ(shown.Bound(0.01), 4.0);
  shown.Update(6'000, 0.01);
  EXPECT_NEAR(shown.Bound(0.01), 2.0, 1e-9) << "half after 5 s";
  shown.Update(7'000, 0.01);
  EXPECT_NEAR(shown.Bound(0.01), 2.0 * std::exp2(-0.2), 1e-9);
  shown.Update(8'000, 10.0);
  EXPECT_DOUBLE_EQ(shown.Bound(0.01), 10.0) << "a rise passes at once";
  for (int64_t t = 9; t <= 200; ++t) shown.Update(t * 1000, 0.01);
  EXPECT_NEAR(shown.Bound(0.01), 0.01, 1e-9) << "reaches a lasting fall";
  shown.Update(201'000, 5.0);
  shown.Reset();
  EXPECT_DOUBLE_EQ(shown.Bound(0.02), 0.02) << "new limits: no bound";
}

// A full room's speed when nothing is measured: its sessions' turnover
// (4 places per 300 s), unless auto-protection's door is opening below its
// ceiling (audit 16 F2): then the line comes in as the door grows by 4 a
// second, and only what lies beyond the ceiling at the ceiling's turnover.
TEST(EtaTest, AFullRoomWhoseDoorOpensLetsTheLineInAsTheDoorGrows) {
  FullRoom full{/*limit=*/4, /*session_seconds=*/300, /*opening_per_second=*/0, /*ceiling=*/0};
  EXPECT_NEAR(FullRoomPerSecond(full, 4), 4.0 / 300, 1e-12) << "really full: the turnover";
  FullRoom opening{4, 300, 4, 500, /*inside=*/4};
  EXPECT_NEAR(FullRoomPerSecond(opening, 4), 4.0, 1e-9) << "4 places, the door +4 a second";
  EXPECT_LE(EstimateWait(4, FullRoomPerSecond(opening, 4)).high_seconds, 10);
  EXPECT_GE(EstimateWait(4, FullRoomPerSecond(full, 4)).low_seconds, 240) << "what main said";
  // 996 beyond a door that opens 496 more: 124 s of door, then 500 places
  // at 500 per 300 s.
  EXPECT_NEAR(FullRoomPerSecond(opening, 996), 996.0 / (124 + 300), 1e-9);
  // After a cut the door is below the sessions inside (100 of them, limit
  // 80): nobody comes in for 5 s, then 4 a second.
  FullRoom below_inside{80, 300, 4, 500, /*inside=*/100};
  EXPECT_NEAR(FullRoomPerSecond(below_inside, 20), 20.0 / 10, 1e-9);
  FullRoom at_ceiling{500, 300, 4, 500};
  EXPECT_NEAR(FullRoomPerSecond(at_ceiling, 10), 500.0 / 300, 1e-12) << "nothing left to open";
  FullRoom slow_door{400, 300, 4, 500};  // the door slower than the turnover of 400
  EXPECT_GE(FullRoomPerSecond(slow_door, 2000), 400.0 / 300) << "never below the turnover";
}

}  // namespace
}  // namespace tidegate::queue
