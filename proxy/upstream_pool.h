// The per-worker set of origin connections: server choice (round-robin with
// passive ejection) and the keep-alive pool of idle connections.
//
// Contract: one pool per worker, worker thread only, no locks.
// * Configure() is called when the worker adopts a new snapshot: if the
//   server list changed, idle connections are closed and the selector starts
//   afresh; connections still in use are discarded when released.
// * Acquire() returns an idle pooled connection (most recently used first)
//   or a new connecting one, to the server's current address (host names
//   are re-resolved by the snapshot's UpstreamMonitor; when an address
//   changes, that server's idle connections are closed). Servers that fail
//   active health checks are skipped like passively ejected ones.
// * Release() pools a reusable connection or closes it: also one that served
//   keepalive_requests exchanges or was opened keepalive_time ago, and every
//   connection of a server that just sent bytes past a response's end
//   (OriginSentExtraBytes). The idle limit per
//   server follows demand: IdleLimit() = max(keepalive, min(keepalive_max,
//   peak in use in the last 10-20 s)), so a burst of C concurrent requests
//   finds C pooled connections next time; keepalive = 0 disables pooling.
//   Idle connections beyond current need expire after keepalive_timeout.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "config/config.h"
#include "proxy/error_log.h"
#include "proxy/graveyard.h"
#include "proxy/snapshot.h"
#include "proxy/upstream_connection.h"
#include "proxy/upstream_demand.h"
#include "proxy/upstream_monitor.h"
#include "proxy/upstream_selector.h"
#include "proxy/worker_stats.h"

namespace tidegate::proxy {

class UpstreamPool : public UpstreamConnection::IdleOwner {
 public:
  // `log` (may be null) hears of origins that send extra bytes.
  UpstreamPool(event_base* base, Graveyard* graveyard, FlushQueue* flush_queue, WorkerStats* stats,
               ErrorLog* log = nullptr);
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
  // The configured servers (a request that could not reach one may try the
  // others: Stream::OnUpstreamError).
  size_t server_count() const { return servers_.size(); }

  // Drain: close every idle connection and stop pooling.
  void CloseIdle();
  size_t idle_count() const;
  // Idle connections server `server` may keep now (see the contract).
  size_t IdleLimit(size_t server, std::chrono::steady_clock::time_point now);

 private:
  void OnIdleConnectionLost(UpstreamConnection* connection) override;
  void OnIdleStrayBytes(UpstreamConnection* connection) override;
  // The origin sent bytes past the end of a response (seen when an exchange
  // ended or on an idle connection): counted, and every connection to that
  // server opened until now stops being pooled. An origin that frames one
  // response wrongly may have shifted others by one response already (its
  // late bytes read as the next request's answer); they are not trusted.
  void OriginSentExtraBytes(size_t server, std::chrono::steady_clock::time_point now);
  // Adopts the monitor's newest addresses; closes idle connections of a
  // server whose address changed.
  void RefreshAddresses();
  void CloseIdleOf(size_t server);

  event_base* base_;
  Graveyard* graveyard_;
  FlushQueue* flush_queue_;
  WorkerStats* stats_;
  ErrorLog* log_;
  std::vector<UpstreamServer> servers_;
  std::unique_ptr<UpstreamSelector> selector_;
  std::shared_ptr<const UpstreamMonitor> monitor_;  // may be null (tests)
  uint64_t addresses_version_ = 0;
  std::shared_ptr<UpstreamDemand> demand_;
  config::UpstreamConfig config_;
  uint64_t generation_ = 0;
  bool closed_ = false;
  // idle_[server]: idle connections, most recently used last.
  std::vector<std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
  // retired_before_[server]: connections opened at or before this are not
  // pooled again (OriginSentExtraBytes).
  std::vector<std::chrono::steady_clock::time_point> retired_before_;
};

}  // namespace tidegate::proxy
