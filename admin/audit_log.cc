#include "admin/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tidegate::admin {

nlohmann::json ToJson(const AuditRecord& r) {
  return nlohmann::json{{"time", common::FormatRfc3339Millis(r.time)},
                        {"token", r.token_name},
                        {"client", r.client},
                        {"method", r.method},
                        {"route", r.route},
                        {"before", r.before},
                        {"after", r.after}};
}

std::unique_ptr<AuditLog> AuditLog::Open(const std::string& path, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "audit log '" + path + "': " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<AuditLog>(new AuditLog(path, fd));
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

bool AuditLog::Append(const AuditRecord& record, std::string* error) {
  // dump() escapes control characters, so the record is exactly one line.
  std::string line = ToJson(record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = "audit log '" + path_ + "': write: " + std::strerror(errno);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd_) != 0) {
    *error = "audit log '" + path_ + "': fsync: " + std::strerror(errno);
    return false;
  }
  return true;
}

bool AuditLog::ReadLast(size_t limit, std::vector<nlohmann::json>* out, std::string* error) const {
  out->clear();
  if (limit == 0) return true;
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "audit log '" + path_ + "': " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    *error = "audit log '" + path_ + "': " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  // Read blocks backwards until `limit` complete lines are in `tail`.
  constexpr off_t kBlock = 64 * 1024;
  std::string tail;
  off_t end = st.st_size;
  size_t newlines = 0;
  while (end > 0 && newlines <= limit) {
    off_t start = std::max<off_t>(0, end - kBlock);
    std::string block(static_cast<size_t>(end - start), '\0');
    ssize_t n = ::pread(fd, block.data(), block.size(), start);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(block.size())) {
      *error = "audit log '" + path_ + "': read failed";
      ::close(fd);
      return false;
    }
    newlines += static_cast<size_t>(std::count(block.begin(), block.end(), '\n'));
    tail.insert(0, block);
    end = start;
  }
  ::close(fd);
  // Split; when we did not reach the file start, the first piece may be partial.
  std::vector<std::string_view> lines;
  size_t pos = 0;
  bool first_partial = end > 0;
  while (pos < tail.size()) {
    size_t nl = tail.find('\n', pos);
    if (nl == std::string::npos) break;  // an unterminated last line: a write in progress
    if (first_partial) {
      first_partial = false;
    } else if (nl > pos) {
      lines.push_back(std::string_view(tail).substr(pos, nl - pos));
    }
    pos = nl + 1;
  }
  std::vector<nlohmann::json> parsed;
  for (auto it = lines.rbegin(); it != lines.rend() && parsed.size() < limit; ++it) {
    nlohmann::json j = nlohmann::json::parse(*it, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) parsed.push_back(std::move(j));
  }
  std::reverse(parsed.begin(), parsed.end());
  *out = std::move(parsed);
  return true;
}

}  // namespace tidegate::admin
