// Scheduled events: phases and limits at a fake time, the draw's keyed
// permutation, marks → places, and a whole event run on a LocalRoomStore
// with a fake clock (pre-queue admits nobody, the draw admits the pre-queue
// in a shuffled order, later arrivals come after all of them).
#include "queue/room_events.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <vector>

#include "admin/effective_state_json.h"
#include "queue/event_marks.h"
#include "queue/local_room_store.h"

namespace tidegate::queue {
namespace {

// LocalRoomStore ignores who calls it.
constexpr StoreCaller kAnyCaller{};

using config::QueueingMethod;
using config::RoomEventConfig;
using config::RoomMode;
using std::chrono::milliseconds;
using std::chrono::system_clock;

constexpr int64_t kT0 = 1'800'000'000'000;  // fake wall clock (ms): the pre-queue opens

system_clock::time_point At(int64_t ms) { return system_clock::time_point(milliseconds(ms)); }

RoomEventConfig Event(std::string name, int64_t prequeue, int64_t start, int64_t end) {
  RoomEventConfig e;
  e.name = std::move(name);
  e.prequeue_start = At(prequeue);
  e.start = At(start);
  e.end = At(end);
  return e;
}

state::EffectiveRoom Room(RoomMode mode = RoomMode::kAuto) {
  state::EffectiveRoom e;
  e.name = "shop";
  e.mode.value = mode;
  e.queueing_method.value = QueueingMethod::kRandom;
  e.total_active_users.value = 500;
  e.new_users_per_minute.value = 200;
  e.session_duration.value = config::Duration(300'000);
  return e;
}

TEST(RoomEventsTest, PhasesAndNextChange) {
  std::vector<RoomEventConfig> events = {Event("a", kT0, kT0 + 60'000, kT0 + 120'000),
                                         Event("b", kT0 + 200'000, kT0 + 200'000, kT0 + 300'000)};
  EventState s = EventStateAt(events, kT0 - 1);
  EXPECT_EQ(s.phase, EventPhase::kNone);
  EXPECT_EQ(s.next_change_ms, kT0);
  s = EventStateAt(events, kT0);
  EXPECT_EQ(s.phase, EventPhase::kPrequeue);
  EXPECT_EQ(s.event, &events[0]);
  EXPECT_EQ(s.next_change_ms, kT0 + 60'000);
  s = EventStateAt(events, kT0 + 60'000);
  EXPECT_EQ(s.phase, EventPhase::kLive);
  EXPECT_EQ(s.next_change_ms, kT0 + 120'000);
  s = EventStateAt(events, kT0 + 120'000);  // end is exclusive
  EXPECT_EQ(s.phase, EventPhase::kNone);
  EXPECT_EQ(s.next_change_ms, kT0 + 200'000);
  s = EventStateAt(events, kT0 + 200'000);  // no pre-queue: live at once
  EXPECT_EQ(s.phase, EventPhase::kLive);
  EXPECT_EQ(s.event, &events[1]);
  s = EventStateAt(events, kT0 + 400'000);
  EXPECT_EQ(s.phase, EventPhase::kNone);
  EXPECT_EQ(s.next_change_ms, 0);
  EXPECT_EQ(EventPhaseName(EventPhase::kPrequeue), "prequeue");
}

TEST(RoomEventsTest, LimitsInForceFollowThePhase) {
  RoomEventConfig e = Event("sale", kT0, kT0 + 60'000, kT0 + 120'000);
  e.total_active_users = 50;
  e.new_users_per_minute = 30;
  e.queueing_method = QueueingMethod::kFifo;
  e.session_duration = config::Duration(60'000);
  std::vector<RoomEventConfig> events = {e};

  RoomLimits none = LimitsWithEvents(Room(), EventStateAt(events, kT0 - 1));
  EXPECT_EQ(none.total_active_users, 500u);
  EXPECT_EQ(none.method, QueueingMethod::kRandom);
  EXPECT_EQ(none.mode, RoomMode::kAuto);

  RoomLimits pre = LimitsWithEvents(Room(), EventStateAt(events, kT0 + 1));
  EXPECT_EQ(pre.mode, RoomMode::kQueueAll);
  EXPECT_EQ(pre.method, QueueingMethod::kFifo);
  EXPECT_EQ(pre.total_active_users, 0u);  // nobody invited or admitted
  EXPECT_EQ(pre.session_ms, 60'000);

  RoomLimits live = LimitsWithEvents(Room(), EventStateAt(events, kT0 + 60'000));
  EXPECT_EQ(live.mode, RoomMode::kAuto);
  EXPECT_EQ(live.total_active_users, 50u);
  EXPECT_EQ(live.new_users_per_minute, 30u);
  EXPECT_EQ(live.method, QueueingMethod::kFifo);
  EXPECT_EQ(live.session_ms, 60'000);

  // A room configured off runs in auto during its events...
  EXPECT_EQ(LimitsWithEvents(Room(RoomMode::kOff), EventStateAt(events, kT0 + 60'000)).mode,
            RoomMode::kAuto);
  // ...but an operator's override wins over the event (the emergency lever).
  state::EffectiveRoom patched = Room(RoomMode::kOff);
  patched.mode.source = state::ValueSource::kRuntime;
  patched.total_active_users = {900, state::ValueSource::kRuntime};
  EXPECT_EQ(LimitsWithEvents(patched, EventStateAt(events, kT0 + 1)).mode, RoomMode::kOff);
  patched.mode.value = RoomMode::kAuto;
  RoomLimits live_patched = LimitsWithEvents(patched, EventStateAt(events, kT0 + 60'000));
  EXPECT_EQ(live_patched.total_active_users, 900u);
  EXPECT_EQ(live_patched.new_users_per_minute, 30u);
}

TEST(RoomEventsTest, DrawIsABijectionForEverySize) {
  DrawPermuter draw("seed|event|sale");
  for (uint64_t n = 1; n <= 2000; ++n) {
    std::vector<bool> taken(n, false);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t p = draw.Permute(i, n);
      ASSERT_LT(p, n) << "n=" << n << " i=" << i;
      ASSERT_FALSE(taken[p]) << "place taken twice, n=" << n << " i=" << i;
      taken[p] = true;
    }
  }
}

TEST(RoomEventsTest, DrawIsShuffledAndDependsOnTheKey) {
  EXPECT_EQ(DrawPermutation(5, 10, "k1"), DrawPermuter("k1").Permute(5, 10));
  constexpr uint64_t n = 1000;
  int fixed = 0;
  int same_across_keys = 0;
  int ascending_pairs = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t p = DrawPermutation(i, n, "k1");
    fixed += p == i;
    same_across_keys += p == DrawPermutation(i, n, "k2");
    if (i > 0) ascending_pairs += p > DrawPermutation(i - 1, n, "k1");
  }
  // A random permutation has ~1 fixed point and ~50 % ascending neighbours.
  EXPECT_LT(fixed, 10);
  EXPECT_LT(same_across_keys, 10);
  EXPECT_GT(ascending_pairs, 400);
  EXPECT_LT(ascending_pairs, 600);
}

TEST(RoomEventsTest, MarksMakePlaces) {
  std::vector<RoomEventConfig> events = {Event("sale", kT0, kT0 + 60'000, kT0 + 120'000)};
  const std::string seed = "secret";
  // Pre-queue: tickets 11.. await the draw; tickets <= 10 (before it) are ordinary.
  std::vector<EventMarksView> marks = {{10, std::nullopt}};
  TicketPlace p = PlaceWithEvents(events, marks, 11, kT0 + 5, seed);
  EXPECT_EQ(p.fate, TicketFate::kAwaitDraw);
  EXPECT_EQ(p.draw_at_ms, kT0 + 60'000);
  EXPECT_EQ(PlaceWithEvents(events, marks, 10, kT0 + 5, seed).fate, TicketFate::kOrdinary);
  // Marks not fetched yet: unknown (transient).
  EXPECT_EQ(PlaceWithEvents(events, {{}}, 3, kT0 + 5, seed).fate, TicketFate::kAwaitDraw);
  // Before the event nothing is touched.
  EXPECT_EQ(PlaceWithEvents(events, {{}}, 3, kT0 - 5, seed).fate, TicketFate::kOrdinary);

  // After the start: tickets 11..200 drawn onto places 11..200, each once.
  marks = {{10, 200}};
  std::vector<bool> taken(201, false);
  int in_order = 0;
  for (uint64_t t = 11; t <= 200; ++t) {
    TicketPlace d = PlaceWithEvents(events, marks, t, kT0 + 60'000, seed);
    ASSERT_EQ(d.fate, TicketFate::kDrawn);
    ASSERT_GE(d.place, 11u);
    ASSERT_LE(d.place, 200u);
    ASSERT_FALSE(taken[d.place]);
    taken[d.place] = true;
    in_order += d.place == t;
  }
  EXPECT_LT(in_order, 10);
  // Later arrivals keep their number (behind every drawn place), also after the end.
  EXPECT_EQ(PlaceWithEvents(events, marks, 201, kT0 + 60'000, seed).fate, TicketFate::kFifo);
  EXPECT_EQ(PlaceWithEvents(events, marks, 201, kT0 + 60'000, seed).place, 201u);
  EXPECT_EQ(PlaceWithEvents(events, marks, 300, kT0 + 999'000, seed).fate, TicketFate::kOrdinary);
  // Still awaiting when the start mark is not fetched yet.
  EXPECT_EQ(PlaceWithEvents(events, {{10, std::nullopt}}, 12, kT0 + 60'000, seed).fate,
            TicketFate::kAwaitDraw);
}

// A whole event on a LocalRoomStore, fake clock, the limits and places the
// gate would use.
TEST(RoomEventsTest, PrequeueIsDrawnAtTheStartAndLaterArrivalsFollow) {
  RoomEventConfig e = Event("sale", kT0, kT0 + 60'000, kT0 + 3'600'000);
  e.new_users_per_minute = 600;
  e.mode = RoomMode::kQueueAll;
  std::vector<RoomEventConfig> events = {e};
  LocalRoomStore store;
  EventMarks marks;
  state::EffectiveRoom room = Room();
  room.queueing_method.value = QueueingMethod::kFifo;
  auto limits_at = [&](int64_t now) {
    marks.Ensure(store, kAnyCaller, events, now);
    return LimitsWithEvents(room, EventStateAt(events, now));
  };
  auto place = [&](uint64_t ticket, int64_t now) -> std::optional<uint64_t> {
    TicketPlace p =
        PlaceWithEvents(events, marks.Ensure(store, kAnyCaller, events, now), ticket, now, "seed");
    if (p.fate == TicketFate::kAwaitDraw) return std::nullopt;
    return p.fate == TicketFate::kOrdinary ? ticket : p.place;
  };

  // Pre-queue: 30 arrivals over 30 s, all queued, nobody invited.
  std::vector<uint64_t> tickets;
  for (int i = 0; i < 30; ++i) {
    int64_t now = kT0 + i * 1'000;
    RoomLimits l = limits_at(now);
    store.Tick(kAnyCaller, l, now, [](const StoreResult<RoomCounters>&) {});
    store.Arrive(kAnyCaller, l, now, l.mode == RoomMode::kAuto,
                 [&](const StoreResult<ArriveOutcome>& r) {
                   ASSERT_TRUE(r.ok);
                   EXPECT_FALSE(r.value.admitted);
                   tickets.push_back(r.value.ticket);
                 });
    EXPECT_FALSE(place(tickets.back(), now).has_value());
  }
  EXPECT_EQ(store.Snapshot().serving, 0u);

  // The start: the draw. A later arrival gets ticket 31, behind every drawn place.
  int64_t start = kT0 + 60'000;
  RoomLimits live = limits_at(start);
  uint64_t late = 0;
  store.Arrive(kAnyCaller, live, start, false,
               [&](const StoreResult<ArriveOutcome>& r) { late = r.value.ticket; });
  EXPECT_EQ(late, 31u);
  std::map<uint64_t, uint64_t> ticket_by_place;
  for (uint64_t t : tickets) {
    std::optional<uint64_t> p = place(t, start);
    ASSERT_TRUE(p.has_value());
    EXPECT_LE(*p, 30u);
    EXPECT_TRUE(ticket_by_place.emplace(*p, t).second);
  }
  EXPECT_EQ(place(late, start), 31u);

  // Admission follows the places: invite, each polls and claims.
  std::vector<uint64_t> admitted_tickets;
  for (int64_t now = start; admitted_tickets.size() < 31 && now < start + 120'000; now += 250) {
    RoomLimits l = limits_at(now);
    store.Tick(kAnyCaller, l, now, [](const StoreResult<RoomCounters>&) {});
    uint64_t serving = store.Snapshot().serving;
    for (uint64_t p = admitted_tickets.size() + 1; p <= serving && p <= 31; ++p) {
      uint64_t t = p == 31 ? late : ticket_by_place[p];
      store.Claim(kAnyCaller, l, now, p, 0, 0, [&](const StoreResult<ClaimOutcome>& r) {
        if (r.value.admitted) admitted_tickets.push_back(t);
      });
    }
  }
  ASSERT_EQ(admitted_tickets.size(), 31u);
  EXPECT_EQ(admitted_tickets.back(), late);
  std::vector<uint64_t> first30(admitted_tickets.begin(), admitted_tickets.end() - 1);
  EXPECT_FALSE(std::is_sorted(first30.begin(), first30.end()));  // shuffled, not ticket order
}

TEST(RoomEventsTest, MarksAreTakenOnceAndKept) {
  std::vector<RoomEventConfig> events = {Event("sale", kT0, kT0 + 60'000, kT0 + 120'000)};
  LocalRoomStore store;
  EventMarks marks;
  RoomLimits l;
  EXPECT_FALSE(marks.Ensure(store, kAnyCaller, events, kT0 - 1)[0].prequeue.has_value());
  for (int i = 0; i < 3; ++i) store.Arrive(kAnyCaller, l, kT0 - 1, false, [](const auto&) {});
  EXPECT_EQ(marks.Ensure(store, kAnyCaller, events, kT0)[0].prequeue, 3u);
  for (int i = 0; i < 5; ++i) store.Arrive(kAnyCaller, l, kT0 + 1, false, [](const auto&) {});
  std::vector<EventMarksView> v = marks.Ensure(store, kAnyCaller, events, kT0 + 60'000);
  EXPECT_EQ(v[0].prequeue, 3u);
  EXPECT_EQ(v[0].start, 8u);
  // Take() on a cache that knows both marks asks nothing more.
  marks.Take(store, kAnyCaller, events, kT0 + 61'000);
  EXPECT_EQ(marks.Ensure(store, kAnyCaller, events, kT0 + 61'000)[0].start, 8u);
  // Take() alone takes the marks, like Ensure().
  EventMarks taker;
  LocalRoomStore fresh;
  taker.Take(fresh, kAnyCaller, events, kT0 + 1);
  EXPECT_EQ(taker.Ensure(fresh, kAnyCaller, events, kT0 + 1)[0].prequeue, 0u);
  // Another process's cache asks the store: the same recorded values.
  EventMarks other;
  for (int i = 0; i < 5; ++i) store.Arrive(kAnyCaller, l, kT0 + 70'000, false, [](const auto&) {});
  v = other.Ensure(store, kAnyCaller, events, kT0 + 70'000);
  EXPECT_EQ(v[0].prequeue, 3u);
  EXPECT_EQ(v[0].start, 8u);
}

// GET /v1/state shows each room's events with their phase and next change.
TEST(RoomEventsTest, StateJsonShowsPhaseAndNextChange) {
  config::Config config;
  config::RoomConfig room;
  room.name = "shop";
  RoomEventConfig e = Event("sale", kT0, kT0 + 60'000, kT0 + 120'000);
  e.total_active_users = 40;
  room.events = {e};
  config.rooms = {room};
  nlohmann::json j =
      admin::EffectiveStateJson(config, state::RuntimeState{}, admin::MetricsSnapshot{},
                                admin::StoreHealth{}, At(kT0 + 1'000));
  const nlohmann::json& ev = j["rooms"]["shop"]["events"][0];
  EXPECT_EQ(ev["name"], "sale");
  EXPECT_EQ(ev["phase"], "prequeue");
  EXPECT_EQ(ev["next_change"], ev["start"]);
  EXPECT_EQ(ev["total_active_users"], 40);
  EXPECT_TRUE(ev["new_users_per_minute"].is_null());
  nlohmann::json later =
      admin::EffectiveStateJson(config, state::RuntimeState{}, admin::MetricsSnapshot{},
                                admin::StoreHealth{}, At(kT0 + 500'000));
  EXPECT_EQ(later["rooms"]["shop"]["events"][0]["phase"], "ended");
  EXPECT_TRUE(later["rooms"]["shop"]["events"][0]["next_change"].is_null());
}

}  // namespace
}  // namespace tidegate::queue
