// The access log: one JSON object per line per finished request, written by a
// background thread so workers never touch the disk.
//
// Contract:
// * Line format (keys in this order; all but forwarded_client always present):
//   {"time":"2026-11-23T13:40:00.123Z","client":"1.2.3.4:5678","method":"GET",
//    "target":"/x?y","host":"shop.example","status":200,"request_bytes":0,
//    "response_bytes":512,"duration_us":1234,"upstream_addr":"127.0.0.1:9000",
//    "upstream_duration_us":1000,"answered_by":"origin","tls":false,"worker":0,
//    "user_agent":"curl/8","referer":""}
//   "time" is the request start. Behind a front of [server].trusted_proxies,
//   "forwarded_client":"198.51.100.4" (the client it reported; "client" is
//   the front) follows "client"; it is absent otherwise. Every string is escaped: '"' and '\\',
//   control bytes as \n \r \t \b \f or \u00XX, DEL as \u007f, and every byte
//   that is not part of valid UTF-8 as \u00XX, so each line is valid JSON
//   whatever the client sent.
// * Threads: Open(), NewSink(), Reopen() and the destructor run on the control
//   thread. Each Sink belongs to one worker thread, which alone calls
//   Sink::Write(); Sink::dropped() may be read from any thread. One background
//   writer thread, started by Open(), does all file I/O.
// * Sink::Write() formats into the sink's own buffer under the sink's own
//   mutex, which only the writer thread also takes (briefly, to swap
//   buffers): no I/O and no contended lock on the request path. The buffer is
//   bounded (Options::max_queued_bytes per sink); past it, lines are dropped
//   and counted.
// * The writer flushes every Options::flush_interval, or sooner when a sink's
//   buffer passes a quarter of its bound. The destructor writes everything
//   still queued, then joins the writer.
// * Ownership: the AccessLog owns its sinks; a Sink* stays valid until the
//   AccessLog is destroyed, which must happen after the workers stopped
//   writing.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tidegate::proxy {

// What one finished request logs. Views must stay valid during Write() only.
struct AccessRecord {
  std::chrono::system_clock::time_point start;
  std::string_view client_addr;  // "ip:port" of the connection's peer
  // The client's address a trusted front reported ([server].trusted_proxies);
  // "" when the peer is the client (the field is then left out).
  std::string_view forwarded_client;
  std::string_view method, target, host, user_agent, referer;
  int status = 0;
  uint64_t request_bytes = 0, response_bytes = 0;
  std::chrono::microseconds duration{0}, upstream_duration{0};
  std::string_view upstream_addr;  // "" when not forwarded
  std::string_view answered_by;    // AnswererName() (proxy/answerer.h): "origin", "proxy"
                                   // (local error reply), "builtin", "maintenance", …
  bool tls = false;
  int worker = 0;
};

// Appends `text` to *out as a JSON string body (no surrounding quotes),
// escaped as described above. Exposed for tests and other JSON writers.
void AppendJsonEscaped(std::string_view text, std::string* out);

// Appends the JSON line (with its trailing '\n') for `record` to *out.
void AppendAccessLine(const AccessRecord& record, std::string* out);

class AccessLog {
 public:
  struct Options {
    size_t max_queued_bytes = 4u << 20;  // per sink; lines past it are dropped
    std::chrono::milliseconds flush_interval{200};
  };

  class Sink {
   public:
    // Formats `record` and queues the line. Worker thread only; no I/O.
    void Write(const AccessRecord& record);
    // Lines dropped because the queue was full (any thread).
    uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

   private:
    friend class AccessLog;
    explicit Sink(AccessLog* log) : log_(log) {}

    AccessLog* const log_;
    std::string line_;  // scratch, worker thread only
    std::mutex mu_;     // guards pending_ and wakeup_sent_
    std::string pending_;
    bool wakeup_sent_ = false;
    std::atomic<uint64_t> dropped_{0};
  };

  // path "" → nullptr with *error empty (access log off); "-" → stdout;
  // otherwise the file is created if needed and appended to. On failure
  // returns nullptr with *error "access_log 'path': <strerror>". Starts the
  // writer thread.
  static std::unique_ptr<AccessLog> Open(const std::string& path, std::string* error);
  static std::unique_ptr<AccessLog> Open(const std::string& path, std::string* error,
                                         const Options& options);

  // Writes every queued line, then joins the writer thread and closes the file.
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // One per worker, owned by the AccessLog. Call before that worker starts
  // writing (control thread).
  Sink* NewSink();

  // SIGHUP (log rotation): opens the path again (on the calling thread, so
  // failures are reported here) and hands the new file to the writer, which
  // switches to it before its next write; never waits for a write in
  // progress. No-op for "-". On failure the old file stays in use and false
  // is returned with *error set (when error is not null).
  bool Reopen(std::string* error = nullptr);

  // Lines dropped by all sinks, and write(2) failures of the writer thread.
  uint64_t dropped_total() const;
  uint64_t write_errors() const { return write_errors_.load(std::memory_order_relaxed); }

 private:
  AccessLog(std::string path, int fd, const Options& options);
  void WriterLoop();
  // Moves every sink's pending lines to the file. Writer thread only.
  void DrainSinks(std::string* batch);
  void WriteAll(const std::string& data);
  void WakeWriter();

  const std::string path_;
  const Options options_;

  int fd_;  // 1 for "-"; the writer thread's alone while it runs

  mutable std::mutex sinks_mu_;  // guards sinks_, stop_, wakeup_; cv_ waits on it
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  bool stop_ = false;
  bool wakeup_ = false;
  int reopened_fd_ = -1;  // from Reopen(), adopted by the writer before its next write

  std::atomic<uint64_t> write_errors_{0};
  std::thread writer_;
};

}  // namespace tidegate::proxy
