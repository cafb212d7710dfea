#include "queue/room_protect_log.h"

namespace tidegate::queue {

std::string RoomProtectLog::Line(const std::string& room, const ProtectStatus& s,
                                 uint64_t unlogged) {
  const ProtectState& st = s.state;
  std::string verb = st.direction > 0   ? "opens the door"
                     : st.direction < 0 ? "closes the door"
                                        : "holds the door";
  std::string line = "tidegate: room '" + room + "': auto-protection " + verb + " (" +
                     std::string(ProtectMoveName(st.last_change)) + "): active limit " +
                     std::to_string(s.effective.total_active_users) + " (ceiling " +
                     std::to_string(s.ceilings.total_active_users) + "), " +
                     std::to_string(s.effective.new_users_per_minute) + " new/min (ceiling " +
                     std::to_string(s.ceilings.new_users_per_minute) + ")";
  if (!st.reason.empty()) line += "; " + st.reason;
  if (unlogged > 0) {
    line += " [" + std::to_string(unlogged) + " more change" + (unlogged == 1 ? "" : "s") +
            " not logged]";
  }
  return line;
}

bool RoomProtectLog::Note(const ProtectStatus& status, bool decides, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t moved = status.state.moved_ms;
  if (!status.enabled || moved == 0 || moved == seen_moved_ms_) return false;
  seen_moved_ms_ = moved;
  if (!decides) return false;  // the deciding instance logs it
  if (logged_ms_ != 0 && now_ms - logged_ms_ < kMinIntervalMillis) {
    ++unlogged_;
    return false;
  }
  std::string line = Line(room_, status, unlogged_);
  unlogged_ = 0;
  logged_ms_ = now_ms;
  if (log_) {
    log_->Write(proxy::LogLevel::kWarn, "room.protect",
                line.substr(std::string("tidegate: ").size()));
    return true;
  }
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
  return true;
}

}  // namespace tidegate::queue
