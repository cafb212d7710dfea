// UpstreamConnection, parsing side: feeding response bytes to the parser
// (from the stack or the input buffer, see proxy/socket_io.h) and the
// parser's callbacks. Connect, socket I/O, deadlines and errors are in
// upstream_connection.cc.
#include <event2/buffer.h>

#include <string_view>

#include "proxy/socket_io.h"
#include "proxy/upstream_connection.h"

namespace tidegate::proxy {

void UpstreamConnection::ProcessInput() {
  if (!bev_) return;
  evbuffer* in = bufferevent_get_input(bev_.get());
  if (state_ == State::kIdle) {
    // An idle origin connection must stay silent; anything else is doubt.
    // A "408 Request Timeout" is some servers' goodbye to an idle
    // connection, not a response out of step.
    if (evbuffer_get_length(in) > 0 && idle_owner_ != nullptr) {
      char start[12];
      ev_ssize_t n = evbuffer_copyout(in, start, sizeof start);
      bool goodbye = n == static_cast<ev_ssize_t>(sizeof start) &&
                     (std::string_view(start, sizeof start) == "HTTP/1.1 408" ||
                      std::string_view(start, sizeof start) == "HTTP/1.0 408");
      if (goodbye) {
        idle_owner_->OnIdleConnectionLost(this);
      } else {
        idle_owner_->OnIdleStrayBytes(this);
      }
    }
    return;
  }
  const char* data;
  size_t len;
  while (Parsing() && FirstPiece(in, &data, &len)) {
    if (!ParsePiece(data, len, /*from_stack=*/false)) return;
  }
}

bool UpstreamConnection::ParsePiece(const char* data, size_t len, bool from_stack) {
  exchange_.response_started = true;
  // From the stack, the input buffer was empty; from the buffer, the piece
  // is its first chain: it ends the read when it is the whole buffer.
  bool ends_read =
      from_stack || (bev_ && evbuffer_get_length(bufferevent_get_input(bev_.get())) == len);
  read_end_ = ends_read ? data + len : nullptr;
  size_t consumed = parser_.Execute(data, len);
  read_end_ = nullptr;
  // Whatever the parser left (a paused body, bytes after the response) goes
  // where the buffered path keeps it, before anyone looks: a response
  // followed by extra bytes must leave the connection non-reusable.
  if (bev_) SettleParsed(bufferevent_get_input(bev_.get()), data, len, consumed, from_stack);
  if (handler_ == nullptr) return false;  // the handler let go during a callback
  if (parser_.failed()) {
    Fail(UpstreamError::kBadResponse);
    return false;
  }
  if (exchange_.message_complete) {
    exchange_.message_complete = false;
    return AfterMessage();
  }
  return consumed == len;  // less: paused by the codec
}

bool UpstreamConnection::AfterMessage() {
  if (exchange_.interim_response) {  // a 1xx: skip it, parse the real response
    exchange_.interim_response = false;
    parser_.Reset();
    parser_.ExpectNoBody(exchange_.head_request);
    state_ = State::kAwaitingHead;
    return true;
  }
  state_ = State::kDone;
  timer_.Disarm();
  // Keep watching the socket (a close or stray byte while pooled), also
  // when the client side had paused reading.
  if (read_event_ && !io_.reading) {
    event_add(read_event_.get(), nullptr);
    io_.reading = true;
  }
  Handler* handler = handler_;
  handler_ = nullptr;
  handler->OnUpstreamComplete();
  return false;
}

void UpstreamConnection::OnResponseHead(ResponseHead&& head) {
  if (head.status >= 100 && head.status < 200) {
    exchange_.interim_response = true;
    return;
  }
  timer_.Disarm();
  state_ = State::kBody;
  exchange_.keep_alive = head.keep_alive;
  // read_timeout is armed by OnSocketEvent once this read is parsed (a
  // response that completes in this read never needs it).
  handler_->OnUpstreamResponseHead(std::move(head));
}

void UpstreamConnection::OnEarlyHints(const ResponseHead& head) {
  if (handler_ != nullptr) handler_->OnUpstreamEarlyHints(head);
}

void UpstreamConnection::OnBody(const char* data, size_t len) {
  if (handler_ != nullptr && !exchange_.interim_response) handler_->OnUpstreamBody(data, len);
}

void UpstreamConnection::OnMessageComplete() { exchange_.message_complete = true; }

}  // namespace tidegate::proxy
