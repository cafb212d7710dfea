#include "proxy/upstream_pool.h"

#include <string.h>

#include <algorithm>

#include "common/time_source.h"

namespace tidegate::proxy {

UpstreamPool::UpstreamPool(event_base* base, Graveyard* graveyard, FlushQueue* flush_queue,
                           WorkerStats* stats, ErrorLog* log)
    : base_(base), graveyard_(graveyard), flush_queue_(flush_queue), stats_(stats), log_(log) {}

UpstreamPool::~UpstreamPool() { CloseIdle(); }

void UpstreamPool::Configure(const Snapshot& snapshot) {
  config_ = snapshot.config->upstream;
  bool same = servers_.size() == snapshot.upstreams.size();
  for (size_t i = 0; same && i < servers_.size(); ++i) {
    same = servers_[i].text == snapshot.upstreams[i].text &&
           servers_[i].addr_len == snapshot.upstreams[i].addr_len &&
           memcmp(&servers_[i].addr, &snapshot.upstreams[i].addr, servers_[i].addr_len) == 0;
  }
  if (same && selector_) {
    // Same servers: idle connections stay; addresses and health now come
    // from the new snapshot's monitor.
    monitor_ = snapshot.upstream_monitor;
    addresses_version_ = 0;
    selector_->SetHealthFlags(monitor_ ? monitor_->healthy_flags() : nullptr);
    return;
  }
  bool was_closed = closed_;
  CloseIdle();
  closed_ = was_closed;
  servers_ = snapshot.upstreams;
  monitor_ = snapshot.upstream_monitor;
  addresses_version_ = 0;
  ++generation_;
  selector_ =
      std::make_unique<UpstreamSelector>(servers_.size(), config_.max_fails, config_.fail_timeout);
  if (monitor_) selector_->SetHealthFlags(monitor_->healthy_flags());
  demand_ = std::make_shared<UpstreamDemand>(servers_.size());
  idle_.clear();
  idle_.resize(servers_.size());
  retired_before_.assign(servers_.size(), {});
}

void UpstreamPool::RefreshAddresses() {
  const UpstreamAddresses& current = monitor_->addresses().Get();
  if (current.version == addresses_version_) return;
  addresses_version_ = current.version;
  for (size_t i = 0; i < servers_.size() && i < current.servers.size(); ++i) {
    const UpstreamServer& now = current.servers[i];
    if (now.addr_len == servers_[i].addr_len &&
        memcmp(&now.addr, &servers_[i].addr, now.addr_len) == 0) {
      continue;
    }
    servers_[i].addr = now.addr;
    servers_[i].addr_len = now.addr_len;
    CloseIdleOf(i);
  }
}

std::unique_ptr<UpstreamConnection> UpstreamPool::Acquire(bool allow_pooled, size_t* server) {
  if (monitor_) RefreshAddresses();
  auto now = common::CachedMonotonicNow();
  size_t index = selector_->Pick(now);
  *server = index;
  auto& idle = idle_[index];
  if (allow_pooled && !idle.empty()) {
    std::unique_ptr<UpstreamConnection> connection = std::move(idle.back());
    idle.pop_back();
    stats_->pool_idle.Dec();
    stats_->pool_reused.Inc();
    demand_->Begin(index, now);
    connection->MarkInUse(DemandToken(demand_, index));
    return connection;
  }
  auto connection = std::make_unique<UpstreamConnection>(base_, graveyard_, flush_queue_, index,
                                                         generation_, servers_[index]);
  stats_->pool_connects.Inc();
  demand_->Begin(index, now);
  connection->MarkInUse(DemandToken(demand_, index));
  if (!connection->Connect(config_.connect_timeout)) {
    UpstreamConnection::Discard(std::move(connection));
    return nullptr;
  }
  return connection;
}

size_t UpstreamPool::IdleLimit(size_t server, std::chrono::steady_clock::time_point now) {
  if (config_.keepalive == 0) return 0;
  size_t recent = std::min<size_t>(demand_->RecentPeak(server, now), config_.keepalive_max);
  return std::max<size_t>(config_.keepalive, recent);
}

void UpstreamPool::Release(std::unique_ptr<UpstreamConnection> connection) {
  if (!connection) return;
  size_t index = connection->server_index();
  auto now = common::CachedMonotonicNow();
  bool same_servers = connection->pool_generation() == generation_;
  if (same_servers && connection->extra_bytes_after_response()) {
    OriginSentExtraBytes(index, now);
  }
  if (closed_ || !same_servers || !connection->reusable() ||
      connection->exchanges() >= config_.keepalive_requests ||
      now - connection->opened_at() >= config_.keepalive_time ||
      connection->opened_at() <= retired_before_[index] ||
      idle_[index].size() >= IdleLimit(index, now)) {
    UpstreamConnection::Discard(std::move(connection));
    return;
  }
  connection->EnterIdle(this, config_.keepalive_timeout);
  idle_[index].push_back(std::move(connection));
  stats_->pool_idle.Inc();
}

void UpstreamPool::ReportFailure(size_t server) {
  selector_->ReportFailure(server, common::CachedMonotonicNow());
}

void UpstreamPool::CloseIdleOf(size_t server) {
  for (auto& connection : idle_[server]) {
    UpstreamConnection::Discard(std::move(connection));
    stats_->pool_idle.Dec();
  }
  idle_[server].clear();
}

void UpstreamPool::CloseIdle() {
  closed_ = true;
  for (size_t i = 0; i < idle_.size(); ++i) CloseIdleOf(i);
}

size_t UpstreamPool::idle_count() const {
  size_t n = 0;
  for (const auto& idle : idle_) n += idle.size();
  return n;
}

void UpstreamPool::OriginSentExtraBytes(size_t server, std::chrono::steady_clock::time_point now) {
  stats_->origin_extra_bytes.Inc();
  retired_before_[server] = now;
  if (log_ != nullptr && log_->Enabled(LogLevel::kWarn)) {
    log_->Write(LogLevel::kWarn, "upstream.extra_bytes",
                servers_[server].text +
                    ": bytes past the end of a response (its Content-Length or framing is "
                    "wrong); its pooled connections are closed. Late ones can reach another "
                    "request: fix the origin, or set [upstream] keepalive = 0");
  }
  CloseIdleOf(server);
}

void UpstreamPool::OnIdleStrayBytes(UpstreamConnection* connection) {
  if (connection->pool_generation() != generation_) {
    OnIdleConnectionLost(connection);
    return;
  }
  // CloseIdleOf() discards this connection with the others.
  OriginSentExtraBytes(connection->server_index(), common::CachedMonotonicNow());
}

void UpstreamPool::OnIdleConnectionLost(UpstreamConnection* connection) {
  auto& idle = idle_[connection->server_index()];
  auto it = std::find_if(idle.begin(), idle.end(),
                         [connection](const auto& p) { return p.get() == connection; });
  if (it == idle.end()) return;
  std::unique_ptr<UpstreamConnection> lost = std::move(*it);
  idle.erase(it);
  stats_->pool_idle.Dec();
  UpstreamConnection::Discard(std::move(lost));
}

}  // namespace tidegate::proxy
