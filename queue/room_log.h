// RoomLog: where the waiting rooms' log lines go (auto-protection's change
// of direction, a room's shared store failing and recovering, counters
// written back to a Redis that lost them): the server's error log
// ([server].error_log: stamped "<time> <level> <key>: <message>", in the
// file when it is one), once the binary gives it (Use(), from the admin
// control plane's start, before the workers); until then — unit tests, or a
// line before the start — stderr, unstamped: "tidegate: [warning: ]<message>".
//
// Contract: thread-safe (any worker or the control thread may Write(); the
// log pointer is atomic). The error log given must outlive every Write():
// the server's does (it outlives its workers and control thread);
// Use(nullptr) goes back to stderr.
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "proxy/error_log.h"

namespace tidegate::queue {

class RoomLog {
 public:
  void Use(proxy::ErrorLog* log) { log_.store(log, std::memory_order_release); }
  // `key`: a short dotted name ("room.protect", "room.store").
  void Write(proxy::LogLevel level, std::string_view key, const std::string& message) const;

 private:
  std::atomic<proxy::ErrorLog*> log_{nullptr};
};

}  // namespace tidegate::queue
