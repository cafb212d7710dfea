#include "proxy/client_connection.h"

#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>

#include "common/timeval.h"
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

}  // namespace

ClientConnection::ClientConnection(Worker& worker, bufferevent* bev, const sockaddr* peer,
                                   int peer_len, bool tls)
    : worker_(worker),
      bev_(bev),
      timer_(evtimer_new(worker.base(), &ClientConnection::TimerCallback, this)),
      stream_(*this, worker),
      tls_(tls) {
  FormatPeer(peer, peer_len, &client_ip_, &client_addr_);
}

ClientConnection::~ClientConnection() {
  worker_.flush_queue().Cancel(this);
  read_event_.reset();  // before the bufferevent closes the socket
}

void ClientConnection::Start() {
  const config::ServerConfig& server = worker_.snapshot()->config->server;
  timeval send_tv = ToTimeval(server.send_timeout);
  bufferevent_set_timeouts(bev_.get(), nullptr, &send_tv);
  if (tls_) {
    bufferevent_setcb(bev_.get(), &ClientConnection::ReadCallback, &ClientConnection::WriteCallback,
                      &ClientConnection::EventCallback, this);
    bufferevent_setwatermark(bev_.get(), EV_READ, 0, kReadHighWatermark);
    bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
  } else {
    // Plain TCP: we read the socket ourselves and write directly; the
    // bufferevent only holds the buffers and writes when the socket is full.
    bufferevent_setcb(bev_.get(), nullptr, &ClientConnection::WriteCallback,
                      &ClientConnection::EventCallback, this);
    bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
    read_event_.reset(event_new(worker_.base(), bufferevent_getfd(bev_.get()), EV_READ | EV_PERSIST,
                                &ClientConnection::SocketCallback, this));
    UpdateReadInterest();
  }
  // A connection that never sends a request is a slow client too.
  ArmTimer(server.header_timeout);
}

evbuffer* ClientConnection::output() {
  worker_.flush_queue().Schedule(this);
  return bufferevent_get_output(bev_.get());
}

void ClientConnection::Flush() {
  if (closed_) return;
  evbuffer* out = bufferevent_get_output(bev_.get());
  if (!tls_ && !write_pending_) {
    switch (WriteFromBuffer(out, bufferevent_getfd(bev_.get()))) {
      case IoResult::kOk:
      case IoResult::kEof:
        break;
      case IoResult::kWouldBlock:
        // The socket is full: let the bufferevent finish (with send_timeout).
        write_pending_ = true;
        bufferevent_enable(bev_.get(), EV_WRITE);
        return;
      case IoResult::kError:
        HandleEvent(BEV_EVENT_ERROR | BEV_EVENT_WRITING);
        return;
    }
  }
  if (evbuffer_get_length(out) == 0) OnOutputDrained();
}

void ClientConnection::OnOutputDrained() {
  if (closed_) return;
  if (closing_) {
    CloseNow();
    return;
  }
  if (stream_.active()) stream_.OnClientDrained();
}

void ClientConnection::UpdateReadInterest() {
  if (tls_ || closed_) return;
  bool want = !closing_ && !eof_ &&
              evbuffer_get_length(bufferevent_get_input(bev_.get())) < kReadHighWatermark;
  if (want == reading_) return;
  reading_ = want;
  if (want) {
    event_add(read_event_.get(), nullptr);
  } else {
    event_del(read_event_.get());
  }
}

void ClientConnection::StopReading() {
  if (tls_) {
    bufferevent_disable(bev_.get(), EV_READ);
  } else if (reading_) {
    reading_ = false;
    event_del(read_event_.get());
  }
}

void ClientConnection::SocketCallback(evutil_socket_t, short, void* arg) {
  static_cast<ClientConnection*>(arg)->OnSocketReadable();
}

void ClientConnection::OnSocketReadable() {
  if (closed_) return;
  if (!in_execute_ && CanParse() && evbuffer_get_length(bufferevent_get_input(bev_.get())) == 0) {
    // The usual case: nothing buffered, so read onto the stack and parse
    // from there; only what the parser leaves is copied into the input
    // buffer (no buffer allocation for a request that arrives whole).
    char buf[kReadChunk];
    ssize_t got;
    do {
      got = read(bufferevent_getfd(bev_.get()), buf, sizeof(buf));
    } while (got < 0 && errno == EINTR);
    if (got > 0) {
      ParseStep step = ParsePiece(buf, static_cast<size_t>(got), /*direct=*/true);
      if (step == ParseStep::kMore) {
        ParseBuffered();  // the tail, if any, now waits in the input buffer
      } else if (step == ParseStep::kWait) {
        CloseIfClientGone();
      }
      UpdateReadInterest();
      return;
    }
    if (got == 0) {
      HandleEvent(BEV_EVENT_EOF | BEV_EVENT_READING);
      UpdateReadInterest();
      return;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      HandleEvent(BEV_EVENT_ERROR | BEV_EVENT_READING);
      return;
    }
    UpdateReadInterest();
    return;
  }
  size_t n = 0;
  switch (ReadIntoBuffer(bufferevent_get_input(bev_.get()), bufferevent_getfd(bev_.get()),
                         kReadChunk, &n)) {
    case IoResult::kOk:
      break;
    case IoResult::kWouldBlock:
      ProcessInput();  // a deferred trigger (pipelined bytes already buffered)
      UpdateReadInterest();
      return;
    case IoResult::kEof:
      HandleEvent(BEV_EVENT_EOF | BEV_EVENT_READING);
      UpdateReadInterest();
      return;
    case IoResult::kError:
      HandleEvent(BEV_EVENT_ERROR | BEV_EVENT_READING);
      return;
  }
  ProcessInput();
  UpdateReadInterest();
}

void ClientConnection::OnDrain() {
  draining_ = true;
  if (request_state_ == RequestState::kIdle && !stream_.active()) CloseAfterFlush();
}

void ClientConnection::ArmTimer(std::chrono::milliseconds timeout) {
  timeval tv = ToTimeval(timeout);
  evtimer_add(timer_.get(), &tv);
}

void ClientConnection::ReadCallback(bufferevent*, void* arg) {
  static_cast<ClientConnection*>(arg)->ProcessInput();
}

void ClientConnection::WriteCallback(bufferevent*, void* arg) {
  auto* self = static_cast<ClientConnection*>(arg);
  if (self->closed_) return;
  if (!self->tls_) {
    // Everything queued went out: back to direct writes.
    self->write_pending_ = false;
    bufferevent_disable(self->bev_.get(), EV_WRITE);
  }
  if (self->output_length() == 0) self->OnOutputDrained();
}

void ClientConnection::EventCallback(bufferevent*, short events, void* arg) {
  static_cast<ClientConnection*>(arg)->HandleEvent(events);
}

void ClientConnection::TimerCallback(evutil_socket_t, short, void* arg) {
  static_cast<ClientConnection*>(arg)->HandleTimeout();
}

void ClientConnection::ProcessInput() {
  if (closed_ || closing_ || in_execute_) return;
  ParseBuffered();
  UpdateReadInterest();  // the parser may have made room below the high watermark
}

bool ClientConnection::CanParse() {
  if (closed_ || closing_) return false;
  if (request_state_ == RequestState::kComplete) return false;  // wait for the response
  if (request_state_ == RequestState::kBody && !stream_.AcceptsBody()) return false;
  return true;
}

void ClientConnection::ParseBuffered() {
  evbuffer* in = bufferevent_get_input(bev_.get());
  while (CanParse()) {
    evbuffer_iovec vec;
    if (evbuffer_peek(in, -1, nullptr, &vec, 1) < 1 || vec.iov_len == 0) break;
    ParseStep step =
        ParsePiece(static_cast<const char*>(vec.iov_base), vec.iov_len, /*direct=*/false);
    if (step == ParseStep::kDone) return;
    if (step == ParseStep::kWait) break;
  }
  CloseIfClientGone();
}

void ClientConnection::CloseIfClientGone() {
  evbuffer* in = bufferevent_get_input(bev_.get());
  if (eof_ && !closed_ && !closing_ && request_state_ != RequestState::kComplete &&
      (!stream_.active() || evbuffer_get_length(in) == 0)) {
    // The client went away between or inside requests; a body that stopped
    // short of its framing can never complete.
    if (stream_.active()) stream_.Abort(0);
    CloseNow();
  }
}

ClientConnection::ParseStep ClientConnection::ParsePiece(const char* data, size_t len,
                                                         bool direct) {
  if (request_state_ == RequestState::kIdle) {
    // First byte of a new request: the absolute header deadline starts.
    const std::shared_ptr<const Snapshot>& current = worker_.snapshot();
    if (!parser_ || snapshot_ != current) {
      snapshot_ = current;
      parser_ = std::make_unique<Http1Parser>(Http1Parser::Kind::kRequest, snapshot_->limits,
                                              static_cast<Http1Parser::Callbacks*>(this));
    }
    request_state_ = RequestState::kHead;
    ArmTimer(snapshot_->config->server.header_timeout);
  }

  RequestState before = request_state_;
  in_execute_ = true;
  size_t consumed = parser_->Execute(data, len);
  in_execute_ = false;
  evbuffer* in = bufferevent_get_input(bev_.get());
  if (!direct) {
    evbuffer_drain(in, consumed);
  } else if (consumed < len && !closed_) {
    // The unparsed tail (a pipelined request, a held body) goes where the
    // buffered path keeps it, before the end of the exchange looks at the
    // input buffer.
    evbuffer_unfreeze(in, 0);
    evbuffer_add(in, data + consumed, len - consumed);
    evbuffer_freeze(in, 0);
  }
  if (closed_) return ParseStep::kDone;
  if (parser_->failed()) {
    worker_.mutable_stats().client_parse_errors.Inc();
    if (stream_.active() && stream_.response_started()) {
      stream_.Abort(parser_->error().status);
      CloseNow();
    } else {
      // Framing is in doubt: answer, then close.
      evtimer_del(timer_.get());
      stream_.FailRequest(parser_->error().status);
    }
    return ParseStep::kDone;
  }
  if (message_complete_) {
    message_complete_ = false;
    request_state_ = RequestState::kComplete;
    evtimer_del(timer_.get());
    stream_.OnRequestComplete();
  }
  if (stream_done_) HandleStreamDone();
  if (consumed == 0 && request_state_ == before) return ParseStep::kWait;  // paused
  return ParseStep::kMore;
}

void ClientConnection::OnRequestHead(RequestHead&& head) {
  version_minor_ = head.version_minor;
  first_request_ = false;
  if (head.framing == BodyFraming::kNone) {
    evtimer_del(timer_.get());
  } else {
    request_state_ = RequestState::kBody;
    ArmTimer(snapshot_->config->server.body_timeout);
  }
  stream_.Begin(std::move(head), snapshot_.get());
}

void ClientConnection::OnBody(const char* data, size_t len) { stream_.OnRequestBody(data, len); }

void ClientConnection::OnMessageComplete() { message_complete_ = true; }

void ClientConnection::OnStreamDone(bool keep_alive) {
  stream_done_ = true;
  stream_keep_alive_ = keep_alive;
  if (!in_execute_) HandleStreamDone();
}

void ClientConnection::HandleStreamDone() {
  stream_done_ = false;
  if (closed_) return;
  bool keep = stream_keep_alive_ && request_state_ == RequestState::kComplete && !draining_ &&
              !eof_ && !closing_;
  if (!keep) {
    CloseAfterFlush();
    return;
  }
  stream_.Recycle();
  parser_->Reset();
  request_state_ = RequestState::kIdle;
  ArmTimer(snapshot_->config->server.keepalive_timeout);
  // Drop the snapshot reference of an idle connection: a reload frees the
  // old snapshot once every exchange on it ended.
  if (snapshot_ != worker_.snapshot()) snapshot_.reset(), parser_.reset();
  evbuffer* in = bufferevent_get_input(bev_.get());
  if (evbuffer_get_length(in) > 0 && !in_execute_) {
    // Pipelined bytes: parse them from a fresh callback, not from inside the
    // previous exchange's call stack.
    if (tls_) {
      bufferevent_trigger(bev_.get(), EV_READ,
                          BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
    } else {
      event_active(read_event_.get(), EV_READ, 0);
    }
  }
}

void ClientConnection::ResumeRequestBody() {
  if (!in_execute_) ProcessInput();
}

void ClientConnection::HandleEvent(short events) {
  if (closed_) return;
  if (events & BEV_EVENT_TIMEOUT) {  // no write progress for send_timeout
    worker_.mutable_stats().client_send_timeouts.Inc();
    if (stream_.active()) stream_.Abort(0);
    CloseNow();
    return;
  }
  if (events & BEV_EVENT_ERROR) {
    if (stream_.active()) stream_.Abort(0);
    CloseNow();
    return;
  }
  if (events & BEV_EVENT_EOF) {
    eof_ = true;
    // Half-close after a complete request: the response is still delivered.
    if (request_state_ == RequestState::kComplete && stream_.active()) return;
    ProcessInput();  // bytes that arrived with the FIN
    if (closed_ || closing_) return;
    if (request_state_ == RequestState::kComplete && stream_.active()) return;
    // The rest of the body is buffered but waits for the origin side
    // (connecting, or backpressure): ParseBuffered() consumes it later and
    // then decides, with eof_ set, whether the request completed.
    if (stream_.active() && request_state_ == RequestState::kBody &&
        evbuffer_get_length(bufferevent_get_input(bev_.get())) > 0) {
      return;
    }
    if (stream_.active()) stream_.Abort(0);
    CloseNow();
  }
}

void ClientConnection::HandleTimeout() {
  if (closed_) return;
  switch (request_state_) {
    case RequestState::kIdle:
      if (!first_request_)
        worker_.mutable_stats().connections_idle_closed.Inc();
      else
        worker_.mutable_stats().client_header_timeouts.Inc();
      CloseNow();
      return;
    case RequestState::kHead:
      worker_.mutable_stats().client_header_timeouts.Inc();
      CloseNow();
      return;
    case RequestState::kBody:
      worker_.mutable_stats().client_body_timeouts.Inc();
      if (stream_.active() && !stream_.response_started()) {
        stream_.FailRequest(408);
      } else {
        if (stream_.active()) stream_.Abort(408);
        CloseNow();
      }
      return;
    case RequestState::kComplete:
      return;
  }
}

void ClientConnection::CloseAfterFlush() {
  if (closed_) return;
  closing_ = true;
  evtimer_del(timer_.get());
  StopReading();
  if (output_length() == 0) {
    CloseNow();
    return;
  }
  // Bound the flush by send_timeout (the bufferevent write timeout).
}

void ClientConnection::CloseNow() {
  if (closed_) return;
  closed_ = true;
  closing_ = true;
  worker_.flush_queue().Cancel(this);
  evtimer_del(timer_.get());
  if (read_event_) event_del(read_event_.get());
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
