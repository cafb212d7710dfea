// Scheduled events of a waiting room (docs/waiting-room.md, "Scheduled
// events"): which phase a room is in at a given time, the limits in force
// then, and the draw that shuffles the pre-queue at the event's start.
//
// Phases of an event at time t:
//   t < prequeue_start or t >= end    → none: the room's own settings;
//   prequeue_start <= t < start       → pre-queue: every arriving visitor gets
//                                       a ticket, nobody is admitted (existing
//                                       passes stay valid);
//   start <= t < end                  → live: the event's limits.
//
// The draw: the room store records the `tickets` counter when the pre-queue
// began (mark "event:<name>:prequeue") and when the event started
// ("event:<name>:start"). A ticket t in (prequeue, start] is admitted by the
// place prequeue + 1 + P(t - prequeue - 1), P a keyed permutation of
// [0, n), n = start - prequeue; later tickets queue behind, in order.
//
// Contract: pure functions (no I/O, no clock, no randomness), thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "pages/language.h"
#include "queue/room_store.h"
#include "state/effective_view.h"

namespace tidegate::queue {

enum class EventPhase { kNone, kPrequeue, kLive };
std::string_view EventPhaseName(EventPhase phase);  // "none" | "prequeue" | "live"

int64_t ToUnixMs(std::chrono::system_clock::time_point t);

// Where a room's events stand at `now_ms`.
struct EventState {
  const config::RoomEventConfig* event = nullptr;  // the current event (null: kNone)
  EventPhase phase = EventPhase::kNone;
  // The next phase change of any event (ms since the epoch), 0 when none.
  int64_t next_change_ms = 0;
};
EventState EventStateAt(const std::vector<config::RoomEventConfig>& events, int64_t now_ms);

// The limits of the effective settings (configuration + operators'
// overrides), events left aside.
RoomLimits LimitsOf(const state::EffectiveRoom& effective);

// The limits in force: the effective settings (configuration + operators'
// overrides), with the current event's limits replacing the configuration's
// values (an operator's override still wins: it is the emergency lever).
// Pre-queue: mode queue_all (unless switched off), fifo, and no room
// (total_active_users = 0) so that nobody is invited or admitted.
RoomLimits LimitsWithEvents(const state::EffectiveRoom& effective, const EventState& state);

// How long an invitation of `room` may be claimed (RoomLimits::
// invite_window_ms): invitation_window, but never less than 3 refresh
// intervals (three polls missed).
int64_t InvitationWindowMs(const config::RoomConfig& room);

// The limits a room's requests apply at `now_ms`, as WaitingRoom::Limits
// computes them, its event marks and auto-protection aside: the effective
// settings, the current event's limits (LimitsWithEvents), the room's
// refresh interval and invitation window. For work done without a request (the idle rooms' ticks,
// RoomRegistry::TickIdle).
RoomLimits LimitsInForce(const config::RoomConfig& room, const state::EffectiveRoom& effective,
                         int64_t now_ms);

// Names of the two store marks of an event.
std::string PrequeueMarkName(std::string_view event);
std::string StartMarkName(std::string_view event);

// The keyed permutation of the draw: a bijection of [0, n) onto itself,
// unpredictable without `key` (a Feistel network over the smallest power of
// two >= n, with cycle-walking). n = 0 or 1: the identity.
uint64_t DrawPermutation(uint64_t index, uint64_t n, std::string_view key);

// The same with the round keys derived once (SHA-512 of `key`), for many calls.
class DrawPermuter {
 public:
  explicit DrawPermuter(std::string_view key);
  uint64_t Permute(uint64_t index, uint64_t n) const;

 private:
  std::array<uint64_t, 6> round_keys_{};
};

// The marks of one event, as known by this process.
struct EventMarksView {
  std::optional<uint64_t> prequeue;  // tickets when the pre-queue began
  std::optional<uint64_t> start;     // tickets when the event started
};

// What the events make of a ticket:
enum class TicketFate {
  kOrdinary,   // not drawn by any event: the room's method decides its place
  kDrawn,      // drawn: *place is its place
  kAwaitDraw,  // issued in a pre-queue whose draw is not known yet
  kFifo,       // close to a drawn range (same shuffle block): keeps its number
};
struct TicketPlace {
  TicketFate fate = TicketFate::kOrdinary;
  uint64_t place = 0;      // kDrawn: the place; kFifo: the ticket
  int64_t draw_at_ms = 0;  // kAwaitDraw: when the draw happens (the event's start)
};

// `marks[i]` are the marks of `events[i]` (empty optionals for events not
// started or not fetched yet); `seed` is the room's secret shuffle seed.
TicketPlace PlaceWithEvents(const std::vector<config::RoomEventConfig>& events,
                            const std::vector<EventMarksView>& marks, uint64_t ticket,
                            int64_t now_ms, std::string_view seed);

// Shoppers' texts during the pre-queue (English, French): the JSON
// `message` and `wait_text`, and the queue page's live region.
// The draw's time as QueuePage::ComingTimeText writes it ("14:31 CET",
// "14:30:58 CET").
std::string PrequeueMessage(int64_t draw_at_ms, int64_t now_ms, pages::Language language);
std::string DrawAtText(int64_t draw_at_ms, int64_t now_ms, pages::Language language);

}  // namespace tidegate::queue
