// EventMarks: this process's cache of a room's scheduled-event marks
// (RoomStore::Mark, queue/room_events.h): where each event's pre-queue began
// and where its start cut it off, in ticket numbers.
//
// Contract: thread-safe (one mutex, held only to copy a few integers; rooms
// without events never touch it). Never blocks on the store: an unknown mark
// is requested once (Mark() records the room's `tickets` counter the first
// time any instance asks, then returns the recorded value) and is known when
// the store answers — at once with LocalRoomStore, a round trip later with a
// shared store. A failed request is retried on a later call. Marks never
// change once recorded, so a known mark is cached for the process's life.
// The store must outlive the requests it has not answered (the answer only
// touches a shared cell, never the EventMarks object).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "queue/room_events.h"
#include "queue/room_store.h"

namespace tidegate::queue {

class EventMarks {
 public:
  EventMarks();

  // `caller` is the worker asking (the store call's StoreCaller).
  // The mark `name` when known; otherwise asks `store` for it (unless a
  // request is already pending) and returns what is known after that.
  std::optional<uint64_t> Get(RoomStore& store, const StoreCaller& caller, const std::string& name,
                              int64_t now_ms);

  // Takes (or fetches) the marks every event begun at `now_ms` needs, in
  // order — the pre-queue mark before the start mark — and returns what is
  // known, one entry per event (empty optionals for events not begun).
  std::vector<EventMarksView> Ensure(RoomStore& store, const StoreCaller& caller,
                                     const std::vector<config::RoomEventConfig>& events,
                                     int64_t now_ms);

  // The same without the result, for every request of a room with events
  // (WaitingRoom::Limits): once the marks are known, one lock and no
  // allocation.
  void Take(RoomStore& store, const StoreCaller& caller,
            const std::vector<config::RoomEventConfig>& events, int64_t now_ms);

 private:
  struct Cells {
    std::mutex mutex;
    std::map<std::string, uint64_t> known;
    std::set<std::string> pending;
    // Per event name: how many of its marks are known (1: pre-queue, 2: both).
    std::map<std::string, int, std::less<>> known_per_event;
  };
  std::shared_ptr<Cells> cells_;
};

}  // namespace tidegate::queue
