// ClientConnection, parsing side: feeding request bytes to the parser (from
// the stack or the input buffer, see proxy/socket_io.h), the request
// deadlines, and what follows the end of an exchange (keep-alive, pipelined
// bytes). Socket I/O, events and closing are in client_connection.cc.
#include "proxy/client_connection.h"
#include "proxy/socket_io.h"
#include "proxy/worker.h"

namespace tidegate::proxy {

void ClientConnection::ReadCallback(bufferevent*, void* arg) {
  static_cast<ClientConnection*>(arg)->ProcessInput();
}

void ClientConnection::ProcessInput() {
  if (closing() || in_execute_) return;
  ParseBuffered();
  UpdateReadInterest();  // the parser may have made room below the high watermark
}

bool ClientConnection::CanParse() {
  if (closing()) return false;
  if (request_state_ == RequestState::kComplete) return false;  // wait for the response
  if (request_state_ == RequestState::kBody && !stream().AcceptsBody()) return false;
  return true;
}

void ClientConnection::ParseBuffered() {
  const char* data;
  size_t len;
  while (CanParse() && FirstPiece(input(), &data, &len)) {
    ParseStep step = ParsePiece(data, len, /*from_stack=*/false);
    if (step == ParseStep::kDone) return;
    if (step == ParseStep::kWait) break;
  }
  CloseIfClientGone();
}

void ClientConnection::CloseIfClientGone() {
  if (eof_ && !closing() && request_state_ != RequestState::kComplete &&
      (!stream_active() || input_length() == 0)) {
    CloseAfterEof();
  }
}

void ClientConnection::CloseAfterEof() {
  if (stream_active()) {
    // A body that stopped short of its framing can never complete.
    stream().Abort(0);
    CloseNow();
    return;
  }
  // Between requests, or a partial request head at the FIN (dropped, no
  // answer): the responses already queued still go out.
  CloseAfterFlush();
}

ClientConnection::ParseStep ClientConnection::ParsePiece(const char* data, size_t len,
                                                         bool from_stack) {
  if (between_requests()) StartRequest();
  RequestState before = request_state_;
  in_execute_ = true;
  size_t consumed = parser_->Execute(data, len);
  in_execute_ = false;
  // The unparsed tail (a pipelined request, a held body) goes where the
  // buffered path keeps it, before the end of the exchange looks at the
  // input buffer.
  if (!from_stack || !closed()) SettleParsed(input(), data, len, consumed, from_stack);
  return AfterParse(consumed, before);
}

void ClientConnection::StartRequest() {
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

ClientConnection::ParseStep ClientConnection::AfterParse(size_t consumed, RequestState before) {
  if (closed()) return ParseStep::kDone;
  if (parser_->failed()) {
    worker_.mutable_stats().client_parse_errors.Inc();
    if (discarding_ || stream_end_ != StreamEnd::kNone) {
      // The answer is out or queued (discarding the body of an answered
      // request, or a gate answered inside this very Execute, before the
      // bad body bytes): no second one, just close once it is flushed.
      discarding_ = false;
      stream_end_ = StreamEnd::kNone;
      CloseAfterFlush();
    } else if (stream_active() && stream().response_started()) {
      stream().Abort(parser_->error().status);
      CloseNow();
    } else {
      // Framing is in doubt: answer, then close.
      timer_.Disarm();
      stream().FailRequest(parser_->error().status);
    }
    return ParseStep::kDone;
  }
  if (discarding_ && discarded_ > Stream::kMaxDiscardBytes) {
    discarding_ = false;
    CloseAfterFlush();
    return ParseStep::kDone;
  }
  if (message_complete_) {
    message_complete_ = false;
    request_state_ = RequestState::kComplete;
    timer_.Disarm();
    if (discarding_) {
      // The answered request's body is gone: on to the next request.
      discarding_ = false;
      stream_end_ = StreamEnd::kKeepAlive;
    } else {
      stream().OnRequestComplete();
    }
  }
  if (stream_end_ != StreamEnd::kNone) HandleStreamDone();
  if (consumed == 0 && request_state_ == before) return ParseStep::kWait;  // paused
  return ParseStep::kMore;
}

void ClientConnection::OnRequestHead(RequestHead&& head) {
  version_minor_ = head.version_minor;
  if (head.framing == BodyFraming::kNone) {
    timer_.Disarm();
  } else {
    request_state_ = RequestState::kBody;
    ArmTimer(snapshot_->config->server.body_timeout);
  }
  stream().Begin(std::move(head), snapshot_.get());
}

void ClientConnection::OnBody(const char* data, size_t len) {
  if (discarding_) {
    discarded_ += len;
    return;
  }
  // A body that keeps coming at [server].body_min_rate or faster is not cut
  // by body_timeout (a photo uploaded from a phone's weak uplink); one that
  // drips is (each byte buys 1/min_rate s); one that stops is cut at most
  // body_timeout after its last bytes, however many came before (16 MB sent
  // fast and then nothing must not hold an origin connection for 35 minutes).
  const config::ServerConfig& server = snapshot_->config->server;
  if (uint64_t rate = server.body_min_rate; rate > 0) {
    timer_.Extend(std::chrono::nanoseconds(static_cast<int64_t>(len * 1'000'000'000 / rate)),
                  server.body_timeout);
  }
  stream().OnRequestBody(data, len);
}

void ClientConnection::OnMessageComplete() { message_complete_ = true; }

void ClientConnection::OnStreamDone(bool keep_alive) {
  stream_end_ = keep_alive ? StreamEnd::kKeepAlive : StreamEnd::kClose;
  if (!in_execute_) HandleStreamDone();
}

void ClientConnection::HandleStreamDone() {
  bool keep_alive = stream_end_ == StreamEnd::kKeepAlive;
  stream_end_ = StreamEnd::kNone;
  if (closed()) return;
  // After a half-close, requests already buffered (pipelined before the FIN)
  // are still answered; the connection closes once none is left.
  bool body_unread = request_state_ == RequestState::kBody;
  bool keep = keep_alive && (request_state_ == RequestState::kComplete || body_unread) &&
              !draining_ && !client_done() && !closing();
  if (!keep) {
    CloseAfterFlush();
    return;
  }
  if (body_unread) {
    StartDiscardingBody();
    return;
  }
  stream().Recycle();
  parser_->Reset();
  request_state_ = RequestState::kIdle;
  ArmTimer(snapshot_->config->server.keepalive_timeout);
  // Idle compaction follows the flush (Flush → MaybeCompact), also when the
  // response's last bytes were queued earlier; a response written whole
  // (WriteNow) needs no flush unless the worker compacts.
  if (output_length() > 0 || worker_.connection_count() > Worker::kCompactIdleAbove) {
    worker_.flush_queue().Schedule(this);
  }
  // Drop the snapshot reference of an idle connection: a reload frees the
  // old snapshot once every exchange on it ended.
  if (snapshot_ != worker_.snapshot()) snapshot_.reset(), parser_.reset();
  // Pipelined bytes: parse them from a fresh callback.
  if (input_length() > 0 && !in_execute_) ParseLater();
}

void ClientConnection::StartDiscardingBody() {
  discarding_ = true;
  discarded_ = 0;
  ArmTimer(std::min<std::chrono::milliseconds>(Stream::kDiscardTimeout,
                                               snapshot_->config->server.body_timeout));
  // Body bytes may wait in the input buffer (the filters held the request),
  // and reading may be paused: resume from a fresh callback.
  if (!in_execute_) ParseLater();
}

void ClientConnection::ParseLater() {
  if (tls_) {
    bufferevent_trigger(bev_.get(), EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
  } else {
    event_active(read_event_.get(), EV_READ, 0);
  }
}

void ClientConnection::ResumeRequestBody() {
  if (!in_execute_) ProcessInput();
}

}  // namespace tidegate::proxy
