#include "queue/event_marks.h"

namespace tidegate::queue {

EventMarks::EventMarks() : cells_(std::make_shared<Cells>()) {}

std::optional<uint64_t> EventMarks::Get(RoomStore& store, const StoreCaller& caller,
                                        const std::string& name, int64_t now_ms) {
  {
    std::lock_guard<std::mutex> lock(cells_->mutex);
    if (auto it = cells_->known.find(name); it != cells_->known.end()) return it->second;
    if (!cells_->pending.insert(name).second) return std::nullopt;  // already asked
  }
  std::weak_ptr<Cells> weak = cells_;
  store.Mark(caller, name, now_ms, [weak, name](const StoreResult<uint64_t>& r) {
    std::shared_ptr<Cells> cells = weak.lock();
    if (!cells) return;
    std::lock_guard<std::mutex> lock(cells->mutex);
    cells->pending.erase(name);
    if (r.ok) cells->known.emplace(name, r.value);
  });
  std::lock_guard<std::mutex> lock(cells_->mutex);  // LocalRoomStore answered already
  if (auto it = cells_->known.find(name); it != cells_->known.end()) return it->second;
  return std::nullopt;
}

std::vector<EventMarksView> EventMarks::Ensure(RoomStore& store, const StoreCaller& caller,
                                               const std::vector<config::RoomEventConfig>& events,
                                               int64_t now_ms) {
  std::vector<EventMarksView> out(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    const config::RoomEventConfig& e = events[i];
    if (now_ms < ToUnixMs(e.prequeue_start)) break;  // sorted by prequeue_start
    out[i].prequeue = Get(store, caller, PrequeueMarkName(e.name), now_ms);
    // The start mark only once the pre-queue mark is recorded: prequeue <= start.
    if (out[i].prequeue && now_ms >= ToUnixMs(e.start)) {
      out[i].start = Get(store, caller, StartMarkName(e.name), now_ms);
    }
    if (out[i].prequeue) {
      std::lock_guard<std::mutex> lock(cells_->mutex);
      cells_->known_per_event[e.name] = out[i].start ? 2 : 1;
    }
  }
  return out;
}

void EventMarks::Take(RoomStore& store, const StoreCaller& caller,
                      const std::vector<config::RoomEventConfig>& events, int64_t now_ms) {
  {
    std::lock_guard<std::mutex> lock(cells_->mutex);
    bool known = true;
    for (const config::RoomEventConfig& e : events) {
      if (now_ms < ToUnixMs(e.prequeue_start)) break;
      auto it = cells_->known_per_event.find(e.name);
      int needed = now_ms >= ToUnixMs(e.start) ? 2 : 1;
      if (it == cells_->known_per_event.end() || it->second < needed) {
        known = false;
        break;
      }
    }
    if (known) return;
  }
  Ensure(store, caller, events, now_ms);
}

}  // namespace tidegate::queue
