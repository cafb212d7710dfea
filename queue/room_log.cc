#include "queue/room_log.h"

#include <cstdio>

namespace tidegate::queue {

void RoomLog::Write(proxy::LogLevel level, std::string_view key, const std::string& message) const {
  if (proxy::ErrorLog* log = log_.load(std::memory_order_acquire)) {
    log->Write(level, key, message);
    return;
  }
  std::fprintf(stderr, "tidegate: %s%s\n", level >= proxy::LogLevel::kWarn ? "warning: " : "",
               message.c_str());
  std::fflush(stderr);
}

}  // namespace tidegate::queue
