// The per-worker set of origin connections: server choice (round-robin with
// passive ejection) and the keep-alive pool of idle connections.
//
// Contract: one pool per worker, worker thread only, no locks.
// * Configure() is called when the worker adopts a new snapshot: if the
//   server list changed, idle connections are closed and the selector starts
//   afresh; connections still in use are discarded when released.
// * Acquire() returns an idle pooled connection (most recently used first)
//   or a new connecting one; Release() pools a reusable connection (at most
//   `keepalive` idle per server) or closes it.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "config/config.h"
#include "proxy/graveyard.h"
#include "proxy/snapshot.h"
#include "proxy/upstream_connection.h"
#include "proxy/upstream_selector.h"
#include "proxy/worker_stats.h"

namespace tidegate::proxy {

class UpstreamPool : public UpstreamConnection::IdleOwner {
 public:
  UpstreamPool(event_base* base, Graveyard* graveyard, FlushQueue* flush_queue, WorkerStats* stats);
  ~UpstreamPool() override;

  void Configure(const Snapshot& snapshot);

  // Picks a server and returns a connection to it: pooled when `allow_pooled`
  // and one is idle, else a new one (connect started). Returns nullptr when a
  // socket could not be created (count it as a connect failure of *server).
  std::unique_ptr<UpstreamConnection> Acquire(bool allow_pooled, size_t* server);

  // After a complete exchange.
  void Release(std::unique_ptr<UpstreamConnection> connection);

  void ReportSuccess(size_t server) { selector_->ReportSuccess(server); }
  void ReportFailure(size_t server);

  // Drain: close every idle connection and stop pooling.
  void CloseIdle();
  size_t idle_count() const;

 private:
  void OnIdleConnectionLost(UpstreamConnection* connection) override;

  event_base* base_;
  Graveyard* graveyard_;
  FlushQueue* flush_queue_;
  WorkerStats* stats_;
  std::vector<UpstreamServer> servers_;
  std::unique_ptr<UpstreamSelector> selector_;
  config::UpstreamConfig config_;
  uint64_t generation_ = 0;
  bool closed_ = false;
  // idle_[server]: idle connections, most recently used last.
  std::vector<std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
};

}  // namespace tidegate::proxy
