#include "queue/protect_room.h"

#include <gtest/gtest.h>

#include <vector>

#include "queue/local_room_store.h"
#include "queue/room_registry.h"

namespace tidegate::queue {
namespace {

config::RoomConfig::Protect On() {
  config::RoomConfig::Protect p;
  p.enabled = true;
  p.target_latency = config::Duration(300);
  p.max_error_rate = 0.05;
  return p;
}

RoomLimits Ceilings(uint32_t active, uint32_t rate) {
  RoomLimits l;
  l.total_active_users = active;
  l.new_users_per_minute = rate;
  return l;
}

proxy::UpstreamOutcome Response(int status, int64_t ms) {
  proxy::UpstreamOutcome o;
  o.status = status;
  o.time_to_headers = std::chrono::milliseconds(ms);
  return o;
}

RoomCounters Inside(int64_t active, uint64_t queued = 0) {
  RoomCounters c;
  c.active = active;
  c.tickets = queued;
  return c;
}

proxy::UpstreamOutcome Failure(int64_t ms) {
  proxy::UpstreamOutcome o;
  o.kind = proxy::UpstreamOutcome::Kind::kFailure;
  o.time_to_headers = std::chrono::milliseconds(ms);
  return o;
}

// The origin's 200 head was reported, then its bad body (same read) made the
// proxy answer 502 instead: the stream reports a failure as the final
// outcome. One exchange stays one sample, and it counts as an error, as a
// 502 from a dead origin does.
TEST(ProtectRoomTest, AResponseReplacedByTheProxys502IsOneErrorSample) {
  RoomProtection p;
  p.Configure(On());
  RoomProtection::ExchangeSample replaced;
  p.Record(1'000, Response(200, 10), &replaced);
  p.Record(1'001, Failure(11), &replaced);
  RoomProtection::ExchangeSample healthy;
  p.Record(1'002, Response(200, 10), &healthy);
  OriginHealth h = p.status(1'100).measured;
  EXPECT_EQ(h.samples, 2u);
  EXPECT_EQ(h.errors, 1u);
  EXPECT_TRUE(replaced.error);
  EXPECT_FALSE(healthy.error);
}

proxy::UpstreamOutcome Timeout(int64_t ms) {
  proxy::UpstreamOutcome o;
  o.kind = proxy::UpstreamOutcome::Kind::kTimeout;
  o.time_to_headers = std::chrono::milliseconds(ms);
  return o;
}

// F3: a request that hung is slow while it hangs; the 504 that ends it
// after response_timeout (30 s) says nothing about the origin then — it
// recovered meanwhile — and must not shut the door.
TEST(ProtectRoomTest, AStaleTimeoutIsAccountedWhenItCrossedTheTarget) {
  RoomProtection p;
  p.Configure(On());  // target 300 ms
  p.Apply(Ceilings(1000, 6000));
  RoomProtection::ExchangeSample hung;
  p.Begin(0, &hung);
  EXPECT_EQ(p.status(200).measured.in_flight, 1u);
  EXPECT_EQ(p.status(1'000).measured.overdue, 1u) << "slow while it hangs";
  for (int i = 0; i < 20; ++i) p.Record(29'900 + i, Response(200, 20));  // recovered
  p.Record(30'000, Timeout(30'000), &hung);
  OriginHealth h = p.status(30'100).measured;
  EXPECT_EQ(h.in_flight, 0u);
  EXPECT_EQ(h.errors, 0u) << "the 504 belongs 29.7 s ago";
  EXPECT_EQ(h.samples, 20u);
  // A slow answer still counts, at the moment it crossed the target.
  RoomProtection::ExchangeSample slow;
  p.Begin(30'000, &slow);
  p.Record(30'800, Response(200, 800), &slow);
  EXPECT_EQ(p.status(30'900).measured.samples, 21u);
}

// F3: an exchange ended without an outcome (client gone) is no longer in
// flight; Begin while off leaves nothing behind.
TEST(ProtectRoomTest, AnExchangeEndedWithoutAnswerLeavesTheFlight) {
  RoomProtection p;
  p.Configure(On());
  RoomProtection::ExchangeSample gone;
  p.Begin(0, &gone);
  p.End(&gone);
  p.End(&gone);
  EXPECT_EQ(p.status(5'000).measured.in_flight, 0u);
  RoomProtection off;
  RoomProtection::ExchangeSample s;
  off.Begin(0, &s);
  EXPECT_EQ(s.started_ms, -1);
}

// F3 through the room: nothing answers, and the door closes.
TEST(ProtectRoomTest, AHungOriginCutsTheDoor) {
  RoomProtection p;
  p.Configure(On());  // target 300 ms
  p.Apply(Ceilings(1000, 6000));
  EXPECT_TRUE(p.OnTick(Inside(20), 1'000));  // start: 34
  std::vector<RoomProtection::ExchangeSample> hung(20);
  for (auto& s : hung) p.Begin(1'100, &s);
  EXPECT_TRUE(p.OnTick(Inside(20, 50), 2'000));
  ProtectStatus s = p.status(2'000);
  EXPECT_EQ(s.state.move, ProtectMove::kCutLatency) << s.state.reason;
  EXPECT_LT(s.effective.total_active_users, 20u);
}

TEST(ProtectRoomTest, AFinalOutcomeNeverCountsAnExchangeTwice) {
  RoomProtection p;
  p.Configure(On());
  // An origin 503 whose body then failed: still one error.
  RoomProtection::ExchangeSample a;
  p.Record(1'000, Response(503, 10), &a);
  p.Record(1'000, Failure(10), &a);
  // A later call that is no error changes nothing.
  RoomProtection::ExchangeSample b;
  p.Record(1'000, Response(200, 10), &b);
  p.Record(1'000, Response(200, 10), &b);
  OriginHealth h = p.status(1'100).measured;
  EXPECT_EQ(h.samples, 2u);
  EXPECT_EQ(h.errors, 1u);
}

TEST(ProtectRoomTest, ASampleThatLeftTheWindowIsNotAmended) {
  OriginHealthWindow w;
  w.Record(1'000, 10'000, false);
  w.MarkError(1'000);
  EXPECT_EQ(w.Read(1'000).errors, 1u);
  w.MarkError(1'000);  // never more errors than samples
  EXPECT_EQ(w.Read(1'000).errors, 1u);
  w.Record(1'100, 10'000, false);
  w.Record(1'000 + OriginHealthWindow::kWindowMillis, 10'000, false);  // reuses the bin
  w.MarkError(1'100);
  OriginHealth h = w.Read(1'000 + OriginHealthWindow::kWindowMillis);
  EXPECT_EQ(h.samples, 1u);
  EXPECT_EQ(h.errors, 0u);
}

TEST(ProtectRoomTest, OffRecordsNoSampleOfAnExchange) {
  RoomProtection p;
  p.Configure(config::RoomConfig::Protect{});
  RoomProtection::ExchangeSample s;
  p.Record(1'000, Response(200, 10), &s);
  p.Record(1'000, Failure(10), &s);
  EXPECT_EQ(p.status(1'100).measured.samples, 0u);
  EXPECT_LT(s.recorded_ms, 0);
}

// After a restart no request has shown the room's ceilings yet: a report
// that knows the limits in force (configured, or restored overrides) shows
// them, not 0/0; once a request applied its ceilings, those are shown.
TEST(ProtectRoomTest, StatusBeforeTheFirstRequestShowsTheLimitsInForce) {
  RoomProtection p;
  p.Configure(On());
  ProtectStatus bare = p.status(1'000);
  EXPECT_EQ(bare.ceilings.total_active_users, 0u) << "what the report showed before";
  ProtectStatus s = p.status(1'000, Ceilings(40, 120));
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.ceilings.total_active_users, 40u);
  EXPECT_EQ(s.ceilings.new_users_per_minute, 120u);
  EXPECT_EQ(s.effective.total_active_users, 40u);
  EXPECT_EQ(s.effective.new_users_per_minute, 120u);
  EXPECT_FALSE(s.limiting());
  p.Apply(Ceilings(30, 90));
  s = p.status(1'000, Ceilings(40, 120));
  EXPECT_EQ(s.ceilings.total_active_users, 30u) << "the ceilings the room applies win";
  EXPECT_EQ(s.ceilings.new_users_per_minute, 90u);
}

TEST(ProtectRoomTest, OriginErrorsAreFiveHundredsConnectFailuresAndTimeouts) {
  EXPECT_FALSE(IsOriginError(Response(200, 1)));
  EXPECT_FALSE(IsOriginError(Response(404, 1)));
  EXPECT_FALSE(IsOriginError(Response(429, 1)));
  EXPECT_TRUE(IsOriginError(Response(500, 1)));
  EXPECT_TRUE(IsOriginError(Response(503, 1)));
  proxy::UpstreamOutcome failed;
  for (auto kind :
       {proxy::UpstreamOutcome::Kind::kConnectFailure, proxy::UpstreamOutcome::Kind::kTimeout,
        proxy::UpstreamOutcome::Kind::kFailure}) {
    failed.kind = kind;
    EXPECT_TRUE(IsOriginError(failed));
  }
}

TEST(ProtectRoomTest, OffChangesNothingAndRecordsNothing) {
  RoomProtection p;
  p.Configure(config::RoomConfig::Protect{});  // enabled = false
  RoomLimits applied = p.Apply(Ceilings(500, 200));
  EXPECT_EQ(applied.total_active_users, 500u);
  EXPECT_EQ(applied.new_users_per_minute, 200u);
  p.Record(1'000, Response(503, 10));
  EXPECT_FALSE(p.OnTick(Inside(100), 1'000));
  EXPECT_EQ(p.status(1'000).measured.samples, 0u);
}

TEST(ProtectRoomTest, ErrorsLowerTheEffectiveLimitsUnderTheCeilings) {
  RoomProtection p;
  p.Configure(On());
  EXPECT_EQ(p.Apply(Ceilings(1000, 6000)).total_active_users, 1000u) << "no decision yet";
  EXPECT_TRUE(p.OnTick(Inside(40), 1'000));  // slow start from 40 inside
  EXPECT_EQ(p.Apply(Ceilings(1000, 6000)).total_active_users, 64u);
  EXPECT_FALSE(p.OnTick(Inside(40), 1'500)) << "one decision per second";
  for (int i = 0; i < 50; ++i) p.Record(1'600 + i, Response(503, 5));
  EXPECT_TRUE(p.OnTick(Inside(40), 2'000));
  RoomLimits applied = p.Apply(Ceilings(1000, 6000));
  EXPECT_EQ(applied.total_active_users, 20u) << "half of who is inside";
  EXPECT_LE(applied.new_users_per_minute, 6000u);
  ProtectStatus s = p.status(2'000);
  EXPECT_TRUE(s.limiting());
  EXPECT_EQ(s.state.move, ProtectMove::kCutErrors);
  EXPECT_EQ(s.state.direction, -1);
  EXPECT_NE(s.state.reason.find("errors 100.0 %"), std::string::npos) << s.state.reason;
  EXPECT_EQ(s.measured.errors, 50u);
  // An operator pins lower limits (PATCH /v1/rooms): they win at once.
  EXPECT_EQ(p.Apply(Ceilings(10, 60)).total_active_users, 10u);
  // Protection switched off by a reload: the ceilings again.
  p.Configure(config::RoomConfig::Protect{});
  EXPECT_EQ(p.Apply(Ceilings(1000, 6000)).total_active_users, 1000u);
}

TEST(ProtectRoomTest, AFollowerAppliesTheWritersDecision) {
  RoomProtection p;
  p.Configure(On());
  p.Apply(Ceilings(1000, 6000));
  p.set_decides(false);
  EXPECT_FALSE(p.OnTick(Inside(40), 1'000));
  ProtectState decided;
  decided.limit = 123;
  decided.rate = 456;
  decided.move = ProtectMove::kCutLatency;
  p.Adopt(decided, 1'000);
  RoomLimits applied = p.Apply(Ceilings(1000, 6000));
  EXPECT_EQ(applied.total_active_users, 123u);
  EXPECT_EQ(applied.new_users_per_minute, 456u);
}

// A writer's grow opens the door over a second (ProtectController::Limits);
// a follower that adopts it opens the same way, not all at once (three
// instances opening at once would let a burst in).
TEST(ProtectRoomTest, AFollowerOpensOverTheWritersRamp) {
  RoomProtection p;
  p.Configure(On());
  p.Apply(Ceilings(1000, 6000));
  p.set_decides(false);
  ProtectState decided;
  decided.limit = 80;
  decided.ramp_from = 40;
  decided.rate = 600;
  decided.decided_ms = 10'000;
  decided.move = ProtectMove::kGrow;
  p.Adopt(decided, 10'000);
  EXPECT_EQ(p.Apply(Ceilings(1000, 6000)).total_active_users, 40u);
  EXPECT_FALSE(p.OnTick(Inside(40), 10'500));
  EXPECT_EQ(p.Apply(Ceilings(1000, 6000)).total_active_users, 60u);
  EXPECT_FALSE(p.OnTick(Inside(60), 11'000));
  EXPECT_EQ(p.Apply(Ceilings(1000, 6000)).total_active_users, 80u);
}

// Each instance sees its own share of the traffic: a follower stops the
// writer's opening on its own samples at once (the writer's next decision
// is up to a second away), and a republished copy of the same decision
// does not reopen it; the writer's next decision is adopted whole.
TEST(ProtectRoomTest, AFollowerBrakesTheOpeningOnItsOwnSamples) {
  RoomProtection p;
  p.Configure(On());  // target 300 ms
  p.Apply(Ceilings(1000, 6000));
  p.set_decides(false);
  ProtectState decided;
  decided.limit = 80;
  decided.ramp_from = 40;
  decided.rate = 600;
  decided.calm_p90_ms = 50;
  decided.decided_ms = 10'000;
  decided.move = ProtectMove::kGrow;
  p.Adopt(decided, 10'000);
  // Six slow samples in the last half second are too few; twelve in the
  // last second are enough (90 ms > 1.2 x the calm 50 ms, in the slow start).
  for (int i = 0; i < 6; ++i) p.Record(9'800, Response(200, 90));
  for (int i = 0; i < 6; ++i) p.Record(10'200, Response(200, 90));
  EXPECT_FALSE(p.OnTick(Inside(45), 10'250));
  EXPECT_EQ(p.Apply(Ceilings(1000, 6000)).total_active_users, 49u) << "45 inside + 4";
  EXPECT_EQ(p.status(10'250).state.move, ProtectMove::kHold) << p.status(10'250).state.reason;
  p.Adopt(decided, 10'500);  // the same decision, republished
  EXPECT_EQ(p.Apply(Ceilings(1000, 6000)).total_active_users, 49u);
  ProtectState next = decided;
  next.decided_ms = 11'000;
  next.limit = 60;
  next.ramp_from = 60;
  next.move = ProtectMove::kHold;
  p.Adopt(next, 11'000);
  EXPECT_EQ(p.Apply(Ceilings(1000, 6000)).total_active_users, 60u);
}

TEST(ProtectRoomTest, WaitEstimateUsesTheEffectiveRate) {
  RoomRuntime runtime(std::make_unique<LocalRoomStore>());
  runtime.protection.Configure(On());
  RoomLimits ceilings = Ceilings(1000, 6000);  // 100 per second configured
  runtime.protection.Apply(ceilings);
  ProtectState decided;
  decided.limit = 50;
  decided.rate = 60;  // the controller lets one in per second
  decided.move = ProtectMove::kCutLatency;
  runtime.protection.Adopt(decided, 1'000);
  RoomLimits effective = runtime.protection.Apply(ceilings);
  EXPECT_EQ(effective.new_users_per_minute, 60u);
  // Before the queue's speed is measured, the estimate divides by the rate
  // in force: 120 places at one a second is about two minutes, not 1.2 s.
  WaitRange wait = runtime.EstimateFor(120, effective);
  EXPECT_GE(wait.high_seconds, 120);
  EXPECT_LE(wait.low_seconds, 120);
  EXPECT_LT(runtime.EstimateFor(120, ceilings).high_seconds, 20) << "what it would say unprotected";
}

}  // namespace
}  // namespace tidegate::queue
