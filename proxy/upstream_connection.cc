#include "proxy/upstream_connection.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "common/time_source.h"
#include "common/timeval.h"
#include "proxy/socket_io.h"

namespace tidegate::proxy {
namespace {

// One read takes at most this much. Larger reads save syscalls on big pages
// but every connection reading at once would reserve that much.
constexpr size_t kReadChunk = 32 * 1024;

ParseLimits ResponseLimits() {
  ParseLimits limits;
  limits.max_header_bytes = 64 * 1024;
  limits.max_headers = 200;
  limits.max_body_bytes = 0;  // responses are streamed, never buffered
  return limits;
}

using common::ToTimeval;

}  // namespace

std::string_view UpstreamErrorName(UpstreamError error) {
  switch (error) {
    case UpstreamError::kConnectRefused:
      return "connect_refused";
    case UpstreamError::kConnectTimeout:
      return "connect_timeout";
    case UpstreamError::kReset:
      return "reset";
    case UpstreamError::kResponseTimeout:
      return "response_timeout";
    case UpstreamError::kReadTimeout:
      return "read_timeout";
    case UpstreamError::kClosedEarly:
      return "closed_early";
    case UpstreamError::kBadResponse:
      return "bad_response";
  }
  return "unknown";
}

UpstreamConnection::UpstreamConnection(event_base* base, Graveyard* graveyard,
                                       FlushQueue* flush_queue, size_t server_index,
                                       uint64_t pool_generation, const UpstreamServer& server)
    : base_(base),
      graveyard_(graveyard),
      flush_queue_(flush_queue),
      server_index_(server_index),
      pool_generation_(pool_generation),
      server_text_(server.text),
      addr_(server.addr),
      addr_len_(server.addr_len),
      timer_(base, &UpstreamConnection::TimerCallback, this),
      parser_(Http1Parser::Kind::kResponse, ResponseLimits(), this) {}

UpstreamConnection::~UpstreamConnection() {
  flush_queue_->Cancel(this);
  read_event_.reset();  // before the bufferevent closes the socket
}

bool UpstreamConnection::Connect(Duration connect_timeout) {
  connect_timeout_ = connect_timeout;
  opened_at_ = common::CachedMonotonicNow();
  bev_.reset(bufferevent_socket_new(base_, -1, BEV_OPT_CLOSE_ON_FREE));
  if (!bev_) return false;
  bufferevent_setcb(bev_.get(), nullptr, &UpstreamConnection::WriteCallback,
                    &UpstreamConnection::EventCallback, this);
  state_ = State::kConnecting;
  // The bufferevent watches the connect and then writes what was queued.
  io_.write_pending = true;
  if (bufferevent_socket_connect(bev_.get(), reinterpret_cast<sockaddr*>(&addr_),
                                 static_cast<int>(addr_len_)) != 0) {
    return false;
  }
  ArmTimer(connect_timeout);
  return true;
}

void UpstreamConnection::Begin(Handler* handler, bool head_request, Duration response_timeout,
                               Duration read_timeout) {
  handler_ = handler;
  idle_owner_ = nullptr;
  exchange_ = Exchange{};
  exchange_.head_request = head_request;
  response_timeout_ = response_timeout;
  read_timeout_ = read_timeout;
  ++exchanges_;
  parser_.Reset();
  parser_.ExpectNoBody(head_request);
  if (state_ == State::kIdle) timer_.Disarm();
  if (state_ != State::kConnecting) {
    state_ = State::kAwaitingHead;
    paused_ = false;
    ArmRead(false);
  }
}

void UpstreamConnection::RequestQueued() {
  exchange_.request_queued = true;
  if (state_ == State::kAwaitingHead) ArmTimer(response_timeout_);
}

evbuffer* UpstreamConnection::output() {
  flush_queue_->Schedule(this);
  return bufferevent_get_output(bev_.get());
}

void UpstreamConnection::TakeUnsent(evbuffer* into) {
  if (bev_) evbuffer_add_buffer(into, bufferevent_get_output(bev_.get()));
}

size_t UpstreamConnection::output_length() {
  return evbuffer_get_length(bufferevent_get_output(bev_.get()));
}

void UpstreamConnection::Flush() {
  if (!bev_ || state_ == State::kClosed || io_.write_pending) return;
  switch (FlushDirect(bev_.get(), &io_)) {
    case IoResult::kOk:
    case IoResult::kEof:
      if (handler_ != nullptr) handler_->OnUpstreamDrained();
      return;
    case IoResult::kWouldBlock:
      return;  // the socket is full: the bufferevent writes the rest
    case IoResult::kError:
      OnSocketEvent(EV_CLOSED);
      return;
  }
}

void UpstreamConnection::ArmRead(bool with_timeout) {
  if (!read_event_ || paused_) return;
  if (with_timeout) {
    timeval tv = ToTimeval(read_timeout_);
    event_add(read_event_.get(), &tv);
    io_.reading = true;
  } else if (!io_.reading) {
    // Already registered: event_add would change nothing (a NULL timeout
    // never clears a pending one) but still take the base lock.
    event_add(read_event_.get(), nullptr);
    io_.reading = true;
  }
}

void UpstreamConnection::DisarmRead() {
  if (!read_event_) return;
  event_del(read_event_.get());
  io_.reading = false;
}

void UpstreamConnection::PauseReading() {
  if (paused_ || !read_event_) return;
  paused_ = true;
  DisarmRead();
}

void UpstreamConnection::ResumeReading() {
  if (!paused_) return;
  paused_ = false;
  ArmRead(state_ == State::kBody);
  ProcessInput();
}

void UpstreamConnection::EnterIdle(IdleOwner* owner, Duration idle_timeout) {
  in_use_.Reset();
  handler_ = nullptr;
  idle_owner_ = owner;
  state_ = State::kIdle;
  paused_ = false;
  ArmRead(false);  // a close or stray byte from the origin ends the connection
  ArmTimer(idle_timeout);
}

void UpstreamConnection::Discard(std::unique_ptr<UpstreamConnection> connection) {
  if (!connection) return;
  connection->Shutdown();
  Graveyard* graveyard = connection->graveyard_;
  graveyard->Bury(std::move(connection));
}

void UpstreamConnection::Shutdown() {
  in_use_.Reset();
  handler_ = nullptr;
  idle_owner_ = nullptr;
  state_ = State::kClosed;
  flush_queue_->Cancel(this);
  timer_.Disarm();
  DisarmRead();
  if (bev_) {
    bufferevent_setcb(bev_.get(), nullptr, nullptr, nullptr, nullptr);
    bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
    // Close the socket now (the origin's slot is freed at once); the object
    // itself is freed at the graveyard sweep.
    evutil_socket_t fd = bufferevent_getfd(bev_.get());
    if (fd >= 0) shutdown(fd, SHUT_RDWR);
  }
}

bool UpstreamConnection::reusable() const {
  return state_ == State::kDone && exchange_.keep_alive && exchange_.request_queued && !eof_seen_ &&
         bev_ && evbuffer_get_length(bufferevent_get_input(bev_.get())) == 0 &&
         evbuffer_get_length(bufferevent_get_output(bev_.get())) == 0;
}

bool UpstreamConnection::extra_bytes_after_response() const {
  return state_ == State::kDone && bev_ &&
         evbuffer_get_length(bufferevent_get_input(bev_.get())) > 0;
}

void UpstreamConnection::ArmTimer(Duration timeout) { timer_.Arm(timeout); }

void UpstreamConnection::SocketCallback(evutil_socket_t, short what, void* arg) {
  common::ClockCacheScope one_clock_read;  // for every response this read completes
  static_cast<UpstreamConnection*>(arg)->OnSocketEvent(what);
}

void UpstreamConnection::OnSocketEvent(short what) {
  if (state_ == State::kClosed) return;
  if (what & EV_TIMEOUT) {  // read inactivity while reading the body
    if (state_ == State::kBody) Fail(UpstreamError::kReadTimeout);
    return;
  }
  if ((what & EV_CLOSED) == 0) {  // EV_CLOSED here: a failed write
    // The usual case: nothing buffered, so read onto the stack and parse
    // from there. Only what the parser leaves is copied into the input
    // buffer; a whole response costs no buffer allocation.
    char stack[kReadChunk];
    evbuffer* in = bufferevent_get_input(bev_.get());
    bool onto_stack = Parsing() && evbuffer_get_length(in) == 0;
    size_t n = 0;
    switch (ReadForParse(in, bufferevent_getfd(bev_.get()), onto_stack ? stack : nullptr,
                         kReadChunk, &n)) {
      case IoResult::kOk:
        if (!onto_stack || ParsePiece(stack, n, /*from_stack=*/true)) ProcessInput();
        if (state_ == State::kBody && read_event_ && !paused_)
          ArmRead(true);  // restart read_timeout
        return;
      case IoResult::kWouldBlock:
        return;
      case IoResult::kEof:
      case IoResult::kError:
        break;
    }
  }
  eof_seen_ = true;
  DisarmRead();
  HandleEvent(BEV_EVENT_EOF | BEV_EVENT_READING);
}

void UpstreamConnection::WriteCallback(bufferevent*, void* arg) {
  auto* self = static_cast<UpstreamConnection*>(arg);
  // Everything queued went out: back to direct writes.
  EndPendingWrite(self->bev_.get(), &self->io_);
  if (self->handler_ != nullptr && self->state_ != State::kDone)
    self->handler_->OnUpstreamDrained();
}

void UpstreamConnection::EventCallback(bufferevent*, short events, void* arg) {
  static_cast<UpstreamConnection*>(arg)->HandleEvent(events);
}

void UpstreamConnection::TimerCallback(void* arg) {
  auto* self = static_cast<UpstreamConnection*>(arg);
  switch (self->state_) {
    case State::kConnecting:
      self->Fail(UpstreamError::kConnectTimeout);
      break;
    case State::kAwaitingHead:
      self->Fail(UpstreamError::kResponseTimeout);
      break;
    case State::kIdle:
      if (self->idle_owner_ != nullptr) self->idle_owner_->OnIdleConnectionLost(self);
      break;
    default:
      break;
  }
}

void UpstreamConnection::HandleEvent(short events) {
  if (state_ == State::kClosed) return;
  if (events & BEV_EVENT_CONNECTED) {
    timer_.Disarm();
    evutil_socket_t fd = bufferevent_getfd(bev_.get());
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    read_event_.reset(
        event_new(base_, fd, EV_READ | EV_PERSIST, &UpstreamConnection::SocketCallback, this));
    io_.reading = false;
    state_ = State::kAwaitingHead;
    ArmRead(false);
    if (exchange_.request_queued) ArmTimer(response_timeout_);
    if (evbuffer_get_length(bufferevent_get_output(bev_.get())) == 0) {
      // Nothing to write: direct writes from now on.
      EndPendingWrite(bev_.get(), &io_);
    }
    return;
  }
  if (!(events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) return;
  if (events & BEV_EVENT_WRITING) eof_seen_ = true;  // a failed write
  switch (state_) {
    case State::kIdle:
      if (idle_owner_ != nullptr) idle_owner_->OnIdleConnectionLost(this);
      return;
    case State::kConnecting:
      Fail(UpstreamError::kConnectRefused);
      return;
    case State::kAwaitingHead:
    case State::kBody: {
      if (!exchange_.response_started) {
        Fail(UpstreamError::kReset);
        return;
      }
      if (parser_.FinishOnEof()) {
        exchange_.keep_alive = false;
        state_ = State::kDone;
        timer_.Disarm();
        Handler* handler = handler_;
        handler_ = nullptr;
        if (handler != nullptr) handler->OnUpstreamComplete();
        return;
      }
      Fail(parser_.failed() && state_ == State::kAwaitingHead ? UpstreamError::kBadResponse
                                                              : UpstreamError::kClosedEarly);
      return;
    }
    default:
      return;
  }
}

void UpstreamConnection::Fail(UpstreamError error) {
  Handler* handler = handler_;
  state_ = State::kClosed;
  handler_ = nullptr;
  timer_.Disarm();
  DisarmRead();
  if (bev_) bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
  if (handler != nullptr) handler->OnUpstreamError(error);
}

}  // namespace tidegate::proxy
