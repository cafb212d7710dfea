#include "queue/eta.h"

#include <gtest/gtest.h>

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
  AdmissionRate rate;
  EXPECT_DOUBLE_EQ(rate.PerSecond(2.0), 2.0);
  rate.Observe(1'000, 0);
  rate.Observe(11'000, 10);
  EXPECT_DOUBLE_EQ(rate.PerSecond(2.0), 2.0) << "10 s is not enough";
  for (int i = 2; i <= 4; ++i) rate.Observe(1'000 + i * 10'000, static_cast<uint64_t>(i) * 10);
  EXPECT_NEAR(rate.PerSecond(2.0), 1.0, 1e-9);
}

TEST(EtaTest, SmoothedRateDoesNotJumpAround) {
  // Admissions arrive in noisy bursts around 2 per second; polled every 5 s
  // by a visitor moving up the queue, the range changes rarely and smoothly.
  std::mt19937 rng(7);
  std::poisson_distribution<int> per_second(2.0);
  AdmissionRate rate;
  uint64_t total = 0;
  int64_t position = 1200;
  int changes = 0;
  WaitRange previous{-1, -1};
  for (int64_t t = 0; t < 600; ++t) {
    total += per_second(rng);
    rate.Observe(t * 1000 + 1, total);
    if (t % 5 != 0 || t < 60) continue;
    position = std::max<int64_t>(0, 1200 - static_cast<int64_t>(total));
    WaitRange r = EstimateWait(static_cast<uint64_t>(position), rate.PerSecond(2.0));
    if (previous.low_seconds >= 0) {
      changes += r.low_seconds != previous.low_seconds || r.high_seconds != previous.high_seconds;
      EXPECT_LE(r.high_seconds, previous.high_seconds + 60) << "never jumps up at t=" << t;
    }
    previous = r;
  }
  EXPECT_LT(changes, 40) << "out of ~108 polls";
  EXPECT_NEAR(rate.PerSecond(0), 2.0, 0.4);
}

}  // namespace
}  // namespace tidegate::queue
