#include "proxy/client_connection.h"

#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/time_source.h"
#include "common/timeval.h"
#include "proxy/gathered_write.h"
#include "proxy/socket_io.h"
#include "proxy/worker.h"

namespace tidegate::proxy {
namespace {

// Bytes read ahead of the parser (pipelined requests, a held body). Past it
// the socket is not read until the parser catches up.
constexpr size_t kReadHighWatermark = 64 * 1024;
// One read takes at most this much.
constexpr size_t kReadChunk = 16 * 1024;

using common::ToTimeval;

void FormatPeer(const sockaddr* peer, int peer_len, std::string* ip, std::string* addr) {
  char buf[INET6_ADDRSTRLEN] = "";
  uint16_t port = 0;
  if (peer != nullptr && peer->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(peer);
    evutil_inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
    port = ntohs(in->sin_port);
    *ip = buf;
    *addr = *ip + ":" + std::to_string(port);
  } else if (peer != nullptr && peer->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(peer);
    evutil_inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
    port = ntohs(in6->sin6_port);
    *ip = buf;
    *addr = "[" + *ip + "]:" + std::to_string(port);
  } else {
    *ip = "unknown";
    *addr = "unknown";
  }
}

// Removes the last `n` bytes of `out` (which holds at least `n`); false,
// with nothing removed, when `out` refuses (a frozen front).
bool DropTail(evbuffer* out, size_t n) {
  size_t earlier = evbuffer_get_length(out) - n;
  if (earlier == 0) return evbuffer_drain(out, n) == 0;
  // An earlier response still waits ahead: keep its bytes, in order (chains
  // are moved, not copied).
  EvbufferPtr kept(evbuffer_new());
  if (!kept || evbuffer_remove_buffer(out, kept.get(), earlier) < 0) return false;
  evbuffer_drain(out, n);
  evbuffer_add_buffer(out, kept.get());
  return true;
}

}  // namespace

ClientConnection::ClientConnection(Worker& worker, bufferevent* bev, const sockaddr* peer,
                                   int peer_len, bool tls)
    : worker_(worker),
      bev_(bev),
      timer_(worker.base(), &ClientConnection::TimerCallback, this),
      tls_(tls) {
  FormatPeer(peer, peer_len, &client_ip_, &client_addr_);
  if (!tls_) fd_ = bufferevent_getfd(bev_.get());
}

ClientConnection::~ClientConnection() {
  worker_.flush_queue().Cancel(this);
  stream_.reset();      // its filters and upstream go while the connection is whole
  read_event_.reset();  // before the bufferevent (or we, when compacted) closes the socket
  if (!bev_ && fd_ >= 0) evutil_closesocket(fd_);
}

Stream& ClientConnection::stream() {
  if (!stream_) stream_ = std::make_unique<Stream>(*this, worker_);
  return *stream_;
}

void ClientConnection::Start() {
  const config::ServerConfig& server = worker_.snapshot()->config->server;
  if (tls_) {
    timeval send_tv = ToTimeval(server.send_timeout);
    bufferevent_set_timeouts(bev_.get(), nullptr, &send_tv);
    bufferevent_setcb(bev_.get(), &ClientConnection::ReadCallback, &ClientConnection::WriteCallback,
                      &ClientConnection::EventCallback, this);
    bufferevent_setwatermark(bev_.get(), EV_READ, 0, kReadHighWatermark);
    bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
  } else {
    SetUpPlainBufferevent();
    read_event_.reset(event_new(worker_.base(), bufferevent_getfd(bev_.get()), EV_READ | EV_PERSIST,
                                &ClientConnection::SocketCallback, this));
    UpdateReadInterest();
  }
  // A connection that never sends a request is a slow client too.
  ArmTimer(server.header_timeout);
}

void ClientConnection::SetUpPlainBufferevent() {
  // Plain TCP: we read the socket ourselves and write directly; the
  // bufferevent only holds the buffers and writes when the socket is full.
  timeval send_tv = ToTimeval(worker_.snapshot()->config->server.send_timeout);
  bufferevent_set_timeouts(bev_.get(), nullptr, &send_tv);
  bufferevent_setcb(bev_.get(), nullptr, &ClientConnection::WriteCallback,
                    &ClientConnection::EventCallback, this);
  bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
}

void ClientConnection::MaybeCompact() {
  if (worker_.connection_count() <= Worker::kCompactIdleAbove) return;
  if (closing() || in_execute_ || request_state_ != RequestState::kIdle || stream_active() ||
      discarding_ || input_length() > 0 || output_length() > 0) {
    return;
  }
  stream_.reset();
  parser_.reset();
  if (tls_ || !bev_ || plain_.write_pending) return;
  // Detach the socket (read_event_ keeps watching it), then lend the
  // bufferevent, buffers and all, to the next connection that needs one.
  bufferevent_setcb(bev_.get(), nullptr, nullptr, nullptr, nullptr);
  bufferevent_setfd(bev_.get(), -1);
  worker_.KeepBufferevent(std::move(bev_));
  worker_.mutable_stats().connections_compacted.Inc();
}

bool ClientConnection::Inflate() {
  bev_ = worker_.TakeBufferevent(fd_);
  if (!bev_) {
    CloseNow();  // the destructor closes fd_
    return false;
  }
  SetUpPlainBufferevent();
  return true;
}

evbuffer* ClientConnection::output() {
  worker_.flush_queue().Schedule(this);
  return bufferevent_get_output(bev_.get());
}

void ClientConnection::Flush() {
  if (closed() || !bev_) return;
  evbuffer* out = bufferevent_get_output(bev_.get());
  if (!tls_ && !plain_.write_pending) {
    switch (FlushDirect(bev_.get(), &plain_)) {
      case IoResult::kOk:
      case IoResult::kEof:
        break;
      case IoResult::kWouldBlock:
        return;  // the socket is full: the bufferevent finishes (with send_timeout)
      case IoResult::kError:
        HandleEvent(BEV_EVENT_ERROR | BEV_EVENT_WRITING);
        return;
    }
  }
  if (evbuffer_get_length(out) == 0) {
    OnOutputDrained();
    MaybeCompact();  // Flush runs from the flush queue: a fresh callback
  }
}

void ClientConnection::WriteNow(const iovec* pieces, int count) {
  evbuffer* out = bufferevent_get_output(bev_.get());
  switch (WriteGathered(fd_, out, pieces, count)) {
    case IoResult::kOk:
      return;  // no flush: nothing is queued (one scheduled earlier finds the output empty)
    case IoResult::kWouldBlock:
    case IoResult::kEof:
      // The socket is full: the bufferevent writes the rest on EPOLLOUT.
      plain_.write_pending = true;
      bufferevent_enable(bev_.get(), EV_WRITE);
      break;
    case IoResult::kError:
      break;  // the flush meets the error again and closes
  }
  worker_.flush_queue().Schedule(this);
}

bool ClientConnection::TakeBackUnsent(size_t n) {
  if (closing() || !bev_ || n == 0) return false;
  evbuffer* out = bufferevent_get_output(bev_.get());
  size_t queued = evbuffer_get_length(out);
  // Bytes leave the output from its front only (a write, plain or TLS), and
  // the last `n` were appended last: when they are all still there, not one
  // of them was written.
  if (queued < n) return false;
  // A plain socket's bufferevent keeps the front of its output frozen
  // outside its own writes (WriteFromBuffer thaws it the same way); a TLS
  // one does not freeze it. A frozen front refuses the edit (nothing moved):
  // false, and the caller closes instead.
  if (!tls_) evbuffer_unfreeze(out, 1);
  bool taken = DropTail(out, n);
  if (!tls_) evbuffer_freeze(out, 1);
  return taken;
}

void ClientConnection::OnOutputDrained() {
  if (closed()) return;
  if (closing()) {
    FinishClose();
    return;
  }
  if (stream_active()) stream().OnClientDrained();
}

void ClientConnection::UpdateReadInterest() {
  if (tls_ || closed() || life_ == Lifecycle::kLingering) return;
  bool want = !closing() && !eof_ && input_length() < kReadHighWatermark;
  if (want == plain_.reading) return;
  plain_.reading = want;
  if (want) {
    event_add(read_event_.get(), nullptr);
  } else {
    event_del(read_event_.get());
  }
}

void ClientConnection::StopReading() {
  if (tls_) {
    bufferevent_disable(bev_.get(), EV_READ);
  } else if (plain_.reading) {
    plain_.reading = false;
    event_del(read_event_.get());
  }
}

void ClientConnection::SocketCallback(evutil_socket_t, short, void* arg) {
  common::ClockCacheScope one_clock_read;  // for every request this read completes
  static_cast<ClientConnection*>(arg)->OnSocketReadable();
}

void ClientConnection::OnSocketReadable() {
  if (closed()) return;
  if (life_ == Lifecycle::kLingering) {
    DiscardWhileLingering();
    return;
  }
  if (!bev_ && !Inflate()) return;
  // The usual case: nothing buffered, so read onto the stack and parse from
  // there; only what the parser leaves is copied into the input buffer (no
  // buffer allocation for a request that arrives whole).
  char stack[kReadChunk];
  bool onto_stack = !in_execute_ && CanParse() && evbuffer_get_length(input()) == 0;
  size_t n = 0;
  switch (ReadForParse(input(), bufferevent_getfd(bev_.get()), onto_stack ? stack : nullptr,
                       kReadChunk, &n)) {
    case IoResult::kOk:
      if (!onto_stack) {
        ProcessInput();
        break;
      }
      switch (ParsePiece(stack, n, /*from_stack=*/true)) {
        case ParseStep::kMore:
          ParseBuffered();  // the tail, if any, now waits in the input buffer
          break;
        case ParseStep::kWait:
          CloseIfClientGone();
          break;
        case ParseStep::kDone:
          break;
      }
      break;
    case IoResult::kWouldBlock:
      if (!onto_stack) ProcessInput();  // a deferred trigger (pipelined bytes already buffered)
      break;
    case IoResult::kEof:
      HandleEvent(BEV_EVENT_EOF | BEV_EVENT_READING);
      break;
    case IoResult::kError:
      HandleEvent(BEV_EVENT_ERROR | BEV_EVENT_READING);
      return;
  }
  UpdateReadInterest();
}

void ClientConnection::OnDrain(std::chrono::milliseconds idle_grace) {
  draining_ = true;
  if (life_ == Lifecycle::kLingering) {  // the answer is out: do not hold the drain
    CloseNow();
    return;
  }
  // A body being discarded (an answered request) ends within
  // Stream::kDiscardTimeout; draining_ then closes the connection.
  if (!between_requests() || stream_active()) return;
  if (idle_grace.count() > 0) {
    ArmTimer(idle_grace);  // the idle/new-connection timeout closes it
  } else {
    CloseAfterFlush();
  }
}

void ClientConnection::ArmTimer(std::chrono::milliseconds timeout) { timer_.Arm(timeout); }

void ClientConnection::WriteCallback(bufferevent*, void* arg) {
  auto* self = static_cast<ClientConnection*>(arg);
  if (self->closed()) return;
  if (!self->tls_) {
    // Everything queued went out: back to direct writes.
    EndPendingWrite(self->bev_.get(), &self->plain_);
  }
  if (self->output_length() == 0) {
    self->OnOutputDrained();
    // Compact from the flush queue's callback, not inside the bufferevent's.
    if (!self->closed()) self->worker_.flush_queue().Schedule(self);
  }
}

void ClientConnection::EventCallback(bufferevent*, short events, void* arg) {
  static_cast<ClientConnection*>(arg)->HandleEvent(events);
}

void ClientConnection::TimerCallback(void* arg) {
  static_cast<ClientConnection*>(arg)->HandleTimeout();
}

void ClientConnection::HandleEvent(short events) {
  if (closed()) return;
  if (events & BEV_EVENT_TIMEOUT) {  // no write progress for send_timeout
    worker_.mutable_stats().client_send_timeouts.Inc();
    if (stream_active()) stream().Abort(0);
    CloseNow();
    return;
  }
  if (events & BEV_EVENT_ERROR) {
    if (stream_active()) stream().Abort(0);
    CloseNow();
    return;
  }
  if (events & BEV_EVENT_EOF) HandleEof();
}

void ClientConnection::HandleEof() {
  eof_ = true;
  // TLS: libevent's TLS layer stops reading *and writing* at the end of
  // input (a close_notify, a bare FIN or a reset: dirty shutdowns are
  // allowed), so nothing queued would ever go out, and neither a write
  // error nor send_timeout would end the connection: it stayed open for
  // ever, an abandoned download's origin connection stuck unread. A TLS
  // client that closed is gone, as nginx treats any client abort: release
  // the connection and the origin's side now (no half-close over TLS).
  if (tls_) {
    if (stream_active()) stream().Abort(0);
    CloseNow();
    return;
  }
  // Half-close after a complete request: the response is still delivered.
  if (request_state_ == RequestState::kComplete && stream_active()) return;
  ProcessInput();  // bytes that arrived with the FIN
  if (closing()) return;
  if (request_state_ == RequestState::kComplete && stream_active()) return;
  // The rest of the body is buffered but waits for the origin side
  // (connecting, or backpressure): ParseBuffered() consumes it later and
  // then decides, with eof_ set, whether the request completed.
  if (stream_active() && request_state_ == RequestState::kBody &&
      evbuffer_get_length(input()) > 0) {
    return;
  }
  CloseAfterEof();
}

void ClientConnection::HandleTimeout() {
  if (closed()) return;
  if (life_ == Lifecycle::kLingering) {  // the client went quiet, or kLingerTime passed
    CloseNow();
    return;
  }
  switch (request_state_) {
    case RequestState::kIdle:
      worker_.mutable_stats().connections_idle_closed.Inc();
      CloseNow();
      return;
    case RequestState::kNew:  // a connection that never sent a byte: close silently
      worker_.mutable_stats().client_header_timeouts.Inc();
      CloseNow();
      return;
    case RequestState::kHead:  // part of a head arrived: 408, then close
      worker_.mutable_stats().client_header_timeouts.Inc();
      if (stream_active() && stream().response_started()) {
        stream().Abort(408);
        CloseNow();
      } else {
        stream().FailRequest(408);
      }
      return;
    case RequestState::kBody:
      worker_.mutable_stats().client_body_timeouts.Inc();
      if (discarding_) {  // the answer is queued: let it go out, then close
        discarding_ = false;
        CloseAfterFlush();
      } else if (stream_active() && !stream().response_started()) {
        stream().FailRequest(408);
      } else {
        if (stream_active()) stream().Abort(408);
        CloseNow();
      }
      return;
    case RequestState::kComplete:
      return;
  }
}

void ClientConnection::CloseAfterFlush() {
  if (closed()) return;
  life_ = Lifecycle::kClosing;
  timer_.Disarm();
  StopReading();
  if (output_length() == 0) {
    FinishClose();
    return;
  }
  // Bound the flush by send_timeout (the bufferevent write timeout).
}

void ClientConnection::FinishClose() {
  if (life_ == Lifecycle::kLingering || closed()) return;
  if (ClientMaySendMore()) {
    StartLingering();
  } else {
    CloseNow();
  }
}

bool ClientConnection::ClientMaySendMore() {
  if (eof_ || draining_ || !bev_ || linger_fd() < 0 || stream_active()) return false;
  if (worker_.near_connection_limit()) return false;  // the slot is worth more
  // A request not read to its end (a refused head, an unread body), or
  // bytes of a further one already buffered or waiting in the socket.
  if (request_state_ == RequestState::kHead || request_state_ == RequestState::kBody) return true;
  if (input_length() > 0) return true;
  int unread = 0;
  return ioctl(linger_fd(), FIONREAD, &unread) == 0 && unread > 0;
}

void ClientConnection::StartLingering() {
  life_ = Lifecycle::kLingering;
  worker_.mutable_stats().connections_lingered.Inc();
  // The answer is in the socket: the client reads it, then (TLS) the
  // close_notify and EOF.
  if (tls_) {
    SSL* ssl = bufferevent_openssl_get_ssl(bev_.get());
    if (ssl != nullptr) SSL_shutdown(ssl);  // one alert record: the socket has room for it
  }
  shutdown(linger_fd(), SHUT_WR);
  evbuffer_drain(input(), input_length());
  linger_end_ = std::chrono::steady_clock::now() + kLingerTime;
  ArmTimer(kLingerWait);
  if (tls_) {
    // What a TLS client still sends is dropped undecrypted, read from the
    // socket by our own event: the TLS layer neither reads nor writes again.
    bufferevent_setcb(bev_.get(), nullptr, nullptr, nullptr, nullptr);
    bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
    read_event_.reset(event_new(worker_.base(), linger_fd(), EV_READ | EV_PERSIST,
                                &ClientConnection::SocketCallback, this));
    if (!read_event_) {
      CloseNow();
      return;
    }
    event_add(read_event_.get(), nullptr);
  } else {
    bufferevent_disable(bev_.get(), EV_WRITE);
    if (!plain_.reading) {
      plain_.reading = true;
      event_add(read_event_.get(), nullptr);
    }
  }
  DiscardWhileLingering();  // what is already waiting
}

void ClientConnection::DiscardWhileLingering() {
  // A few reads per readiness (the event is level-triggered): a client
  // that keeps sending does not hold the worker.
  char sink[kReadChunk];
  for (int reads = 0; reads < 4; ++reads) {
    ssize_t n = recv(linger_fd(), sink, sizeof(sink), 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    CloseNow();  // the client closed (0) or the socket failed
    return;
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      linger_end_ - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    CloseNow();
    return;
  }
  ArmTimer(std::min(left, kLingerWait));
}

void ClientConnection::CloseNow() {
  if (closed()) return;
  life_ = Lifecycle::kClosed;
  worker_.flush_queue().Cancel(this);
  timer_.Disarm();
  if (read_event_) event_del(read_event_.get());
  if (!bev_) {  // compacted: nothing buffered
    worker_.OnConnectionClosed(this);
    return;
  }
  bufferevent_setcb(bev_.get(), nullptr, nullptr, nullptr, nullptr);
  bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
  if (tls_) {
    // Quiet close: no close_notify wait.
    SSL* ssl = bufferevent_openssl_get_ssl(bev_.get());
    if (ssl != nullptr) SSL_set_quiet_shutdown(ssl, 1);
  }
  worker_.OnConnectionClosed(this);
}

}  // namespace tidegate::proxy
