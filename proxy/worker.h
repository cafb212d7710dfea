// One worker thread: its own event_base, its own SO_REUSEPORT listeners, its
// own client connections, upstream pool and counters.
//
// Threads: the constructor, Bind(), Start() and Join() run on the control
// thread.
// PublishSnapshot(), BeginDrain() and ForceStop() may be called from any
// thread: they post work to the worker (a mutex-protected mailbox plus
// event_active), never touch the worker's base directly. Everything else runs
// on the worker thread only and takes no lock.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "proxy/access_log.h"
#include "proxy/error_log.h"
#include "proxy/flush_queue.h"
#include "proxy/graveyard.h"
#include "proxy/http_date.h"
#include "proxy/libevent_handles.h"
#include "proxy/listen_handover.h"
#include "proxy/snapshot.h"
#include "proxy/upstream_pool.h"
#include "proxy/worker_context.h"
#include "proxy/worker_stats.h"

namespace tidegate::proxy {

class ClientConnection;
class Listener;

class Worker {
 public:
  // Told (on the worker thread) when the worker has finished draining.
  class Observer {
   public:
    virtual ~Observer() = default;
    virtual void OnWorkerDrained(int worker) = 0;
  };

  struct Options {
    int index = 0;
    std::shared_ptr<ErrorLog> error_log;     // never null
    AccessLog::Sink* access_sink = nullptr;  // null = access log off
    Observer* observer = nullptr;
    uint32_t max_connections = 10000;  // this worker's share
    // Listening sockets handed over by the previous process (binary
    // upgrade), by key (proxy/listen_handover.h): adopted by Bind()
    // instead of binding; an address without one is bound as usual. Owned:
    // Bind() takes them (and the destructor closes any it did not get to).
    std::map<std::string, std::vector<int>> adopted;
  };

  // How idle client connections end when the worker drains.
  enum class DrainMode {
    kCloseIdle,  // SIGTERM: idle keep-alive connections close at once
    // Binary upgrade: another process now serves the same sockets. A client
    // may already be sending its next request on an idle keep-alive
    // connection, so closing it now could cost that request: idle
    // connections get kHandoverIdleGrace to send one (answered with
    // `Connection: close`) and are closed after that.
    kHandover,
  };
  static constexpr std::chrono::milliseconds kHandoverIdleGrace{1000};

  Worker(Options options, std::shared_ptr<const Snapshot> snapshot);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Control thread: creates the listeners (plain and TLS addresses of the
  // snapshot's config): bound, or adopted, but no connection is taken on a
  // bound one before Start(). False + *error when one cannot be bound.
  bool Bind(std::string* error);
  // Control thread, after Bind() succeeded: the bound listeners listen,
  // and the thread starts. False + *error (no thread) when one cannot.
  bool Start(std::string* error);
  void Join();
  // Control thread, after Bind() and before BeginDrain(): every listening
  // socket of this worker (fds borrowed; fixed until the worker drains).
  std::vector<ListenSocket> ListenSockets() const;

  // Any thread.
  void PublishSnapshot(std::shared_ptr<const Snapshot> snapshot);
  void BeginDrain(DrainMode mode = DrainMode::kCloseIdle);
  void ForceStop();
  const WorkerStats& stats() const { return stats_; }

  // ---- worker thread only ----
  event_base* base() const { return base_.get(); }
  // What filters see of this worker (loop, index).
  const WorkerContext& context() const { return context_; }
  const std::shared_ptr<const Snapshot>& snapshot() const { return snapshot_; }
  WorkerStats& mutable_stats() { return stats_; }
  UpstreamPool& pool() { return *pool_; }
  Graveyard& graveyard() { return *graveyard_; }
  FlushQueue& flush_queue() { return *flush_queue_; }
  ErrorLog& error_log() { return *options_.error_log; }
  AccessLog::Sink* access_sink() { return options_.access_sink; }
  int index() const { return options_.index; }
  bool draining() const { return draining_; }
  // A per-thread scratch string for serialising heads (cleared by the user).
  std::string& scratch() { return scratch_; }
  // The Date line of the loop's current second (proxy/http_date.h).
  std::string_view date_line() { return date_.Line(); }

  // Idle client connections are compacted (proxy/client_connection.h) only
  // while the worker holds more than this many: below it memory is no
  // concern and a keep-alive request pays nothing for compaction (taking a
  // bufferevent, a parser and a stream again costs ~4,000 instructions,
  // +14 % of a small pass-through request).
  static constexpr size_t kCompactIdleAbove = 256;
  size_t connection_count() const { return connections_.size(); }
  // Most of this worker's connection share is taken (three quarters): a
  // closing connection does not linger then (ClientConnection), the slot
  // goes to the next shopper.
  bool near_connection_limit() const {
    return connections_.size() >= options_.max_connections / 4 * 3;
  }

  // Plain client bufferevents freed by idle connections (fd detached,
  // callbacks cleared, buffers empty), reused by the next connection that
  // needs one: an idle connection holds none, and going idle and back costs
  // no allocation. At most kMaxSpareBufferevents are kept.
  static constexpr size_t kMaxSpareBufferevents = 256;
  // A bufferevent on `fd` (spare or new; takes no ownership of fd until the
  // result is freed: BEV_OPT_CLOSE_ON_FREE). Null when libevent fails.
  BuffereventPtr TakeBufferevent(evutil_socket_t fd);
  // Takes back a plain bufferevent whose fd was detached (bufferevent_setfd
  // -1) and whose buffers are empty.
  void KeepBufferevent(BuffereventPtr bev);

  // Called by a Listener for each accepted socket (ownership of fd passes).
  void OnAccept(evutil_socket_t fd, const sockaddr* addr, int addr_len, bool tls);
  // Called by a ClientConnection when it has closed; buries it.
  void OnConnectionClosed(ClientConnection* connection);

 private:
  static void OnMailbox(evutil_socket_t, short, void* arg);
  void HandleMailbox();
  void AdoptSnapshot(std::shared_ptr<const Snapshot> snapshot);
  void StartDrain(DrainMode mode);
  bool AddListeners(const std::vector<config::Address>& addresses, bool tls, std::string* error);
  void MaybeFinishDrain();
  void UpdateAccepting();
  void Run();

  Options options_;
  EventBasePtr base_;
  WorkerContext context_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::unique_ptr<Graveyard> graveyard_;
  std::unique_ptr<FlushQueue> flush_queue_;
  std::unique_ptr<UpstreamPool> pool_;
  WorkerStats stats_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<ClientConnection*, std::unique_ptr<ClientConnection>> connections_;
  std::vector<BuffereventPtr> spare_bevs_;
  bool accepting_ = true;
  bool draining_ = false;
  bool drained_ = false;
  std::string scratch_;
  HttpDate date_;
  std::thread thread_;

  // Mailbox (any thread → worker thread).
  EventPtr mailbox_event_;
  std::mutex mailbox_mu_;
  std::shared_ptr<const Snapshot> mailbox_snapshot_;
  bool mailbox_drain_ = false;
  DrainMode mailbox_drain_mode_ = DrainMode::kCloseIdle;
};

}  // namespace tidegate::proxy
