// The process's error log: short, human-readable, rate-limited lines.
//
// Contract:
// * A line is "<RFC 3339 UTC time with ms> <level> <key>: <message>\n", e.g.
//   "2026-11-23T13:40:00.123Z warn upstream.connect: 127.0.0.1:9000: refused".
//   Control bytes (including CR/LF) in key or message are written as \xNN so
//   one call is always exactly one line (no log injection).
// * Thread-safe: any thread may call Write(), Enabled() and Reopen(). Each
//   line is one write(2) of a short buffer under a mutex; lines never
//   interleave. No other I/O, no allocation beyond the line.
// * Rate limited per key: at most kLinesPerKeyPerSecond lines for one key in
//   any one-second window; the rest are counted, and the next line written
//   for that key ends with " (N similar suppressed)".
// * Ownership: shared by everything that logs (std::shared_ptr); the file is
//   closed when the last owner lets go.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/time_source.h"

namespace tidegate::proxy {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// "debug" | "info" | "warn" | "error" (also "warning"); false otherwise.
bool ParseLogLevel(std::string_view text, LogLevel* level);
// "debug" | "info" | "warn" | "error".
std::string_view LogLevelName(LogLevel level);

class ErrorLog {
 public:
  static constexpr int kLinesPerKeyPerSecond = 5;

  // path "-" = stderr; otherwise the file is created if needed and appended
  // to. Returns nullptr and sets *error ("error_log 'path': <strerror>") when
  // the file cannot be opened. Lines are stamped with time.WallNow() and
  // rate-limited on time.MonotonicNow(); `time` must outlive the log (tests
  // pass a common::FakeTimeSource).
  static std::shared_ptr<ErrorLog> Open(const std::string& path, LogLevel min_level,
                                        std::string* error,
                                        const common::TimeSource& time = common::SystemTime());

  ~ErrorLog();
  ErrorLog(const ErrorLog&) = delete;
  ErrorLog& operator=(const ErrorLog&) = delete;

  // True when a line of `level` would be written (cheap; check before building
  // an expensive message).
  bool Enabled(LogLevel level) const { return level >= min_level_.load(std::memory_order_relaxed); }

  // Changes the minimum level (config reload). Any thread.
  void SetMinLevel(LogLevel level) { min_level_.store(level, std::memory_order_relaxed); }

  // Writes one line if `level` is enabled and `key` (a short, stable, dotted
  // name such as "upstream.connect") is within its rate limit. Never throws.
  void Write(LogLevel level, std::string_view key, std::string_view message);

  // For every key whose one-second window is over with lines still
  // suppressed, writes "<key>: (N similar suppressed)" at the level of the
  // last suppressed line, so a burst that stops is still accounted for. Call
  // from the control thread about once a second. Any thread may call it.
  void FlushSuppressed();

  // SIGHUP (log rotation): reopens the file at the same path; no-op for "-".
  // On failure the old file stays in use and false is returned with *error
  // set (when error is not null).
  bool Reopen(std::string* error = nullptr);

  // Total lines suppressed by rate limiting since Open() (for metrics).
  uint64_t suppressed_total() const;

 private:
  struct KeyState {
    std::chrono::steady_clock::time_point window_start;
    int written_in_window = 0;
    uint64_t suppressed = 0;                       // since the last line written for this key
    LogLevel suppressed_level = LogLevel::kDebug;  // of the last suppressed line
  };

  ErrorLog(std::string path, int fd, LogLevel min_level, const common::TimeSource& time);

  const std::string path_;
  std::atomic<LogLevel> min_level_;
  const common::TimeSource& time_;

  mutable std::mutex mu_;                              // guards everything below
  int fd_;                                             // 2 for "-"
  std::map<std::string, KeyState, std::less<>> keys_;  // small: keys are code constants
  uint64_t suppressed_total_ = 0;
};

}  // namespace tidegate::proxy
