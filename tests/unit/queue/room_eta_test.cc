// The wait estimate as RoomRuntime gives it (queue/room_registry.h,
// QueueNumbersPerSecond / EstimateFor), on a fake clock, with a store whose
// counters the test sets: audit F4, the estimate swinging x10-x100 between
// two polls 1 s apart while auto-protection moves the room's limits.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "queue/room_registry.h"

namespace tidegate::queue {
namespace {

// Ticks return the counters the test set; every other call fails.
class FakeStore : public RoomStore {
 public:
  RoomCounters counters;

  void Arrive(const StoreCaller&, const RoomLimits&, int64_t, bool,
              Done<ArriveOutcome> done) override {
    done(Failed<ArriveOutcome>());
  }
  void Claim(const StoreCaller&, const RoomLimits&, int64_t, uint64_t, uint64_t, uint64_t,
             Done<ClaimOutcome> done) override {
    done(Failed<ClaimOutcome>());
  }
  void Admit(const StoreCaller&, const RoomLimits&, int64_t, Done<int64_t> done) override {
    done(Failed<int64_t>());
  }
  void RenewSession(const StoreCaller&, const RoomLimits&, int64_t, int64_t, uint64_t,
                    Done<int64_t> done) override {
    done(Failed<int64_t>());
  }
  void EndSession(const StoreCaller&, const RoomLimits&, int64_t, int64_t, uint64_t, int64_t,
                  Done<bool> done) override {
    done(Failed<bool>());
  }
  bool SessionEnded(uint64_t, int64_t) const override { return false; }
  void Tick(const StoreCaller&, const RoomLimits&, int64_t now_ms,
            Done<RoomCounters> done) override {
    counters.updated_ms = now_ms;
    StoreResult<RoomCounters> r;
    r.value = counters;
    done(r);
  }
  void Mark(const StoreCaller&, const std::string&, int64_t, Done<uint64_t> done) override {
    done(Failed<uint64_t>());
  }
  void Keep(const StoreCaller&, const std::string&, uint64_t, int64_t,
            Done<uint64_t> done) override {
    done(Failed<uint64_t>());
  }
  RoomCounters Snapshot() const override { return counters; }

 private:
  template <typename T>
  static StoreResult<T> Failed() {
    StoreResult<T> r;
    r.ok = false;
    r.error = "fake";
    return r;
  }
};

RoomLimits Limits(uint32_t active, uint32_t rate, int64_t session_ms = 300'000) {
  RoomLimits l;
  l.total_active_users = active;
  l.new_users_per_minute = rate;
  l.session_ms = session_ms;
  return l;
}

config::RoomConfig::Protect On() {
  config::RoomConfig::Protect p;
  p.enabled = true;
  p.target_latency = config::Duration(300);
  p.max_error_rate = 0.05;
  return p;
}

struct Room {
  FakeStore* store = nullptr;
  std::unique_ptr<RoomRuntime> runtime;
  Room() {
    auto fake = std::make_unique<FakeStore>();
    store = fake.get();
    runtime = std::make_unique<RoomRuntime>(std::move(fake));
  }
  void Tick(const RoomLimits& limits, int64_t now_ms) {
    runtime->MaybeTick(StoreCaller{}, limits, now_ms);
  }
};

// The audit: auto-protection moves its effective limits every second or two
// (here between 40/60 a minute and 20/30 a minute, more than a fifth each
// time). Main restarted the measurement at each move: the line, measured
// moving 5 numbers a second, was judged at the door's 1 or 0.5 a second
// forever. The ceilings (what the operator set) did not change: the
// measurement goes on.
TEST(RoomEtaTest, AutoProtectionMovesDoNotRestartTheMeasurement) {
  Room room;
  room.runtime->protection.Configure(On());
  RoomLimits ceilings = Limits(500, 200);
  room.runtime->protection.Apply(ceilings);  // what the gate does at each request
  room.store->counters.tickets = 10'000;
  room.store->counters.active = 10;  // not full: no turnover cap
  for (int64_t t = 1; t <= 40; ++t) {
    room.store->counters.serving = static_cast<uint64_t>(5 * t);
    RoomLimits effective = t % 2 == 0 ? Limits(40, 60) : Limits(20, 30);
    room.Tick(effective, t * 1000);
  }
  EXPECT_NEAR(room.runtime->QueueNumbersPerSecond(Limits(40, 60)), 5.0, 0.5);
  WaitRange wait = room.runtime->EstimateFor(100, Limits(40, 60));
  EXPECT_LE(wait.high_seconds, 40) << "100 places at 5 a second";
}

// An operator's change of the ceilings (or a reload, an event's phase)
// still restarts it: the old speed says nothing about the new limits.
TEST(RoomEtaTest, ACeilingChangeStillRestartsTheMeasurement) {
  Room room;
  room.runtime->protection.Configure(On());
  room.runtime->protection.Apply(Limits(500, 200));
  room.store->counters.tickets = 10'000;
  room.store->counters.active = 10;
  for (int64_t t = 1; t <= 30; ++t) {
    room.store->counters.serving = static_cast<uint64_t>(5 * t);
    room.Tick(Limits(500, 200), t * 1000);
  }
  EXPECT_NEAR(room.runtime->QueueNumbersPerSecond(Limits(500, 200)), 5.0, 0.5);
  room.runtime->protection.Apply(Limits(500, 30));  // the operator: 30 a minute
  room.Tick(Limits(500, 30), 31'000);
  EXPECT_DOUBLE_EQ(room.runtime->QueueNumbersPerSecond(Limits(500, 30)), 0.5)
      << "measured afresh: the new configured rate, and no bound from the old speed";
}

// The audit: a full room whose line stops was judged at its measured speed
// until the line had not moved for 5 s, then at once at the full room's
// turnover (here 10 sessions per 300 s): the 20th in line read "10 to 30 s"
// then "8 to 13 min" one poll later. The speed shown now falls by at most
// half per 5 s: polled every second, the estimate grows by at most about
// x1.15 (plus the rounding step), and reaches the turnover's within a minute.
TEST(RoomEtaTest, EstimateGrowsByABoundedFactorPerPoll) {
  Room room;
  RoomLimits limits = Limits(10, 120);
  room.store->counters.tickets = 10'000;
  room.store->counters.active = 10;  // full
  int64_t t = 1;
  for (; t <= 30; ++t) {  // moving 2 a second (sessions end at checkout)
    room.store->counters.serving = static_cast<uint64_t>(2 * t);
    room.Tick(limits, t * 1000);
  }
  double previous_rate = room.runtime->QueueNumbersPerSecond(limits);
  WaitRange previous = room.runtime->EstimateFor(20, limits);
  EXPECT_LE(previous.high_seconds, 20);
  for (; t <= 120; ++t) {  // stopped
    room.Tick(limits, t * 1000);
    double rate = room.runtime->QueueNumbersPerSecond(limits);
    WaitRange wait = room.runtime->EstimateFor(20, limits);
    EXPECT_GE(rate, previous_rate * std::exp2(-1.0 / 5.0) - 1e-9) << "t=" << t;
    // Steps: 10 s below 2 min, 1 min below 15 min.
    EXPECT_LE(wait.high_seconds, previous.high_seconds * 1.25 + 60) << "t=" << t;
    previous_rate = rate;
    previous = wait;
  }
  WaitRange late = room.runtime->EstimateFor(20, limits);
  EXPECT_GE(late.high_seconds, 600) << "20 places at the turnover, 10 per 5 min";
}

// The audit's stall: nobody invited for minutes while people wait. Main
// showed 67,500-106,200 s (about 29 hours) to the 141st in line; now the
// wait reads "the line is not moving" after a minute, and never a day.
TEST(RoomEtaTest, AStoppedLineIsSaidToBeStoppedNotTwentyNineHours) {
  Room room;
  RoomLimits limits = Limits(500, 200);
  room.store->counters.tickets = 10'000;
  room.store->counters.active = 10;
  int64_t t = 1;
  for (; t <= 20; ++t) {
    room.store->counters.serving = static_cast<uint64_t>(t / 5);  // 4 per 20 s
    room.Tick(limits, t * 1000);
  }
  WaitRange moving = room.runtime->EstimateFor(141, limits);
  EXPECT_GE(moving.high_seconds, 120) << "not less than a minute at 4 per 20 s";
  EXPECT_FALSE(moving.stalled);
  for (; t <= 400; ++t) {
    room.Tick(limits, t * 1000);
    WaitRange wait = room.runtime->EstimateFor(141, limits);
    EXPECT_LE(wait.high_seconds, kMaxShownWaitSeconds) << "t=" << t;
  }
  WaitRange stopped = room.runtime->EstimateFor(141, limits);
  EXPECT_TRUE(stopped.stalled);
}

// Audit 16 F2: an empty room in auto mode with protection on starts its
// slow start at an effective limit of 4 (limits 500 / 3000 a minute). The
// next four newcomers are queued for a second or two while the door opens
// by 4 a second or more; main divided their places by the turnover of 4
// sessions per 5 min and told the 4th "4 to 7 min".
TEST(RoomEtaTest, AProtectedRoomInSlowStartTellsSecondsNotMinutes) {
  Room room;
  room.runtime->protection.Configure(On());
  RoomLimits ceilings = Limits(500, 3000);
  room.runtime->protection.Apply(ceilings);
  room.Tick(room.runtime->protection.Apply(ceilings), 1'000);  // the start: limit 4
  RoomLimits effective = room.runtime->protection.Apply(ceilings);
  ASSERT_EQ(effective.total_active_users, 4u);
  room.store->counters.active = 4;   // full
  room.store->counters.tickets = 4;  // four waiting
  room.Tick(effective, 1'300);
  room.Tick(effective, 1'600);
  for (uint64_t position = 1; position <= 4; ++position) {
    WaitRange wait = room.runtime->EstimateFor(position, effective);
    EXPECT_LE(wait.high_seconds, 10) << "position " << position;
  }
  // The door opened (a grow): still seconds.
  room.Tick(effective, 2'100);
  effective = room.runtime->protection.Apply(ceilings);
  EXPECT_EQ(room.runtime->protection.status(2'100).state.move, ProtectMove::kGrow);
  EXPECT_LE(room.runtime->EstimateFor(4, effective).high_seconds, 10);
}

// What stays: a room REALLY full at its ceiling, or held by a cut (the
// door is not opening), is told its sessions' turnover.
TEST(RoomEtaTest, AFullRoomWhoseDoorIsNotOpeningKeepsItsTurnover) {
  for (bool cut : {false, true}) {
    Room room;
    RoomLimits ceilings = Limits(cut ? 500 : 4, 3000);
    RoomLimits limits = ceilings;
    if (cut) {
      room.runtime->protection.Configure(On());
      room.runtime->protection.Apply(ceilings);
      ProtectState decided;
      decided.limit = 4;
      decided.ramp_from = 4;  // a cut applies at once
      decided.rate = 60;
      decided.move = ProtectMove::kCutLatency;
      decided.decided_ms = 1'000;  // the next decision a second later
      room.runtime->protection.Adopt(decided, 1'000);
      limits = room.runtime->protection.Apply(ceilings);
      ASSERT_EQ(limits.total_active_users, 4u);
    }
    room.store->counters.active = 4;
    room.store->counters.tickets = 4;
    room.Tick(limits, 1'300);
    room.Tick(limits, 1'600);
    EXPECT_GE(room.runtime->EstimateFor(4, limits).low_seconds, 240) << (cut ? "cut" : "full");
  }
}

}  // namespace
}  // namespace tidegate::queue
