#include "proxy/error_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/rfc3339.h"

namespace tidegate::proxy {
namespace {

// Keys come from a small fixed set in the code; this only guards against a
// caller that builds keys from request data.
constexpr size_t kMaxKeys = 1024;

int OpenAppend(const std::string& path, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0 && error != nullptr) {
    *error = "error_log '" + path + "': " + std::strerror(errno);
  }
  return fd;
}

// Writes all of `data`; errors are ignored (there is nowhere to report them).
void WriteFully(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Appends `text`, writing control bytes as \xNN so a message is one line.
void AppendSanitized(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      out->append("\\x");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xf]);
    } else {
      out->push_back(ch);
    }
  }
}

// "<time> <level> <key>: <message> (N similar suppressed)\n"; an empty
// message leaves only the suppressed count.
void AppendLine(common::TimePoint time, LogLevel level, std::string_view key,
                std::string_view message, uint64_t suppressed, std::string* line) {
  common::AppendRfc3339Millis(time, line);
  line->push_back(' ');
  line->append(LogLevelName(level));
  line->push_back(' ');
  AppendSanitized(key, line);
  line->append(": ");
  AppendSanitized(message, line);
  if (suppressed > 0) {
    if (!message.empty()) line->push_back(' ');
    line->push_back('(');
    line->append(std::to_string(suppressed));
    line->append(" similar suppressed)");
  }
  line->push_back('\n');
}

}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  if (text == "debug") {
    *level = LogLevel::kDebug;
  } else if (text == "info") {
    *level = LogLevel::kInfo;
  } else if (text == "warn" || text == "warning") {
    *level = LogLevel::kWarn;
  } else if (text == "error") {
    *level = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

std::shared_ptr<ErrorLog> ErrorLog::Open(const std::string& path, LogLevel min_level,
                                         std::string* error, const common::TimeSource& time) {
  int fd = STDERR_FILENO;
  if (path != "-") {
    fd = OpenAppend(path, error);
    if (fd < 0) return nullptr;
  }
  return std::shared_ptr<ErrorLog>(new ErrorLog(path, fd, min_level, time));
}

ErrorLog::ErrorLog(std::string path, int fd, LogLevel min_level, const common::TimeSource& time)
    : path_(std::move(path)), min_level_(min_level), time_(time), fd_(fd) {}

ErrorLog::~ErrorLog() {
  if (fd_ != STDERR_FILENO) ::close(fd_);
}

void ErrorLog::Write(LogLevel level, std::string_view key, std::string_view message) {
  if (!Enabled(level)) return;
  const auto now = time_.MonotonicNow();
  uint64_t suppressed = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = keys_.find(key);
    if (it == keys_.end()) {
      if (keys_.size() >= kMaxKeys) keys_.clear();
      it = keys_.emplace(std::string(key), KeyState{now, 0, 0}).first;
    }
    KeyState& state = it->second;
    if (now - state.window_start >= std::chrono::seconds(1)) {
      state.window_start = now;
      state.written_in_window = 0;
    }
    if (state.written_in_window >= kLinesPerKeyPerSecond) {
      ++state.suppressed;
      state.suppressed_level = level;
      ++suppressed_total_;
      return;
    }
    ++state.written_in_window;
    suppressed = state.suppressed;
    state.suppressed = 0;
  }

  // Format outside the lock; only the write itself is serialized.
  std::string line;
  line.reserve(48 + key.size() + message.size());
  AppendLine(time_.WallNow(), level, key, message, suppressed, &line);
  std::lock_guard<std::mutex> lock(mu_);
  WriteFully(fd_, line);
}

void ErrorLog::FlushSuppressed() {
  const auto now = time_.MonotonicNow();
  const auto wall = time_.WallNow();
  std::string lines;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, state] : keys_) {
    if (state.suppressed == 0 || now - state.window_start < std::chrono::seconds(1)) continue;
    AppendLine(wall, state.suppressed_level, key, "", state.suppressed, &lines);
    state.suppressed = 0;
  }
  if (!lines.empty()) WriteFully(fd_, lines);
}

bool ErrorLog::Reopen(std::string* error) {
  if (path_ == "-") return true;
  int fd = OpenAppend(path_, error);
  if (fd < 0) return false;
  int old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = fd_;
    fd_ = fd;
  }
  ::close(old);
  return true;
}

uint64_t ErrorLog::suppressed_total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return suppressed_total_;
}

}  // namespace tidegate::proxy
