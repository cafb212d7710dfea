#include "proxy/upstream_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

namespace tidegate::proxy {
namespace {

ParseLimits ResponseLimits() {
  ParseLimits limits;
  limits.max_header_bytes = 64 * 1024;
  limits.max_headers = 200;
  limits.max_body_bytes = 0;  // responses are streamed, never buffered
  return limits;
}

timeval ToTimeval(std::chrono::milliseconds d) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

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

UpstreamConnection::UpstreamConnection(event_base* base, Graveyard* graveyard, size_t server_index,
                                       uint64_t pool_generation, const UpstreamServer& server)
    : base_(base),
      graveyard_(graveyard),
      server_index_(server_index),
      pool_generation_(pool_generation),
      server_text_(server.text),
      addr_(server.addr),
      addr_len_(server.addr_len),
      timer_(evtimer_new(base, &UpstreamConnection::TimerCallback, this)),
      parser_(Http1Parser::Kind::kResponse, ResponseLimits(), this) {}

UpstreamConnection::~UpstreamConnection() = default;

bool UpstreamConnection::Connect(Duration connect_timeout) {
  connect_timeout_ = connect_timeout;
  bev_.reset(bufferevent_socket_new(base_, -1, BEV_OPT_CLOSE_ON_FREE));
  if (!bev_) return false;
  bufferevent_setcb(bev_.get(), &UpstreamConnection::ReadCallback,
                    &UpstreamConnection::WriteCallback, &UpstreamConnection::EventCallback, this);
  state_ = State::kConnecting;
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
  head_request_ = head_request;
  response_timeout_ = response_timeout;
  read_timeout_ = read_timeout;
  request_queued_ = false;
  response_started_ = false;
  message_complete_ = false;
  interim_response_ = false;
  keep_alive_ = false;
  paused_ = false;
  ++exchanges_;
  parser_.Reset();
  parser_.ExpectNoBody(head_request);
  if (state_ == State::kIdle) {
    evtimer_del(timer_.get());
    state_ = State::kReady;
  }
  if (state_ != State::kConnecting) state_ = State::kAwaitingHead;
  bufferevent_set_timeouts(bev_.get(), nullptr, nullptr);
  bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
}

void UpstreamConnection::RequestQueued() {
  request_queued_ = true;
  if (state_ == State::kAwaitingHead) ArmTimer(response_timeout_);
}

evbuffer* UpstreamConnection::output() { return bufferevent_get_output(bev_.get()); }
size_t UpstreamConnection::output_length() { return evbuffer_get_length(output()); }

void UpstreamConnection::PauseReading() {
  if (paused_ || !bev_) return;
  paused_ = true;
  bufferevent_disable(bev_.get(), EV_READ);
}

void UpstreamConnection::ResumeReading() {
  if (!paused_ || !bev_) return;
  paused_ = false;
  bufferevent_enable(bev_.get(), EV_READ);
  ProcessInput();
}

void UpstreamConnection::EnterIdle(IdleOwner* owner, Duration idle_timeout) {
  handler_ = nullptr;
  idle_owner_ = owner;
  state_ = State::kIdle;
  paused_ = false;
  bufferevent_set_timeouts(bev_.get(), nullptr, nullptr);
  bufferevent_enable(bev_.get(), EV_READ);
  ArmTimer(idle_timeout);
}

void UpstreamConnection::Discard(std::unique_ptr<UpstreamConnection> connection) {
  if (!connection) return;
  connection->Shutdown();
  Graveyard* graveyard = connection->graveyard_;
  graveyard->Bury(std::move(connection));
}

void UpstreamConnection::Shutdown() {
  handler_ = nullptr;
  idle_owner_ = nullptr;
  state_ = State::kClosed;
  evtimer_del(timer_.get());
  // Closing now (not at the sweep) frees the origin's slot at once.
  bev_.reset();
}

bool UpstreamConnection::reusable() const {
  return state_ == State::kDone && keep_alive_ && request_queued_ && bev_ &&
         evbuffer_get_length(bufferevent_get_input(bev_.get())) == 0 &&
         evbuffer_get_length(bufferevent_get_output(bev_.get())) == 0;
}

void UpstreamConnection::ArmTimer(Duration timeout) {
  timeval tv = ToTimeval(timeout);
  evtimer_add(timer_.get(), &tv);
}

void UpstreamConnection::ReadCallback(bufferevent*, void* arg) {
  static_cast<UpstreamConnection*>(arg)->ProcessInput();
}

void UpstreamConnection::WriteCallback(bufferevent*, void* arg) {
  auto* self = static_cast<UpstreamConnection*>(arg);
  if (self->handler_ != nullptr && self->state_ != State::kDone)
    self->handler_->OnUpstreamDrained();
}

void UpstreamConnection::EventCallback(bufferevent*, short events, void* arg) {
  static_cast<UpstreamConnection*>(arg)->HandleEvent(events);
}

void UpstreamConnection::TimerCallback(evutil_socket_t, short, void* arg) {
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
  if (events & BEV_EVENT_CONNECTED) {
    evtimer_del(timer_.get());
    evutil_socket_t fd = bufferevent_getfd(bev_.get());
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    state_ = State::kAwaitingHead;
    if (request_queued_) ArmTimer(response_timeout_);
    return;
  }
  if (events & BEV_EVENT_TIMEOUT) {  // read inactivity while reading the body
    Fail(UpstreamError::kReadTimeout);
    return;
  }
  if (!(events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) return;
  switch (state_) {
    case State::kIdle:
      if (idle_owner_ != nullptr) idle_owner_->OnIdleConnectionLost(this);
      return;
    case State::kConnecting:
      Fail(UpstreamError::kConnectRefused);
      return;
    case State::kAwaitingHead:
    case State::kBody: {
      // Bytes may still wait in the input buffer (data and FIN in one read).
      ProcessInput();
      if (handler_ == nullptr || state_ == State::kDone || state_ == State::kClosed) return;
      if (!response_started_) {
        Fail(UpstreamError::kReset);
        return;
      }
      if ((events & BEV_EVENT_EOF) && parser_.FinishOnEof()) {
        keep_alive_ = false;
        state_ = State::kDone;
        Handler* handler = handler_;
        handler_ = nullptr;
        handler->OnUpstreamComplete();
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
  evtimer_del(timer_.get());
  if (bev_) bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
  if (handler != nullptr) handler->OnUpstreamError(error);
}

void UpstreamConnection::ProcessInput() {
  if (!bev_) return;
  evbuffer* in = bufferevent_get_input(bev_.get());
  if (state_ == State::kIdle) {
    // An idle origin connection must stay silent; anything else is doubt.
    if (evbuffer_get_length(in) > 0 && idle_owner_ != nullptr) {
      idle_owner_->OnIdleConnectionLost(this);
    }
    return;
  }
  while (handler_ != nullptr && !paused_ &&
         (state_ == State::kAwaitingHead || state_ == State::kBody)) {
    evbuffer_iovec vec;
    if (evbuffer_peek(in, -1, nullptr, &vec, 1) < 1 || vec.iov_len == 0) return;
    response_started_ = true;
    size_t consumed = parser_.Execute(static_cast<const char*>(vec.iov_base), vec.iov_len);
    evbuffer_drain(in, consumed);
    if (handler_ == nullptr) return;  // the handler let go during a callback
    if (parser_.failed()) {
      Fail(UpstreamError::kBadResponse);
      return;
    }
    if (message_complete_) {
      message_complete_ = false;
      if (interim_response_) {  // a 1xx: skip it, parse the real response
        interim_response_ = false;
        parser_.Reset();
        parser_.ExpectNoBody(head_request_);
        state_ = State::kAwaitingHead;
        continue;
      }
      state_ = State::kDone;
      evtimer_del(timer_.get());
      bufferevent_set_timeouts(bev_.get(), nullptr, nullptr);
      Handler* handler = handler_;
      handler_ = nullptr;
      handler->OnUpstreamComplete();
      return;
    }
    if (consumed < vec.iov_len) return;  // paused by the codec
  }
}

void UpstreamConnection::OnResponseHead(ResponseHead&& head) {
  if (head.status >= 100 && head.status < 200) {
    interim_response_ = true;
    return;
  }
  evtimer_del(timer_.get());
  state_ = State::kBody;
  keep_alive_ = head.keep_alive;
  timeval tv = ToTimeval(read_timeout_);
  bufferevent_set_timeouts(bev_.get(), &tv, nullptr);
  handler_->OnUpstreamResponseHead(std::move(head));
}

void UpstreamConnection::OnBody(const char* data, size_t len) {
  if (handler_ != nullptr && !interim_response_) handler_->OnUpstreamBody(data, len);
}

void UpstreamConnection::OnMessageComplete() { message_complete_ = true; }

}  // namespace tidegate::proxy
