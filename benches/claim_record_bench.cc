// The cost of the claim record (queue/room_integrity.h) per queued request:
// Google Benchmark over the pure room arithmetic (queue/room_logic.h), no
// I/O. Built and run by benches/run_claim_record.sh.
//
// * ClaimRecord/TestAndSet: the record alone (a claim's check and mark).
// * ClaimRecord/ClearOnInvite: clearing the slot of one newly invited number.
// * ClaimStep/FirstClaim: a whole claim (record, credit, counters) of the
//   next invited number; the Tick that invites is outside the timing.
// * ClaimStep/Replay: a replayed ticket refused by the record.
// * EndedSessions/Contains: the admitted hot path's check with 100,000
//   ended sessions on record.
#include <benchmark/benchmark.h>

#include "queue/room_integrity.h"
#include "queue/room_logic.h"

namespace tidegate::queue {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;

void TestAndSet(benchmark::State& state) {
  ClaimedNumbers claimed;
  uint64_t n = 1;
  for (auto _ : state) {
    bool used = claimed.Test(n);
    benchmark::DoNotOptimize(used);
    if (!used) claimed.Set(n);
    ++n;
  }
}
BENCHMARK(TestAndSet)->Name("ClaimRecord/TestAndSet");

void ClearOnInvite(benchmark::State& state) {
  ClaimedNumbers claimed;
  for (uint64_t n = 1; n <= kClaimWindow; n += 7) claimed.Set(n);
  uint64_t n = 1;
  for (auto _ : state) {
    claimed.ClearRange(n, n);
    ++n;
  }
}
BENCHMARK(ClearOnInvite)->Name("ClaimRecord/ClearOnInvite");

RoomLimits Limits() {
  RoomLimits l;
  l.total_active_users = 4'000'000'000u;
  l.new_users_per_minute = 1'000'000;
  l.session_ms = 60'000;
  return l;
}

void FirstClaim(benchmark::State& state) {
  RoomLimits limits = Limits();
  RoomState room;
  room.tickets = uint64_t{1} << 40;
  int64_t now = kStart;
  uint64_t next = 1;
  for (auto _ : state) {
    if (next > room.serving) {
      state.PauseTiming();
      now += 1000;
      TickStep(room, limits, now);
      state.ResumeTiming();
    }
    ClaimOutcome o = ClaimStep(room, limits, now, next++);
    benchmark::DoNotOptimize(o);
  }
}
BENCHMARK(FirstClaim)->Name("ClaimStep/FirstClaim");

void Replay(benchmark::State& state) {
  RoomLimits limits = Limits();
  RoomState room;
  room.tickets = 1'000;
  TickStep(room, limits, kStart);
  ClaimStep(room, limits, kStart, 7);
  for (auto _ : state) {
    ClaimOutcome o = ClaimStep(room, limits, kStart, 7);
    benchmark::DoNotOptimize(o);
  }
}
BENCHMARK(Replay)->Name("ClaimStep/Replay");

void EndedContains(benchmark::State& state) {
  EndedSessions ended;
  for (uint64_t i = 1; i <= 100'000; ++i)
    ended.Insert(i * 0x9e3779b97f4a7c15ULL, kStart + 1, kStart);
  uint64_t probe = 12345;
  for (auto _ : state) {
    bool e = ended.Contains(probe++, kStart);
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(EndedContains)->Name("EndedSessions/Contains");

}  // namespace
}  // namespace tidegate::queue

BENCHMARK_MAIN();
