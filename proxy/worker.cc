#include "proxy/worker.h"

#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "proxy/client_connection.h"
#include "proxy/listener.h"

namespace tidegate::proxy {

Worker::Worker(Options options, std::shared_ptr<const Snapshot> snapshot)
    : options_(std::move(options)), base_(event_base_new()), snapshot_(std::move(snapshot)) {
  context_.loop = base_.get();
  context_.index = options_.index;
  graveyard_ = std::make_unique<Graveyard>(base_.get());
  flush_queue_ = std::make_unique<FlushQueue>(base_.get());
  pool_ = std::make_unique<UpstreamPool>(base_.get(), graveyard_.get(), flush_queue_.get(), &stats_,
                                         options_.error_log.get());
  pool_->Configure(*snapshot_);
  mailbox_event_.reset(event_new(base_.get(), -1, 0, &Worker::OnMailbox, this));
}

Worker::~Worker() {
  for (auto& [key, fds] : options_.adopted) {
    for (int fd : fds) close(fd);
  }
  // Order: connections (they hold upstreams and stream state), the pool,
  // then whatever they buried, then listeners and the base.
  connections_.clear();
  spare_bevs_.clear();
  pool_.reset();
  graveyard_->Sweep();
  listeners_.clear();
  mailbox_event_.reset();
  graveyard_.reset();
  flush_queue_.reset();
}

bool Worker::AddListeners(const std::vector<config::Address>& addresses, bool tls,
                          std::string* error) {
  for (const config::Address& address : addresses) {
    auto adopted = options_.adopted.find(ShopListenKey(tls, address.text));
    if (adopted == options_.adopted.end()) {
      auto listener = Listener::Create(*this, address, tls, error);
      if (!listener) return false;
      listeners_.push_back(std::move(listener));
      continue;
    }
    std::vector<int> fds = std::move(adopted->second);
    options_.adopted.erase(adopted);
    for (size_t i = 0; i < fds.size(); ++i) {
      auto listener = Listener::Adopt(*this, address, tls, fds[i], error);
      if (!listener) {
        for (size_t j = i + 1; j < fds.size(); ++j) close(fds[j]);
        return false;
      }
      listeners_.push_back(std::move(listener));
    }
  }
  return true;
}

bool Worker::Bind(std::string* error) {
  const config::ServerConfig& server = snapshot_->config->server;
  if (!AddListeners(server.listen, /*tls=*/false, error)) return false;
  return !server.tls || AddListeners(server.tls->listen, /*tls=*/true, error);
}

bool Worker::Start(std::string* error) {
  for (const auto& listener : listeners_) {
    if (!listener->Listen(error)) return false;
  }
  // Signals belong to the control thread: the worker starts with all blocked.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  thread_ = std::thread([this] { Run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return true;
}

std::vector<ListenSocket> Worker::ListenSockets() const {
  std::vector<ListenSocket> out;
  for (const auto& listener : listeners_) {
    out.push_back(
        ListenSocket{ShopListenKey(listener->tls(), listener->address_text()), listener->fd()});
  }
  return out;
}

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::Run() {
  event_base_loop(base_.get(), EVLOOP_NO_EXIT_ON_EMPTY);
  // Forced stop or drained: release everything on this thread.
  connections_.clear();
  spare_bevs_.clear();
  pool_->CloseIdle();
  graveyard_->Sweep();
  listeners_.clear();
}

void Worker::PublishSnapshot(std::shared_ptr<const Snapshot> snapshot) {
  {
    std::lock_guard<std::mutex> lock(mailbox_mu_);
    mailbox_snapshot_ = std::move(snapshot);
  }
  event_active(mailbox_event_.get(), EV_READ, 0);
}

void Worker::BeginDrain(DrainMode mode) {
  {
    std::lock_guard<std::mutex> lock(mailbox_mu_);
    mailbox_drain_ = true;
    mailbox_drain_mode_ = mode;
  }
  event_active(mailbox_event_.get(), EV_READ, 0);
}

void Worker::ForceStop() { event_base_loopbreak(base_.get()); }

void Worker::OnMailbox(evutil_socket_t, short, void* arg) {
  static_cast<Worker*>(arg)->HandleMailbox();
}

void Worker::HandleMailbox() {
  std::shared_ptr<const Snapshot> snapshot;
  bool drain;
  DrainMode mode;
  {
    std::lock_guard<std::mutex> lock(mailbox_mu_);
    snapshot = std::move(mailbox_snapshot_);
    mailbox_snapshot_.reset();
    drain = mailbox_drain_;
    mailbox_drain_ = false;
    mode = mailbox_drain_mode_;
  }
  if (snapshot) AdoptSnapshot(std::move(snapshot));
  if (drain && !draining_) StartDrain(mode);
}

void Worker::AdoptSnapshot(std::shared_ptr<const Snapshot> snapshot) {
  // In-flight exchanges keep their own reference to the old snapshot.
  snapshot_ = std::move(snapshot);
  pool_->Configure(*snapshot_);
}

void Worker::OnAccept(evutil_socket_t fd, const sockaddr* addr, int addr_len, bool tls) {
  if (draining_) {
    evutil_closesocket(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  bufferevent* bev = nullptr;
  if (tls) {
    SSL* ssl = snapshot_->tls ? snapshot_->tls->NewServerSsl() : nullptr;
    if (ssl != nullptr) {
      bev = bufferevent_openssl_socket_new(base_.get(), fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                           BEV_OPT_CLOSE_ON_FREE);
      if (bev == nullptr) SSL_free(ssl);
    }
    if (bev != nullptr) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  } else {
    bev = TakeBufferevent(fd).release();
  }
  if (bev == nullptr) {
    evutil_closesocket(fd);
    error_log().Write(LogLevel::kError, "worker.accept", "cannot set up a client connection");
    return;
  }
  auto connection = std::make_unique<ClientConnection>(*this, bev, addr, addr_len, tls);
  ClientConnection* raw = connection.get();
  connections_.emplace(raw, std::move(connection));
  stats_.connections_accepted.Inc();
  stats_.connections_active.Inc();
  UpdateAccepting();
  raw->Start();
}

BuffereventPtr Worker::TakeBufferevent(evutil_socket_t fd) {
  if (spare_bevs_.empty()) {
    return BuffereventPtr(bufferevent_socket_new(base_.get(), fd, BEV_OPT_CLOSE_ON_FREE));
  }
  BuffereventPtr bev = std::move(spare_bevs_.back());
  spare_bevs_.pop_back();
  bufferevent_setfd(bev.get(), fd);
  return bev;
}

void Worker::KeepBufferevent(BuffereventPtr bev) {
  if (spare_bevs_.size() < kMaxSpareBufferevents) spare_bevs_.push_back(std::move(bev));
}

void Worker::OnConnectionClosed(ClientConnection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  std::unique_ptr<ClientConnection> dead = std::move(it->second);
  connections_.erase(it);
  graveyard_->Bury(std::move(dead));
  stats_.connections_active.Dec();
  UpdateAccepting();
  MaybeFinishDrain();
}

void Worker::UpdateAccepting() {
  bool accepting = !draining_ && connections_.size() < options_.max_connections;
  if (accepting == accepting_) return;
  accepting_ = accepting;
  for (auto& listener : listeners_) listener->SetAccepting(accepting);
}

void Worker::StartDrain(DrainMode mode) {
  draining_ = true;
  listeners_.clear();  // stop accepting: close our sockets
  pool_->CloseIdle();
  std::vector<ClientConnection*> open;
  open.reserve(connections_.size());
  for (auto& entry : connections_) open.push_back(entry.first);
  for (ClientConnection* connection : open) {
    // OnDrain may close the connection (idle ones): it stays valid until the
    // graveyard sweeps.
    connection->OnDrain(mode == DrainMode::kHandover ? kHandoverIdleGrace
                                                     : std::chrono::milliseconds::zero());
  }
  MaybeFinishDrain();
}

void Worker::MaybeFinishDrain() {
  if (!draining_ || drained_ || !connections_.empty()) return;
  drained_ = true;
  if (options_.observer != nullptr) options_.observer->OnWorkerDrained(options_.index);
  event_base_loopexit(base_.get(), nullptr);
}

}  // namespace tidegate::proxy
