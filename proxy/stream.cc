#include "proxy/stream.h"

#include "proxy/client_connection.h"
#include "proxy/error_pages.h"
#include "proxy/forwarding_headers.h"
#include "proxy/worker.h"

namespace tidegate::proxy {

Stream::Stream(ClientConnection& connection, Worker& worker)
    : connection_(connection), worker_(worker) {}

Stream::~Stream() {
  // An exchange still running (the worker stops, the connection is freed
  // without Abort): its filters still get OnDestroy before they go.
  if (phase_ != Phase::kIdle) EndFilters();
  UpstreamConnection::Discard(std::move(upstream_));
}

const WorkerContext& Stream::worker() const { return worker_.context(); }

bool Stream::AcceptsBody() const {
  if (buffering_) return true;  // a filter waits for the body's first bytes
  return phase_ != Phase::kHeld && phase_ != Phase::kFilters && !upstream_blocked_;
}

void Stream::Begin(RequestHead&& head, const Snapshot* snapshot) {
  filters_.clear();  // the previous exchange's filters (nothing of theirs is on the stack now)
  phase_ = Phase::kFilters;
  snapshot_ = snapshot;
  request_ = std::move(head);
  response_ = ResponseHead{};
  start_wall_ = std::chrono::system_clock::now();
  start_ = std::chrono::steady_clock::now();
  upstream_start_ = upstream_end_ = start_;
  info_.client_ip = connection_.client_ip();
  info_.tls = connection_.tls();
  retried_ = request_complete_ = request_body_started_ = upstream_blocked_ = false;
  continue_sent_ = response_head_sent_ = keep_alive_ = body_filters_ = false;
  out_framing_ = OutFraming::kNone;
  status_ = 0;
  answered_by_ = Answerer::kProxy;
  request_bytes_ = response_bytes_ = 0;
  buffering_ = false;
  on_body_ready_ = nullptr;
  if (held_body_) evbuffer_drain(held_body_.get(), evbuffer_get_length(held_body_.get()));
  for (const auto& factory : snapshot_->filters.factories) {
    std::unique_ptr<StreamFilter> filter = factory->CreateFilter(*this);
    if (filter) filters_.push_back(std::move(filter));
  }
  next_filter_ = 0;
  RunRequestFilters();
}

void Stream::RunRequestFilters() {
  while (next_filter_ < filters_.size()) {
    StreamFilter* filter = filters_[next_filter_++].get();
    FilterStatus status = filter->OnRequestHeaders(request_);
    if (phase_ != Phase::kFilters) return;  // answered locally
    if (status == FilterStatus::kStop) {
      phase_ = Phase::kHeld;  // an asynchronous gate resumes us later
      // Enough body may already be held (bytes read while an earlier filter
      // held the request).
      if (buffering_ && held_body_ &&
          (request_complete_ || evbuffer_get_length(held_body_.get()) >= buffer_limit_)) {
        DeliverHeldBody();
      }
      return;
    }
  }
  PrepareUpstreamRequest(request_, ForwardingInfo{info_.client_ip, info_.tls});
  StartUpstream(/*allow_pooled=*/true);
}

void Stream::ContinueRequest() {
  if (phase_ != Phase::kHeld) return;
  phase_ = Phase::kFilters;
  RunRequestFilters();
  if (phase_ == Phase::kUpstream) connection_.ResumeRequestBody();
}

bool Stream::BufferRequestBody(size_t max_bytes,
                               std::function<void(const evbuffer*, bool)> on_ready) {
  if (phase_ != Phase::kFilters || request_.framing == BodyFraming::kNone || buffering_ ||
      !on_ready) {
    return false;
  }
  if (!held_body_) held_body_.reset(evbuffer_new());
  buffering_ = true;
  buffer_limit_ = max_bytes;
  on_body_ready_ = std::move(on_ready);
  if (request_.expect_continue && request_.version_minor == 1 && !continue_sent_ &&
      !request_complete_) {
    // The body will be read now.
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    evbuffer_add(connection_.output(), kContinue, sizeof(kContinue) - 1);
    continue_sent_ = true;
  }
  return true;
}

void Stream::DeliverHeldBody() {
  buffering_ = false;
  std::function<void(const evbuffer*, bool)> on_ready = std::move(on_body_ready_);
  on_body_ready_ = nullptr;
  // May answer or continue the request from inside.
  on_ready(held_body_.get(), request_complete_);
}

void Stream::SendLocalReply(int status, HeaderList headers, std::string body,
                            Answerer answered_by) {
  if (phase_ != Phase::kFilters && phase_ != Phase::kHeld) return;
  answered_by_ = answered_by;
  WriteLocalResponse(status, headers, body, /*force_close=*/false);
  Finish(keep_alive_);
}

void Stream::StartUpstream(bool allow_pooled) {
  phase_ = Phase::kUpstream;
  upstream_ = worker_.pool().Acquire(allow_pooled, &server_index_);
  if (!upstream_) {
    worker_.mutable_stats().origin_connect_refused.Inc();
    worker_.pool().ReportFailure(server_index_);
    SendProxyError(502);
    return;
  }
  upstream_start_ = std::chrono::steady_clock::now();
  const config::UpstreamConfig& upstream = snapshot_->config->upstream;
  upstream_->Begin(this, request_.method == "HEAD", upstream.response_timeout,
                   upstream.read_timeout);
  WriteRequestHead();
  if (held_body_ && evbuffer_get_length(held_body_.get()) > 0) {
    // Bytes read while the filters held the request go first, unchanged.
    evbuffer* out = upstream_->output();
    size_t held = evbuffer_get_length(held_body_.get());
    if (request_.framing == BodyFraming::kChunked) evbuffer_add_printf(out, "%zx\r\n", held);
    evbuffer_add_buffer(out, held_body_.get());
    if (request_.framing == BodyFraming::kChunked) evbuffer_add(out, "\r\n", 2);
    request_body_started_ = true;
    if (evbuffer_get_length(out) > kMaxBuffered) upstream_blocked_ = true;
  }
  if (request_complete_) {
    if (request_.framing == BodyFraming::kChunked)
      evbuffer_add(upstream_->output(), "0\r\n\r\n", 5);
    upstream_->RequestQueued();
  } else if (request_.expect_continue && request_.version_minor == 1 && !continue_sent_ &&
             request_.framing != BodyFraming::kNone) {
    // Only now do we know the body will be read.
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    evbuffer_add(connection_.output(), kContinue, sizeof(kContinue) - 1);
    continue_sent_ = true;
  }
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
    if (buffering_ && evbuffer_get_length(held_body_.get()) >= buffer_limit_) DeliverHeldBody();
    return;
  }
  if (phase_ != Phase::kUpstream || !upstream_) return;  // answered already: discard
  evbuffer* out = upstream_->output();
  if (request_.framing == BodyFraming::kChunked) {
    evbuffer_add_printf(out, "%zx\r\n", len);
    evbuffer_add(out, data, len);
    evbuffer_add(out, "\r\n", 2);
  } else {
    evbuffer_add(out, data, len);
  }
  request_body_started_ = true;
  if (evbuffer_get_length(out) > kMaxBuffered) upstream_blocked_ = true;
}

void Stream::OnRequestComplete() {
  if (request_complete_) return;
  request_complete_ = true;
  if (buffering_) {
    DeliverHeldBody();  // the whole body is held
    return;
  }
  if (phase_ != Phase::kUpstream || !upstream_) return;
  if (request_.framing == BodyFraming::kChunked) evbuffer_add(upstream_->output(), "0\r\n\r\n", 5);
  upstream_->RequestQueued();
}

void Stream::OnUpstreamDrained() {
  if (!upstream_blocked_) return;
  upstream_blocked_ = false;
  connection_.ResumeRequestBody();
}

void Stream::OnClientDrained() {
  if (phase_ == Phase::kUpstream && upstream_) upstream_->ResumeReading();
}

bool Stream::ClientWantsKeepAlive() const {
  return request_.keep_alive && !worker_.draining() && !connection_.client_eof();
}

void Stream::OnUpstreamResponseHead(ResponseHead&& head) {
  response_ = std::move(head);
  for (size_t i = filters_.size(); i-- > 0;) {
    filters_[i]->OnResponseHeaders(response_);
    body_filters_ = body_filters_ || filters_[i]->WantsResponseBody();
  }
  PrepareClientResponse(response_);
  HeaderList& headers = response_.headers;
  if (response_.framing == BodyFraming::kNone || request_.method == "HEAD") {
    out_framing_ = OutFraming::kNone;
  } else if (response_.framing == BodyFraming::kContentLength) {
    out_framing_ = OutFraming::kLength;
    headers.Add("Content-Length", std::to_string(response_.content_length));
  } else if (request_.version_minor >= 1) {
    out_framing_ = OutFraming::kChunked;
    headers.Add("Transfer-Encoding", "chunked");
  } else {
    out_framing_ = OutFraming::kUntilClose;  // HTTP/1.0 client: de-chunked, close-delimited
  }
  keep_alive_ = ClientWantsKeepAlive() && out_framing_ != OutFraming::kUntilClose;
  if (!keep_alive_) {
    headers.Set("Connection", "close");
  } else if (request_.version_minor == 0) {
    headers.Set("Connection", "keep-alive");
  }
  std::string& scratch = worker_.scratch();
  scratch.clear();
  SerializeResponseHead(response_, scratch);
  evbuffer* out = connection_.output();
  if (out_framing_ == OutFraming::kLength && !body_filters_ &&
      response_.content_length <= kCoalescedBodyMax) {
    // Room for the head and the whole (small) body in one chain: one
    // allocation instead of two, and one iovec for the write.
    evbuffer_expand(out, scratch.size() + response_.content_length);
  }
  evbuffer_add(out, scratch.data(), scratch.size());
  response_head_sent_ = true;
  status_ = response_.status;
  answered_by_ = Answerer::kOrigin;
  if (body_filters_ && !body_scratch_) body_scratch_.reset(evbuffer_new());
}

void Stream::WriteResponseBody(evbuffer* body) {
  size_t len = evbuffer_get_length(body);
  if (len == 0) return;
  evbuffer* out = connection_.output();
  response_bytes_ += len;
  if (out_framing_ == OutFraming::kChunked) {
    evbuffer_add_printf(out, "%zx\r\n", len);
    evbuffer_add_buffer(out, body);
    evbuffer_add(out, "\r\n", 2);
  } else {
    evbuffer_add_buffer(out, body);
  }
}

void Stream::OnUpstreamBody(const char* data, size_t len) {
  if (out_framing_ == OutFraming::kNone) return;
  if (body_filters_) {
    evbuffer_add(body_scratch_.get(), data, len);
    for (size_t i = filters_.size(); i-- > 0;) {
      if (filters_[i]->WantsResponseBody()) filters_[i]->OnResponseBody(body_scratch_.get(), false);
    }
    WriteResponseBody(body_scratch_.get());
  } else {
    evbuffer* out = connection_.output();
    response_bytes_ += len;
    if (out_framing_ == OutFraming::kChunked) {
      evbuffer_add_printf(out, "%zx\r\n", len);
      evbuffer_add(out, data, len);
      evbuffer_add(out, "\r\n", 2);
    } else {
      evbuffer_add(out, data, len);
    }
  }
  // Backpressure: a slow client pauses the origin.
  if (connection_.output_length() > kMaxBuffered) upstream_->PauseReading();
}

void Stream::OnUpstreamComplete() {
  upstream_end_ = std::chrono::steady_clock::now();
  if (body_filters_ && out_framing_ != OutFraming::kNone) {
    for (size_t i = filters_.size(); i-- > 0;) {
      if (filters_[i]->WantsResponseBody()) filters_[i]->OnResponseBody(body_scratch_.get(), true);
    }
    WriteResponseBody(body_scratch_.get());
  }
  if (out_framing_ == OutFraming::kChunked) evbuffer_add(connection_.output(), "0\r\n\r\n", 5);
  worker_.pool().ReportSuccess(server_index_);
  if (request_complete_) {
    worker_.pool().Release(std::move(upstream_));
  } else {
    // The origin answered before the whole body was sent: that connection
    // is mid-request, never reuse it.
    UpstreamConnection::Discard(std::move(upstream_));
  }
  Finish(keep_alive_);
}

void Stream::OnUpstreamError(UpstreamError error) {
  upstream_end_ = std::chrono::steady_clock::now();
  WorkerStats& stats = worker_.mutable_stats();
  switch (error) {
    case UpstreamError::kConnectRefused:
      stats.origin_connect_refused.Inc();
      break;
    case UpstreamError::kConnectTimeout:
      stats.origin_connect_timeout.Inc();
      break;
    case UpstreamError::kReset:
      stats.origin_reset.Inc();
      break;
    case UpstreamError::kResponseTimeout:
      stats.origin_response_timeout.Inc();
      break;
    case UpstreamError::kReadTimeout:
      stats.origin_read_timeout.Inc();
      break;
    case UpstreamError::kClosedEarly:
      stats.origin_closed_early.Inc();
      break;
    case UpstreamError::kBadResponse:
      stats.origin_bad_response.Inc();
      break;
  }
  bool reused = upstream_->reused();
  bool started = upstream_->response_started();
  bool stale = reused && !started && error == UpstreamError::kReset;
  if (worker_.error_log().Enabled(LogLevel::kWarn)) {
    std::string key = "upstream.";
    key += UpstreamErrorName(error);
    std::string message = upstream_->server_text();
    message += stale ? ": pooled connection was closed by the origin" : ": request failed";
    worker_.error_log().Write(stale ? LogLevel::kDebug : LogLevel::kWarn, key, message);
  }
  // A stale pooled connection says nothing about the server's health.
  if (!stale && error != UpstreamError::kBadResponse) worker_.pool().ReportFailure(server_index_);
  UpstreamConnection::Discard(std::move(upstream_));

  if (stale && !retried_ && !response_head_sent_ && IsIdempotentMethod(request_.method) &&
      request_.framing == BodyFraming::kNone) {
    retried_ = true;
    stats.origin_retries.Inc();
    StartUpstream(/*allow_pooled=*/false);
    return;
  }
  if (!response_head_sent_) {
    bool timeout =
        error == UpstreamError::kConnectTimeout || error == UpstreamError::kResponseTimeout;
    SendProxyError(timeout ? 504 : 502);
    return;
  }
  // Part of the response is out: the client must see a truncated message,
  // never one completed by us.
  Abort(0);
  connection_.CloseNow();
}

void Stream::SendProxyError(int status) {
  answered_by_ = Answerer::kProxy;
  ErrorPage page = MakeErrorPage(status, WantsJson(request_.headers.Find("Accept")));
  HeaderList headers;
  headers.Add("Content-Type", std::move(page.content_type));
  headers.Add("Cache-Control", "no-store");
  WriteLocalResponse(status, headers, page.body, /*force_close=*/false);
  Finish(keep_alive_);
}

void Stream::FailRequest(int status) {
  if (phase_ == Phase::kIdle) {
    // A request that never got a valid head: log what we have. Filters
    // left from a previous exchange already had OnDestroy: drop them so
    // this exchange's end does not call it twice.
    filters_.clear();
    request_ = RequestHead{};
    request_.method = "-";
    response_ = ResponseHead{};
    start_wall_ = std::chrono::system_clock::now();
    start_ = upstream_start_ = upstream_end_ = std::chrono::steady_clock::now();
    info_.client_ip = connection_.client_ip();
    info_.tls = connection_.tls();
    request_bytes_ = response_bytes_ = 0;
  }
  phase_ = Phase::kFilters;  // any state that may answer
  UpstreamConnection::Discard(std::move(upstream_));
  answered_by_ = Answerer::kProxy;
  ErrorPage page = MakeErrorPage(status, WantsJson(request_.headers.Find("Accept")));
  HeaderList headers;
  headers.Add("Content-Type", std::move(page.content_type));
  headers.Add("Cache-Control", "no-store");
  WriteLocalResponse(status, headers, page.body, /*force_close=*/true);
  Finish(false);
}

void Stream::WriteLocalResponse(int status, HeaderList& headers, const std::string& body,
                                bool force_close) {
  response_ = ResponseHead{};
  response_.status = status;
  response_.reason = std::string(ReasonPhrase(status));
  response_.headers = std::move(headers);
  // An unread request body cannot be skipped safely: close after answering.
  keep_alive_ = !force_close && ClientWantsKeepAlive() &&
                (request_complete_ || request_.framing == BodyFraming::kNone);
  response_.headers.Set("Content-Length", std::to_string(body.size()));
  if (!keep_alive_) {
    response_.headers.Set("Connection", "close");
  } else if (request_.version_minor == 0) {
    response_.headers.Set("Connection", "keep-alive");
  }
  std::string& scratch = worker_.scratch();
  scratch.clear();
  SerializeResponseHead(response_, scratch);
  evbuffer* out = connection_.output();
  evbuffer_add(out, scratch.data(), scratch.size());
  if (request_.method != "HEAD") {
    evbuffer_add(out, body.data(), body.size());
    response_bytes_ += body.size();
  }
  response_head_sent_ = true;
  status_ = status;
}

void Stream::Finish(bool keep_alive) {
  LogExchange();
  Reset();
  connection_.OnStreamDone(keep_alive);
}

void Stream::Abort(int status_if_unanswered) {
  if (phase_ == Phase::kIdle) return;
  UpstreamConnection::Discard(std::move(upstream_));
  if (!response_head_sent_) status_ = status_if_unanswered != 0 ? status_if_unanswered : 499;
  LogExchange();
  Reset();
}

void Stream::Reset() {
  EndFilters();  // the exchange ends here (Finish or Abort), once
  phase_ = Phase::kIdle;
  upstream_blocked_ = false;
  buffering_ = false;
  on_body_ready_ = nullptr;  // may hold a filter's state; filters go at Recycle()
  snapshot_ = nullptr;
}

void Stream::EndFilters() {
  for (const std::unique_ptr<StreamFilter>& filter : filters_) filter->OnDestroy();
}

void Stream::Recycle() {
  filters_.clear();
  request_ = RequestHead{};
  response_ = ResponseHead{};
  body_scratch_.reset();
  held_body_.reset();
}

void Stream::LogExchange() {
  WorkerStats& stats = worker_.mutable_stats();
  int status_class = status_ / 100;
  stats.responses_by_class[status_class >= 1 && status_class <= 5 ? status_class : 0].Inc();
  stats.answered_by(answered_by_).Inc();
  auto now = std::chrono::steady_clock::now();
  bool origin_involved = answered_by_ == Answerer::kOrigin || upstream_end_ != upstream_start_;
  stats.request_duration.Record(
      std::chrono::duration_cast<std::chrono::microseconds>(now - start_).count());
  if (origin_involved) {
    stats.origin_duration.Record(
        std::chrono::duration_cast<std::chrono::microseconds>(upstream_end_ - upstream_start_)
            .count());
  }
  AccessLog::Sink* sink = worker_.access_sink();
  if (sink == nullptr) return;
  AccessRecord record;
  record.start = start_wall_;
  record.client_addr = connection_.client_addr();
  record.method = request_.method;
  record.target = request_.target;
  record.host = request_.host;
  const std::string* user_agent = request_.headers.Find("User-Agent");
  const std::string* referer = request_.headers.Find("Referer");
  record.user_agent = user_agent ? std::string_view(*user_agent) : std::string_view();
  record.referer = referer ? std::string_view(*referer) : std::string_view();
  record.status = status_;
  record.request_bytes = request_bytes_;
  record.response_bytes = response_bytes_;
  record.duration = std::chrono::duration_cast<std::chrono::microseconds>(now - start_);
  if (origin_involved) {
    record.upstream_duration =
        std::chrono::duration_cast<std::chrono::microseconds>(upstream_end_ - upstream_start_);
    if (snapshot_ != nullptr && server_index_ < snapshot_->upstreams.size()) {
      record.upstream_addr = snapshot_->upstreams[server_index_].text;
    }
  }
  record.answered_by = AnswererName(answered_by_);
  record.tls = info_.tls;
  record.worker = worker_.index();
  sink->Write(record);
}

}  // namespace tidegate::proxy
