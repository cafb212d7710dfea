// Stream, response side: relaying the origin's response to the client
// (head through the filters, client framing, body with optional body
// filters, backpressure) and origin failures (retry, 502/504, truncation).
// Filters, local replies and the end of the exchange are in stream.cc; the
// request forwarding is in stream_request.cc.
#include <charconv>
#include <string_view>

#include "common/time_source.h"
#include "proxy/body_framing.h"
#include "proxy/client_connection.h"
#include "proxy/forwarding_headers.h"
#include "proxy/origin_set_cookie.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

namespace tidegate::proxy {
namespace {

// Body bytes of one origin read below this are copied into the client's
// output as before: for a 1 KB page the copy costs less than the second
// iovec and the earlier write (same-run CPU per request, interleaved:
// 1.02x the copying binary with direct writes of every size, 0.99x with
// this bound; 24 KB: 0.97x).
constexpr size_t kThroughBodyMin = 4096;

// Writes a body read from the origin (framed for the client) straight from
// where it lies, behind what the client's output queues (the head, earlier
// chunks), in one writev: no copy of the bytes the socket takes. Only for
// the last bytes of an origin read (one write per read, as the flush that
// would follow makes), of at least kThroughBodyMin bytes, on a plain client
// connection that can write now. Returns the framed bytes handed over (to
// the socket, or what it did not take to the output); 0, with nothing done,
// otherwise (the caller copies).
size_t WriteBodyThrough(ClientConnection& client, const UpstreamConnection& upstream,
                        const char* data, size_t len, bool chunked) {
  if (len < kThroughBodyMin || !upstream.BodyEndsRead(data, len) || !client.CanWriteThrough()) {
    return 0;
  }
  char line[kChunkLineMax];
  iovec pieces[3];
  int count = FrameBody(data, len, chunked, line, pieces);
  size_t framed = 0;
  for (int i = 0; i < count; ++i) framed += pieces[i].iov_len;
  client.WriteNow(pieces, count);  // a full or failed socket: it schedules the flush
  return framed;
}

// A response whose Set-Cookie sets one of tidegate's own cookies (only
// looked for when the parser saw a Set-Cookie): those fields are removed,
// before the filters add tidegate's own; counted, and logged per origin
// server (rate-limited per key, as every origin error).
void RemoveOriginsOwnCookies(ResponseHead& head, Worker& worker, const std::string& server) {
  if (RemoveOwnSetCookies(&head.headers) == 0) return;
  worker.mutable_stats().origin_own_cookie.Inc();
  if (worker.error_log().Enabled(LogLevel::kWarn)) {
    worker.error_log().Write(LogLevel::kWarn, "upstream.own_cookie",
                             server +
                                 ": Set-Cookie for tidegate's own cookie (tg_wait_*, tg_pass_*, "
                                 "tg_bypass) removed from a response; the shop's other cookies "
                                 "were kept");
  }
}

// 103 responses forwarded per exchange at most: hints help a browser before
// the final response only, and an origin sending more is looping.
constexpr uint8_t kMaxEarlyHints = 4;

}  // namespace

void Stream::OnUpstreamEarlyHints(const ResponseHead& head) {
  // RFC 9110 §15.2: a proxy forwards a 1xx, but never to an HTTP/1.0
  // client; only before the final head. Only the Link fields go (what a
  // browser uses a 103 for, RFC 8297): nothing hop-by-hop, no cookie.
  if (request_.version_minor == 0 || resp_.head_sent || resp_.early_hints >= kMaxEarlyHints) {
    return;
  }
  std::string& scratch = worker_.scratch();
  scratch.assign("HTTP/1.1 103 Early Hints\r\n");
  size_t start = scratch.size();
  for (const Header& h : head.headers.fields()) {
    if (!common::EqualsIgnoreCaseLiteral<"link">(h.name) || h.value.empty()) continue;
    scratch.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (scratch.size() == start) return;  // no hint to give
  scratch.append("\r\n");
  evbuffer_add(connection_.output(), scratch.data(), scratch.size());  // flushed after this read
  ++resp_.early_hints;
}

void Stream::OnClientDrained() {
  if (phase_ == Phase::kUpstream && upstream_) upstream_->ResumeReading();
}

void Stream::OnUpstreamResponseHead(ResponseHead&& head) {
  TakeHeadReturningStorage(response_, std::move(head));
  if (response_.has_set_cookie)
    RemoveOriginsOwnCookies(response_, worker_, upstream_->server_text());
  ReportUpstreamOutcome(UpstreamOutcome::Kind::kResponse, response_.status);
  for (size_t i = filters_.size(); i-- > 0;) {
    filters_[i]->OnResponseHeaders(response_);
    resp_.body_filters = resp_.body_filters || filters_[i]->WantsResponseBody();
  }
  if (resp_.body_filters && !body_scratch_) body_scratch_.reset(evbuffer_new());
  if (resp_.body_filters && response_.framing != BodyFraming::kNone &&
      std::string_view(request_.method) != "HEAD" && FiltersHoldHead()) {
    resp_.head_held = true;  // sent by ReleaseHeldHead()
    return;
  }
  SendResponseHead();
}

void Stream::SendResponseHead() {
  PrepareClientResponse(response_, request_.version_minor);
  HeaderList& headers = response_.headers;
  SelectClientFraming();
  resp_.keep_alive = ClientWantsKeepAlive() && out_framing_ != OutFraming::kUntilClose;
  // A 426 keeps the origin's Upgrade (PrepareClientResponse): Connection
  // names it (RFC 9110 §7.8).
  const bool upgrade = response_.status == 426 && headers.Find("Upgrade") != nullptr;
  if (!resp_.keep_alive) {
    headers.Set("Connection", upgrade ? "close, upgrade" : "close");
  } else if (request_.version_minor == 0) {
    headers.Set("Connection", upgrade ? "keep-alive, upgrade" : "keep-alive");
  } else if (upgrade) {
    headers.Set("Connection", "upgrade");
  }
  std::string& scratch = worker_.scratch();
  scratch.clear();
  // A proxy forwarding a response without Date adds one (RFC 9110 §6.6.1);
  // the origin's own Date is kept as it is.
  SerializeResponseHead(response_, scratch,
                        response_.has_date ? std::string_view() : worker_.date_line());
  evbuffer* out = connection_.output();
  if (out_framing_ == OutFraming::kLength && !resp_.body_filters &&
      response_.content_length <= kCoalescedBodyMax &&
      (response_.content_length < kThroughBodyMin || !connection_.CanWriteThrough())) {
    // Room for the head and the whole (small) body in one chain: one
    // allocation instead of two, and one iovec for the write. Only for a
    // body that will be copied (under kThroughBodyMin, TLS, a pending
    // write): a plain connection that can write now takes a larger body
    // from the origin read's memory (OnUpstreamBody), and unused room past
    // malloc's thread cache costs.
    evbuffer_expand(out, scratch.size() + response_.content_length);
  }
  evbuffer_add(out, scratch.data(), scratch.size());
  resp_.head_sent = true;
  resp_.handed_bytes = scratch.size();
  status_ = response_.status;
  answered_by_ = Answerer::kOrigin;
}

bool Stream::FiltersHoldHead() {
  bool held = false;
  for (size_t i = filters_.size(); i-- > 0;) {
    if (filters_[i]->WantsResponseBody() && filters_[i]->HoldResponseHead(response_)) held = true;
  }
  return held;
}

bool Stream::ReleaseHeldHead(bool end_stream) {
  // Every filter is asked, even at the end: that is where it settles the head.
  if (FiltersHoldHead() && !end_stream) {
    if (!held_response_) held_response_.reset(evbuffer_new());
    evbuffer_add_buffer(held_response_.get(), body_scratch_.get());
    return false;
  }
  resp_.head_held = false;
  SendResponseHead();
  if (held_response_) WriteResponseBody(held_response_.get());
  return true;
}

void Stream::ReportUpstreamOutcome(UpstreamOutcome::Kind kind, int status) {
  UpstreamOutcome outcome;
  outcome.kind = kind;
  outcome.status = status;
  outcome.time_to_headers = std::chrono::duration_cast<std::chrono::microseconds>(
      common::CachedMonotonicNow() - request_sent_);
  for (size_t i = filters_.size(); i-- > 0;) filters_[i]->OnUpstreamOutcome(outcome);
}

void Stream::SelectClientFraming() {
  HeaderList& headers = response_.headers;
  if (response_.framing == BodyFraming::kNone || std::string_view(request_.method) == "HEAD") {
    out_framing_ = OutFraming::kNone;
  } else if (response_.framing == BodyFraming::kContentLength) {
    out_framing_ = OutFraming::kLength;
    char digits[20];
    auto written = std::to_chars(digits, digits + sizeof digits, response_.content_length);
    headers.Append("Content-Length", std::string_view(digits, written.ptr - digits));
  } else if (request_.version_minor >= 1) {
    out_framing_ = OutFraming::kChunked;
    headers.Add("Transfer-Encoding", "chunked");
  } else {
    out_framing_ = OutFraming::kUntilClose;  // HTTP/1.0 client: de-chunked, close-delimited
  }
}

void Stream::WriteResponseBody(evbuffer* body) {
  size_t len = evbuffer_get_length(body);
  if (len == 0) return;
  response_bytes_ += len;
  resp_.handed_bytes += MoveBody(connection_.output(), body, out_framing_ == OutFraming::kChunked);
}

bool Stream::FilterResponseBody(bool end_stream) {
  for (size_t i = filters_.size(); i-- > 0;) {
    if (filters_[i]->WantsResponseBody()) {
      filters_[i]->OnResponseBody(body_scratch_.get(), end_stream);
    }
    if (resp_.aborted) {
      AbortFromFilter();
      return false;
    }
  }
  return true;
}

void Stream::OnUpstreamBody(const char* data, size_t len) {
  if (out_framing_ == OutFraming::kNone && !resp_.head_held) return;
  if (resp_.body_filters) {
    evbuffer_add(body_scratch_.get(), data, len);
    if (!FilterResponseBody(false)) return;
    if (resp_.head_held && !ReleaseHeldHead(false)) return;
    WriteResponseBody(body_scratch_.get());
  } else {
    response_bytes_ += len;
    bool chunked = out_framing_ == OutFraming::kChunked;
    size_t handed = WriteBodyThrough(connection_, *upstream_, data, len, chunked);
    if (handed == 0) handed = AddBody(connection_.output(), data, len, chunked);
    resp_.handed_bytes += handed;
  }
  // Backpressure: a slow client pauses the origin.
  if (connection_.output_length() > kMaxBuffered) upstream_->PauseReading();
}

void Stream::AbortFromFilter() {
  if (worker_.error_log().Enabled(LogLevel::kWarn)) {
    worker_.error_log().Write(LogLevel::kWarn, "response.aborted",
                              "a body filter aborted the response");
  }
  if (resp_.head_held || TakeBackUnsentResponse()) {
    // Nothing went to the client yet: the proxy's 502, as before a head.
    // The filters heard of the origin's head: the 502 is the final word.
    resp_.head_held = false;
    UpstreamConnection::Discard(std::move(upstream_));
    ReportUpstreamOutcome(UpstreamOutcome::Kind::kFailure, 0);
    SendProxyError(502);
    return;
  }
  // Like an origin failing mid-body: the client must see a truncated
  // message, never one completed by us.
  Abort(0);
  connection_.CloseNow();
}

void Stream::OnUpstreamComplete() {
  upstream_end_ = common::CachedMonotonicNow();
  if (resp_.body_filters && (out_framing_ != OutFraming::kNone || resp_.head_held)) {
    if (!FilterResponseBody(true)) return;
    if (resp_.head_held) ReleaseHeldHead(true);
    WriteResponseBody(body_scratch_.get());
  }
  if (out_framing_ == OutFraming::kChunked) AddLastChunk(connection_.output());
  worker_.pool().ReportSuccess(server_index_);
  if (req_.complete) {
    worker_.pool().Release(std::move(upstream_));
  } else {
    // The origin answered before the whole body was sent: that connection
    // is mid-request, never reuse it.
    UpstreamConnection::Discard(std::move(upstream_));
  }
  Finish(resp_.keep_alive);
}

void Stream::OnUpstreamError(UpstreamError error) {
  upstream_end_ = common::CachedMonotonicNow();
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
  // A server that could not be reached got nothing: the request so far
  // (head and body, all still in the connection's output) goes to the next
  // server, whatever its method (as nginx's `proxy_next_upstream error
  // timeout` for a connect failure), each other server at most once.
  bool unreached =
      error == UpstreamError::kConnectRefused || error == UpstreamError::kConnectTimeout;
  if (unreached && !resp_.head_sent && !resp_.head_held &&
      req_.failovers + 1u < worker_.pool().server_count()) {
    ++req_.failovers;
    stats.origin_retries.Inc();
    EvbufferPtr unsent(evbuffer_new());
    upstream_->TakeUnsent(unsent.get());
    UpstreamConnection::Discard(std::move(upstream_));
    ResendUpstream(unsent.get());
    return;
  }
  UpstreamConnection::Discard(std::move(upstream_));

  if (stale && !req_.retried && !resp_.head_sent && IsIdempotentMethod(request_.method) &&
      request_.framing == BodyFraming::kNone) {
    req_.retried = true;
    stats.origin_retries.Inc();
    StartUpstream(/*allow_pooled=*/false);
    return;
  }
  if (resp_.head_held) {
    // Nothing went to the client yet: the proxy's error page, as before a
    // head. The filters already heard of this response's head: they hear
    // that it became a failure (auto-protection counts what the client got).
    resp_.head_held = false;
    ReportUpstreamOutcome(UpstreamOutcome::Kind::kFailure, 0);
    SendProxyError(502);
    return;
  }
  if (!resp_.head_sent) {
    bool timeout =
        error == UpstreamError::kConnectTimeout || error == UpstreamError::kResponseTimeout;
    ReportUpstreamOutcome(timeout ? UpstreamOutcome::Kind::kTimeout
                          : error == UpstreamError::kConnectRefused
                              ? UpstreamOutcome::Kind::kConnectFailure
                              : UpstreamOutcome::Kind::kFailure,
                          0);
    SendProxyError(timeout ? 504 : 502);
    return;
  }
  if (TakeBackUnsentResponse()) {
    // The head (and maybe body bytes) only waited in the client's output,
    // e.g. a bad chunk in the same origin read as the head: no byte of it
    // reached the client, so the proxy's 502 can still replace it, and
    // the filters hear that the response they were told of became a failure.
    ReportUpstreamOutcome(UpstreamOutcome::Kind::kFailure, 0);
    SendProxyError(502);
    return;
  }
  // Part of the response is out: the client must see a truncated message,
  // never one completed by us.
  Abort(0);
  connection_.CloseNow();
}

bool Stream::TakeBackUnsentResponse() {
  if (!resp_.head_sent || !connection_.TakeBackUnsent(resp_.handed_bytes)) return false;
  resp_.head_sent = false;
  resp_.handed_bytes = 0;
  response_bytes_ = 0;  // the access log counts the page that replaces it
  return true;
}

}  // namespace tidegate::proxy
