// Stream, request side: forwarding the request to the origin once the
// filters let it through (head, held body, streamed body, 100-continue) and
// the origin-side backpressure. Filters, local replies and the end of the
// exchange are in stream.cc; the response relay is in stream_response.cc.
#include <string_view>

#include "common/time_source.h"
#include "proxy/body_framing.h"
#include "proxy/client_connection.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

namespace tidegate::proxy {

bool Stream::BeginUpstream(bool allow_pooled) {
  upstream_ = worker_.pool().Acquire(allow_pooled, &server_index_);
  if (!upstream_) {
    worker_.mutable_stats().origin_connect_refused.Inc();
    worker_.pool().ReportFailure(server_index_);
    ReportUpstreamOutcome(UpstreamOutcome::Kind::kConnectFailure, 0);
    SendProxyError(502);
    return false;
  }
  upstream_start_ = request_sent_ = common::CachedMonotonicNow();
  const config::UpstreamConfig& upstream = snapshot_->config->upstream;
  upstream_->Begin(this, std::string_view(request_.method) == "HEAD", upstream.response_timeout,
                   upstream.read_timeout);
  return true;
}

void Stream::StartUpstream(bool allow_pooled) {
  phase_ = Phase::kUpstream;
  if (!BeginUpstream(allow_pooled)) return;
  WriteRequestHead();
  if (held_body_ && evbuffer_get_length(held_body_.get()) > 0) {
    // Bytes read while the filters held the request go first, unchanged.
    evbuffer* out = upstream_->output();
    MoveBody(out, held_body_.get(), request_chunked());
    if (evbuffer_get_length(out) > kMaxBuffered) req_.upstream_blocked = true;
  }
  if (req_.complete) {
    QueueRequestEnd();
  } else {
    SendContinueIfExpected();  // only now do we know the body will be read
  }
}

void Stream::ResendUpstream(evbuffer* unsent) {
  if (!BeginUpstream(/*allow_pooled=*/true)) return;
  evbuffer* out = upstream_->output();
  evbuffer_add_buffer(out, unsent);
  if (evbuffer_get_length(out) > kMaxBuffered) req_.upstream_blocked = true;
  // The request's end was queued to the connection that failed (its last
  // chunk is among the bytes): only the deadline starts again.
  if (req_.complete) upstream_->RequestQueued();
}

void Stream::QueueRequestEnd() {
  if (request_chunked()) AddLastChunk(upstream_->output());
  request_sent_ = common::CachedMonotonicNow();
  // Before RequestQueued(): its write may end the exchange.
  for (const auto& filter : filters_) filter->OnRequestSent();
  upstream_->RequestQueued();
}

void Stream::SendContinueIfExpected() {
  if (!request_.expect_continue || request_.version_minor != 1 || req_.continue_sent ||
      req_.complete || request_.framing == BodyFraming::kNone) {
    return;
  }
  AddContinue(connection_.output());
  req_.continue_sent = true;
}

void Stream::WriteRequestHead() {
  std::string& scratch = worker_.scratch();
  scratch.clear();
  SerializeRequestHead(request_, scratch);
  evbuffer_add(upstream_->output(), scratch.data(), scratch.size());
}

void Stream::OnRequestBody(const char* data, size_t len) {
  request_bytes_ += len;
  if (phase_ == Phase::kHeld || phase_ == Phase::kFilters) {
    // The filters hold the request: keep the bytes for the origin. Bounded:
    // unless a filter is buffering (up to its limit), AcceptsBody() is false
    // and the connection stops parsing after the current read.
    if (!held_body_) held_body_.reset(evbuffer_new());
    evbuffer_add(held_body_.get(), data, len);
    if (buffering() && evbuffer_get_length(held_body_.get()) >= buffer_limit_) DeliverHeldBody();
    return;
  }
  if (phase_ != Phase::kUpstream || !upstream_) return;  // answered already: discard
  evbuffer* out = upstream_->output();
  AddBody(out, data, len, request_chunked());
  request_sent_ = common::CachedMonotonicNow();
  if (evbuffer_get_length(out) > kMaxBuffered) req_.upstream_blocked = true;
}

void Stream::OnRequestComplete() {
  if (req_.complete) return;
  req_.complete = true;
  if (buffering()) {
    DeliverHeldBody();  // the whole body is held
    return;
  }
  if (phase_ != Phase::kUpstream || !upstream_) return;
  QueueRequestEnd();
}

void Stream::OnUpstreamDrained() {
  if (!req_.upstream_blocked) return;
  req_.upstream_blocked = false;
  connection_.ResumeRequestBody();
}

}  // namespace tidegate::proxy
