#include "proxy/access_log.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/rfc3339.h"
#include "proxy/error_log.h"

namespace tidegate::proxy {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendUnicodeEscape(unsigned char c, std::string* out) {
  out->append("\\u00");
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 0xf]);
}

// Length of the valid UTF-8 sequence starting at s[0] (2..4), or 0 when the
// bytes there are not valid UTF-8 (overlong forms, surrogates, > U+10FFFF,
// truncated sequences). s[0] is >= 0x80.
size_t Utf8SequenceLength(const unsigned char* s, size_t available) {
  const unsigned char c = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;  // overlong
    if (c == 0xed) hi = 0x9f;  // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;  // overlong
    if (c == 0xf4) hi = 0x8f;  // > U+10FFFF
  } else {
    return 0;
  }
  if (available < len) return 0;
  if (s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (s[i] < 0x80 || s[i] > 0xbf) return 0;
  }
  return len;
}

template <typename Int>
void AppendInt(Int value, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out->append(buf, end);
}

void AppendStringField(std::string_view name, std::string_view value, std::string* out) {
  out->push_back('"');
  out->append(name);
  out->append("\":\"");
  AppendJsonEscaped(value, out);
  out->append("\",");
}

template <typename Int>
void AppendIntField(std::string_view name, Int value, std::string* out) {
  out->push_back('"');
  out->append(name);
  out->append("\":");
  AppendInt(value, out);
  out->push_back(',');
}

}  // namespace

void AppendJsonEscaped(std::string_view text, std::string* out) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // Copy the longest run of bytes that need no escaping in one append.
    size_t run = i;
    while (run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' && s[run] != '\\') ++run;
    out->append(text.data() + i, run - i);
    i = run;
    if (i == n) break;
    const unsigned char c = s[i];
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(s + i, n - i);
      if (len > 0) {
        out->append(text.data() + i, len);
        i += len;
      } else {
        AppendUnicodeEscape(c, out);
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:  // other control bytes and DEL
        AppendUnicodeEscape(c, out);
    }
    ++i;
  }
}

void AppendAccessLine(const AccessRecord& r, std::string* out) {
  out->append("{\"time\":\"");
  common::AppendRfc3339Millis(r.start, out);
  out->append("\",");
  AppendStringField("client", r.client_addr, out);
  if (!r.forwarded_client.empty()) AppendStringField("forwarded_client", r.forwarded_client, out);
  AppendStringField("method", r.method, out);
  AppendStringField("target", r.target, out);
  AppendStringField("host", r.host, out);
  AppendIntField("status", r.status, out);
  AppendIntField("request_bytes", r.request_bytes, out);
  AppendIntField("response_bytes", r.response_bytes, out);
  AppendIntField("duration_us", r.duration.count(), out);
  AppendStringField("upstream_addr", r.upstream_addr, out);
  AppendIntField("upstream_duration_us", r.upstream_duration.count(), out);
  AppendStringField("answered_by", r.answered_by, out);
  out->append(r.tls ? "\"tls\":true," : "\"tls\":false,");
  AppendIntField("worker", r.worker, out);
  AppendStringField("user_agent", r.user_agent, out);
  out->append("\"referer\":\"");
  AppendJsonEscaped(r.referer, out);
  out->append("\"}\n");
}

void AccessLog::Sink::Write(const AccessRecord& record) {
  line_.clear();
  AppendAccessLine(record, &line_);
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.size() + line_.size() > log_->options_.max_queued_bytes) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    pending_.append(line_);
    if (!wakeup_sent_ && pending_.size() >= log_->options_.max_queued_bytes / 4) {
      wakeup_sent_ = true;
      wake = true;
    }
  }
  // Outside mu_: the writer takes sinks_mu_ before a sink's mu_.
  if (wake) log_->WakeWriter();
}

namespace {

int OpenAppend(const std::string& path, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0 && error != nullptr) {
    *error = "access_log '" + path + "': " + std::strerror(errno);
  }
  return fd;
}

}  // namespace

std::unique_ptr<AccessLog> AccessLog::Open(const std::string& path, std::string* error) {
  return Open(path, error, Options());
}

std::unique_ptr<AccessLog> AccessLog::Open(const std::string& path, std::string* error,
                                           const Options& options) {
  error->clear();
  if (path.empty()) return nullptr;
  int fd = STDOUT_FILENO;
  if (path != "-") {
    fd = OpenAppend(path, error);
    if (fd < 0) return nullptr;
  }
  std::unique_ptr<AccessLog> log(new AccessLog(path, fd, options));
  log->writer_ = std::thread([raw = log.get()] { raw->WriterLoop(); });
  return log;
}

AccessLog::AccessLog(std::string path, int fd, const Options& options)
    : path_(std::move(path)), options_(options), fd_(fd) {}

AccessLog::~AccessLog() {
  {
    std::lock_guard<std::mutex> lock(sinks_mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (writer_.joinable()) writer_.join();
  if (reopened_fd_ >= 0) ::close(reopened_fd_);
  if (fd_ != STDOUT_FILENO) ::close(fd_);
}

AccessLog::Sink* AccessLog::NewSink() {
  std::lock_guard<std::mutex> lock(sinks_mu_);
  sinks_.push_back(std::unique_ptr<Sink>(new Sink(this)));
  return sinks_.back().get();
}

bool AccessLog::Reopen(std::string* error) {
  if (path_ == "-") return true;
  int fd = OpenAppend(path_, error);
  if (fd < 0) return false;
  int superseded;
  {
    std::lock_guard<std::mutex> lock(sinks_mu_);
    superseded = reopened_fd_;  // a second SIGHUP before the writer woke up
    reopened_fd_ = fd;
    wakeup_ = true;
  }
  cv_.notify_one();
  if (superseded >= 0) ::close(superseded);
  return true;
}

uint64_t AccessLog::dropped_total() const {
  std::lock_guard<std::mutex> lock(sinks_mu_);
  uint64_t total = 0;
  for (const auto& sink : sinks_) total += sink->dropped();
  return total;
}

void AccessLog::WakeWriter() {
  {
    std::lock_guard<std::mutex> lock(sinks_mu_);
    wakeup_ = true;
  }
  cv_.notify_one();
}

void AccessLog::WriterLoop() {
  // A log on a pipe whose reader went away must not kill the process:
  // write(2) then fails with EPIPE, counted as a write error.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);

  std::string batch;
  for (;;) {
    bool stopping;
    int reopened_fd;
    {
      std::unique_lock<std::mutex> lock(sinks_mu_);
      cv_.wait_for(lock, options_.flush_interval, [this] { return stop_ || wakeup_; });
      wakeup_ = false;
      stopping = stop_;
      reopened_fd = reopened_fd_;
      reopened_fd_ = -1;
    }
    if (reopened_fd >= 0) {
      if (fd_ != STDOUT_FILENO) ::close(fd_);
      fd_ = reopened_fd;
    }
    // After stop_ the workers have stopped writing: this drain is the last.
    DrainSinks(&batch);
    if (stopping) return;
  }
}

void AccessLog::DrainSinks(std::string* batch) {
  std::vector<Sink*> sinks;
  {
    std::lock_guard<std::mutex> lock(sinks_mu_);
    sinks.reserve(sinks_.size());
    for (const auto& sink : sinks_) sinks.push_back(sink.get());
  }
  // Sinks are never removed before the destructor joined this thread.
  for (Sink* sink : sinks) {
    {
      std::lock_guard<std::mutex> lock(sink->mu_);
      if (sink->pending_.empty()) continue;
      batch->swap(sink->pending_);  // the worker keeps writing into our old buffer
      sink->wakeup_sent_ = false;
    }
    WriteAll(*batch);
    batch->clear();
  }
}

void AccessLog::WriteAll(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {  // a non-blocking stdout: wait, but not forever
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 1000) > 0) continue;
    }
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
}

}  // namespace tidegate::proxy
