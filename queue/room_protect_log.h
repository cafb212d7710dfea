// RoomProtectLog: one log line each time a room's auto-protection controller
// changes direction (opens the door after closing it, or closes it after
// opening it), rate-limited (docs/waiting-room.md, "Auto-protection").
//
//   tidegate: room 'shop': auto-protection closes the door (cut_latency):
//   active limit 40 (ceiling 150), 300 new/min (ceiling 3600); p90 812 ms
//   > target 150 ms [2 more changes not logged]
//
// Only the instance that decides logs (with Redis, the lease holder), so a
// cluster logs each change once. At most one line per kMinIntervalMillis per
// room; changes in between are counted and the count is added to the next
// line.
//
// Contract: Note() may be called from any thread after each tick; it takes
// its own small mutex. In the binary the line goes through the rooms'
// RoomLog (queue/room_log.h: the server's error log, warn level, key
// "room.protect", without the "tidegate: " prefix); built with a FILE*
// (tests), it is written there as shown above, then flushed.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "queue/protect_room.h"
#include "queue/room_log.h"

namespace tidegate::queue {

class RoomProtectLog {
 public:
  static constexpr int64_t kMinIntervalMillis = 10'000;

  explicit RoomProtectLog(std::string room, std::FILE* out = stderr)
      : room_(std::move(room)), out_(out) {}
  RoomProtectLog(std::string room, std::shared_ptr<const RoomLog> log)
      : room_(std::move(room)), out_(nullptr), log_(std::move(log)) {}

  // Looks at the controller's state after a tick; logs when the direction
  // changed since the last call (and the rate limit allows). Returns true
  // when a line was written.
  bool Note(const ProtectStatus& status, bool decides, int64_t now_ms);

  // The line for a change (exposed for tests).
  static std::string Line(const std::string& room, const ProtectStatus& status, uint64_t unlogged);

 private:
  std::string room_;
  std::FILE* out_;  // null: log_
  std::shared_ptr<const RoomLog> log_;
  std::mutex mutex_;
  int64_t seen_moved_ms_ = 0;  // the last change of direction noticed
  int64_t logged_ms_ = 0;      // when a line was last written
  uint64_t unlogged_ = 0;      // changes noticed but not logged since
};

}  // namespace tidegate::queue
