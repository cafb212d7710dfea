#include "proxy/upstream_pool.h"

#include <string.h>

#include <algorithm>

namespace tidegate::proxy {

UpstreamPool::UpstreamPool(event_base* base, Graveyard* graveyard, FlushQueue* flush_queue,
                           WorkerStats* stats)
    : base_(base), graveyard_(graveyard), flush_queue_(flush_queue), stats_(stats) {}

UpstreamPool::~UpstreamPool() { CloseIdle(); }

void UpstreamPool::Configure(const Snapshot& snapshot) {
  config_ = snapshot.config->upstream;
  bool same = servers_.size() == snapshot.upstreams.size();
  for (size_t i = 0; same && i < servers_.size(); ++i) {
    same = servers_[i].text == snapshot.upstreams[i].text &&
           servers_[i].addr_len == snapshot.upstreams[i].addr_len &&
           memcmp(&servers_[i].addr, &snapshot.upstreams[i].addr, servers_[i].addr_len) == 0;
  }
  if (same && selector_) return;
  bool was_closed = closed_;
  CloseIdle();
  closed_ = was_closed;
  servers_ = snapshot.upstreams;
  ++generation_;
  selector_ =
      std::make_unique<UpstreamSelector>(servers_.size(), config_.max_fails, config_.fail_timeout);
  idle_.clear();
  idle_.resize(servers_.size());
}

std::unique_ptr<UpstreamConnection> UpstreamPool::Acquire(bool allow_pooled, size_t* server) {
  size_t index = selector_->Pick(std::chrono::steady_clock::now());
  *server = index;
  auto& idle = idle_[index];
  if (allow_pooled && !idle.empty()) {
    std::unique_ptr<UpstreamConnection> connection = std::move(idle.back());
    idle.pop_back();
    stats_->pool_idle.Dec();
    stats_->pool_reused.Inc();
    return connection;
  }
  auto connection = std::make_unique<UpstreamConnection>(base_, graveyard_, flush_queue_, index,
                                                         generation_, servers_[index]);
  stats_->pool_connects.Inc();
  if (!connection->Connect(config_.connect_timeout)) {
    UpstreamConnection::Discard(std::move(connection));
    return nullptr;
  }
  return connection;
}

void UpstreamPool::Release(std::unique_ptr<UpstreamConnection> connection) {
  if (!connection) return;
  size_t index = connection->server_index();
  if (closed_ || connection->pool_generation() != generation_ || !connection->reusable() ||
      idle_[index].size() >= config_.keepalive) {
    UpstreamConnection::Discard(std::move(connection));
    return;
  }
  connection->EnterIdle(this, config_.keepalive_timeout);
  idle_[index].push_back(std::move(connection));
  stats_->pool_idle.Inc();
}

void UpstreamPool::ReportFailure(size_t server) {
  selector_->ReportFailure(server, std::chrono::steady_clock::now());
}

void UpstreamPool::CloseIdle() {
  closed_ = true;
  for (auto& idle : idle_) {
    for (auto& connection : idle) {
      UpstreamConnection::Discard(std::move(connection));
      stats_->pool_idle.Dec();
    }
    idle.clear();
  }
}

size_t UpstreamPool::idle_count() const {
  size_t n = 0;
  for (const auto& idle : idle_) n += idle.size();
  return n;
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
