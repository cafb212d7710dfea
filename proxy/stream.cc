#include "proxy/stream.h"

#include <sys/uio.h>

#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "common/time_source.h"
#include "pages/language.h"
#include "proxy/client_address.h"
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
  if (buffering()) return true;  // a filter waits for the body's first bytes
  return phase_ != Phase::kHeld && phase_ != Phase::kFilters && !req_.upstream_blocked;
}

void Stream::Begin(RequestHead&& head, const Snapshot* snapshot) {
  filters_.clear();  // the previous exchange's filters (nothing of theirs is on the stack now)
  phase_ = Phase::kFilters;
  snapshot_ = snapshot;
  TakeHeadReturningStorage(request_, std::move(head));
  // Usually Recycle() cleared it after the previous exchange (status 0:
  // every head that was filled has a status); a second clear is not free.
  if (response_.status != 0) ClearHeadKeepingStorage(response_);
  // The wall-clock start is for the access log only (no clock read without it).
  if (worker_.access_sink() != nullptr) start_wall_ = common::CachedWallNow();
  start_ = common::CachedMonotonicNow();
  upstream_start_ = upstream_end_ = request_sent_ = start_;
  info_.client_ip = connection_.client_ip();
  info_.tls = connection_.tls();
  forwarded_client_ip_.clear();
  if (snapshot_->config != nullptr && !snapshot_->config->server.trusted_proxies.empty()) {
    TakeClientFromFront(snapshot_->config->server);
  }
  req_ = RequestFlags{};
  resp_ = ResponseFlags{};
  out_framing_ = OutFraming::kNone;
  status_ = 0;
  answered_by_ = Answerer::kProxy;
  request_bytes_ = response_bytes_ = 0;
  on_body_ready_ = nullptr;
  if (held_body_) evbuffer_drain(held_body_.get(), evbuffer_get_length(held_body_.get()));
  for (const auto& factory : snapshot_->filters.factories) {
    if (!factory->AppliesTo(request_)) continue;
    std::unique_ptr<StreamFilter> filter = factory->CreateFilter(*this);
    if (filter) filters_.push_back(std::move(filter));
  }
  next_filter_ = 0;
  RunRequestFilters();
}

void Stream::TakeClientFromFront(const config::ServerConfig& server) {
  if (!PeerIsTrusted(info_.client_ip, server.trusted_proxies)) return;
  if (std::optional<std::string> ip =
          ResolveClientIp(request_.headers, server.client_ip_header, server.trusted_proxies)) {
    forwarded_client_ip_ = std::move(*ip);
    info_.client_ip = forwarded_client_ip_;
  }
  if (std::optional<bool> https = ForwardedSchemeIsHttps(request_.headers)) info_.tls = *https;
}

void Stream::RunRequestFilters() {
  // TRACE is answered 405 here, before any filter (a room would queue it,
  // the origin might reflect its cookies): never forwarded, never
  // reflected, as nginx (audit 19 F12). next_filter_ is 0 only on the call
  // from Begin.
  if (next_filter_ == 0 && request_.method == "TRACE") {
    AnswerAsFinalRecipient();
    return;
  }
  while (next_filter_ < filters_.size()) {
    StreamFilter* filter = filters_[next_filter_++].get();
    FilterStatus status = filter->OnRequestHeaders(request_);
    if (phase_ != Phase::kFilters) return;  // answered locally
    if (status == FilterStatus::kStop) {
      phase_ = Phase::kHeld;  // an asynchronous gate resumes us later
      // Enough body may already be held (bytes read while an earlier filter
      // held the request).
      if (buffering() && held_body_ &&
          (req_.complete || evbuffer_get_length(held_body_.get()) >= buffer_limit_)) {
        DeliverHeldBody();
      }
      return;
    }
  }
  const std::vector<std::string>* trusted =
      snapshot_->config ? &snapshot_->config->server.trusted_headers : nullptr;
  switch (ApplyMaxForwards(request_)) {
    case MaxForwardsStep::kForward:
      break;
    case MaxForwardsStep::kAnswerHere:
      AnswerAsFinalRecipient();
      return;
    case MaxForwardsStep::kReject:
      SendProxyError(400);
      return;
  }
  // X-Forwarded-For gets the connection's peer (a front's own address
  // after the chain it sent); X-Forwarded-Proto the client's scheme.
  ForwardingInfo forwarding{connection_.client_ip(), info_.tls, trusted, {}};
  if (snapshot_->config && !snapshot_->config->upstream.servers.empty()) {
    const config::Address& first = snapshot_->config->upstream.servers.front();
    if (first.unix_path.empty()) forwarding.origin_host = first.text;
  }
  PrepareUpstreamRequest(request_, forwarding);
  StartUpstream(/*allow_pooled=*/true);
}

void Stream::AnswerAsFinalRecipient() {
  // OPTIONS: what the proxy relays. TRACE (every one): not reflected (it
  // would echo cookies and credentials to a script, "cross-site tracing"),
  // as nginx.
  static constexpr std::string_view kAllow = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
  answered_by_ = Answerer::kProxy;
  HeaderList headers = TakeReplyHeaders();
  headers.Add("Allow", std::string(kAllow));
  headers.Add("Cache-Control", "no-store");
  if (request_.method == "OPTIONS") {
    WriteLocalResponse(200, headers, std::string(), /*force_close=*/false);
  } else {
    headers.Add("Content-Type", "text/plain; charset=utf-8");
    WriteLocalResponse(405, headers, std::string("TRACE is not answered here.\n"),
                       /*force_close=*/false);
  }
  Finish(resp_.keep_alive);
}

void Stream::ContinueRequest() {
  if (phase_ != Phase::kHeld) return;
  phase_ = Phase::kFilters;
  RunRequestFilters();
  if (phase_ == Phase::kUpstream) connection_.ResumeRequestBody();
}

bool Stream::BufferRequestBody(size_t max_bytes,
                               std::function<void(const evbuffer*, bool)> on_ready) {
  if (phase_ != Phase::kFilters || request_.framing == BodyFraming::kNone || buffering() ||
      !on_ready) {
    return false;
  }
  if (!held_body_) held_body_.reset(evbuffer_new());
  buffer_limit_ = max_bytes;
  on_body_ready_ = std::move(on_ready);
  SendContinueIfExpected();  // the body will be read now
  return true;
}

void Stream::DeliverHeldBody() {
  std::function<void(const evbuffer*, bool)> on_ready = std::move(on_body_ready_);
  on_body_ready_ = nullptr;
  // May answer or continue the request from inside.
  on_ready(held_body_.get(), req_.complete);
}

void Stream::SendLocalReply(int status, HeaderList headers, std::string body,
                            Answerer answered_by) {
  if (phase_ != Phase::kFilters && phase_ != Phase::kHeld) return;
  answered_by_ = answered_by;
  WriteLocalResponse(status, headers, body, /*force_close=*/false);
  Finish(resp_.keep_alive);
}

void Stream::SendLocalReplyBody(int status, HeaderList headers, const LocalBody& body,
                                Answerer answered_by) {
  if (phase_ != Phase::kFilters && phase_ != Phase::kHeld) return;
  answered_by_ = answered_by;
  WriteLocalResponse(status, headers, body, /*force_close=*/false);
  Finish(resp_.keep_alive);
}

HeaderList Stream::TakeReplyHeaders() {
  // response_ holds no field of this exchange yet (a reply is still to be
  // made), only the storage Recycle() kept; WriteLocalResponse moves the
  // list back into response_, so it stays with the stream: its field
  // vector and its spare strings (a reply's Set-Cookie is written into one).
  HeaderList headers = std::move(response_.headers);
  headers.clear();
  return headers;
}

bool Stream::ClientWantsKeepAlive() const {
  return request_.keep_alive && !worker_.draining() && !connection_.client_done();
}

bool Stream::BodyLeftIsDiscardable() const {
  // Asked for 100-continue and never got it: the client may never send the
  // body, and its next request would be read as body bytes.
  if (request_.expect_continue && !req_.continue_sent) return false;
  if (request_.framing == BodyFraming::kChunked) return true;  // bounded while discarding
  return request_.content_length >= request_bytes_ &&
         request_.content_length - request_bytes_ <= kMaxDiscardBytes;
}

void Stream::SendProxyError(int status) {
  WriteErrorPage(status, /*force_close=*/false);
  Finish(resp_.keep_alive);
}

void Stream::WriteErrorPage(int status, bool force_close) {
  answered_by_ = Answerer::kProxy;
  bool json = WantsJson(request_.headers.Find("Accept"));
  HeaderList headers = TakeReplyHeaders();
  std::string after_body_open;
  ErrorReply reply{status, &headers, json ? nullptr : &after_body_open};
  for (auto& filter : filters_) filter->OnErrorReply(reply);
  ErrorPageOptions options;
  options.after_body_open = after_body_open;
  // The shopper's language and the shop's status page, as on every page.
  const config::SiteConfig* site =
      snapshot_ != nullptr && snapshot_->config ? &snapshot_->config->site : nullptr;
  pages::Language fallback = pages::Language::kEnglish;
  if (site != nullptr) {
    fallback = pages::ParseLanguageCode(site->default_language).value_or(fallback);
    if (!site->status_page_url.empty()) options.status_link = site->status_page_url;
  }
  const std::string* accept_language = request_.headers.Find("Accept-Language");
  options.language = accept_language ? pages::PickLanguage(*accept_language, fallback) : fallback;
  ErrorPage page = MakeErrorPage(status, json, options);
  headers.Add("Content-Type", std::move(page.content_type));
  headers.Add("Cache-Control", "no-store");
  WriteLocalResponse(status, headers, page.body, force_close);
}

void Stream::FailRequest(int status) {
  if (phase_ == Phase::kIdle) {
    // A request that never got a valid head: log what we have. Filters
    // left from a previous exchange already had OnDestroy: drop them so
    // this exchange's end does not call it twice.
    filters_.clear();
    request_ = RequestHead{};
    request_.method.push_back('-');  // not = "-": GCC 12 -Wrestrict false positive
    response_ = ResponseHead{};
    start_wall_ = common::CachedWallNow();
    start_ = upstream_start_ = upstream_end_ = request_sent_ = common::CachedMonotonicNow();
    info_.client_ip = connection_.client_ip();
    info_.tls = connection_.tls();
    forwarded_client_ip_.clear();
    request_bytes_ = response_bytes_ = 0;
  }
  phase_ = Phase::kFilters;  // any state that may answer
  UpstreamConnection::Discard(std::move(upstream_));
  WriteErrorPage(status, /*force_close=*/true);
  Finish(false);
}

namespace {

// A std::string body as a LocalBody (error pages, the other local replies).
class StringBody final : public LocalBody {
 public:
  explicit StringBody(const std::string& text) : text_(text) {}
  size_t size() const override { return text_.size(); }
  void WriteTo(char* out) const override { std::memcpy(out, text_.data(), text_.size()); }
  int Gather(size_t copy_below, char* copy, std::string_view* out, int max) const override {
    if (text_.empty()) return 0;
    if (max < 1) return -1;
    if (text_.size() >= copy_below) {
      out[0] = text_;
    } else {
      std::memcpy(copy, text_.data(), text_.size());
      out[0] = std::string_view(copy, text_.size());
    }
    return 1;
  }

 private:
  const std::string& text_;
};

// Which of the fields the core sets on a local reply (Content-Length,
// Connection) or leaves to its maker (Date) the maker's `headers` hold.
struct CoreFields {
  bool framing = false;  // Content-Length or Connection
  bool date = false;
};

CoreFields FindCoreFields(const HeaderList& headers) {
  CoreFields found;
  for (const Header& h : headers.fields()) {
    // By length first: most names are compared no further.
    switch (h.name.size()) {
      case 4:
        found.date = found.date || EqualsIgnoreCase(h.name, "Date");
        break;
      case 10:
        found.framing = found.framing || EqualsIgnoreCase(h.name, "Connection");
        break;
      case 14:
        found.framing = found.framing || EqualsIgnoreCase(h.name, "Content-Length");
        break;
      default:
        break;
    }
  }
  return found;
}

}  // namespace

void Stream::WriteLocalResponse(int status, HeaderList& headers, const std::string& body,
                                bool force_close) {
  WriteLocalResponse(status, headers, StringBody(body), force_close);
}

void Stream::WriteLocalResponse(int status, HeaderList& headers, const LocalBody& body,
                                bool force_close) {
  response_ = ResponseHead{};
  response_.status = status;
  // The reason stays empty: SerializeResponseHead writes the standard phrase
  // (no copy of it, no allocation for a long one such as a 503's).
  response_.headers = std::move(headers);
  // An unread request body is discarded by the connection when it is small
  // enough (then the connection stays); otherwise close after answering.
  bool body_left = !req_.complete && request_.framing != BodyFraming::kNone;
  resp_.keep_alive =
      !force_close && ClientWantsKeepAlive() && (!body_left || BodyLeftIsDiscardable());
  size_t body_size = body.size();
  // One look at the maker's fields instead of a search per field below.
  CoreFields present = FindCoreFields(response_.headers);
  // The usual reply has neither field: append, nothing to look for.
  auto put = [&](std::string_view name, std::string value) {
    if (present.framing) {
      response_.headers.Set(name, std::move(value));
    } else {
      response_.headers.Append(name, value);
    }
  };
  // 1xx, 204 and 304 have no body and carry no length of one (RFC 9110
  // §8.6, §15.4.5: a 304's length would be the 200's, which we do not say).
  const bool bodiless = status < 200 || status == 204 || status == 304;
  if (!bodiless) put("Content-Length", std::to_string(body_size));
  if (!resp_.keep_alive) {
    put("Connection", "close");
  } else if (request_.version_minor == 0) {
    put("Connection", "keep-alive");
  }
  // tidegate is this reply's origin server (RFC 9110 §6.6.1: an origin with
  // a clock sends Date), unless the reply's maker set one itself.
  response_.has_date = present.date;
  std::string_view date = response_.has_date ? std::string_view() : worker_.date_line();
  bool with_body = request_.method != "HEAD" && !bodiless;
  if (!WriteLocalDirect(date, body.fixed_fields(), with_body ? &body : nullptr)) {
    std::string& scratch = worker_.scratch();
    scratch.clear();
    SerializeResponseHead(response_, scratch, date);
    with_body = WriteLocalBuffered(scratch, body.fixed_fields(), with_body ? &body : nullptr);
  }
  if (with_body) response_bytes_ += body_size;
  resp_.head_sent = true;
  status_ = status;
}

bool Stream::WriteLocalDirect(std::string_view extra_lines, std::string_view fixed,
                              const LocalBody* body) {
  // The reply as writev pieces: the body's large pieces (a page's literal
  // parts) as they are; the head (serialized here, not copied from
  // elsewhere), the body's fields and the small pieces (the visitor's
  // values) one after another on the stack (a piece costs the kernel more
  // than copying a few hundred bytes).
  char copy[kDirectCopyMax];
  if (!connection_.CanWriteNow()) return false;
  size_t head_size = ResponseHeadSize(response_, extra_lines);
  if (head_size + fixed.size() + (body ? body->size() : 0) > sizeof copy) return false;
  // The body's fields go before the blank line.
  char* at = WriteResponseHead(response_, extra_lines, copy) - 2;
  if (!fixed.empty()) {  // (an empty view may hold no pointer: memcpy must not see it)
    std::memcpy(at, fixed.data(), fixed.size());
    at += fixed.size();
  }
  std::memcpy(at, "\r\n", 2);
  at += 2;
  std::string_view views[kMaxBodyPieces + 1];
  views[0] = std::string_view(copy, static_cast<size_t>(at - copy));
  int count = body ? body->Gather(kReferencedPieceMin, at, views + 1, kMaxBodyPieces) : 0;
  if (count < 0) return false;
  iovec iov[kMaxBodyPieces + 1];
  int n = 0;
  for (int i = 0; i <= count; ++i) {
    // Views that follow each other in memory (the copied runs) go as one.
    if (n > 0 && static_cast<char*>(iov[n - 1].iov_base) + iov[n - 1].iov_len == views[i].data()) {
      iov[n - 1].iov_len += views[i].size();
      continue;
    }
    iov[n].iov_base = const_cast<char*>(views[i].data());
    iov[n].iov_len = views[i].size();
    ++n;
  }
  connection_.WriteNow(iov, n);
  return true;
}

bool Stream::WriteLocalBuffered(std::string& head, std::string_view fixed, const LocalBody* body) {
  if (!fixed.empty()) head.insert(head.size() - 2, fixed);  // before the blank line
  evbuffer* out = connection_.output();
  // Head and body in one contiguous block of the output: one allocation,
  // one iovec for the write, and the body written in place.
  size_t total = head.size() + (body ? body->size() : 0);
  evbuffer_iovec block;
  if (evbuffer_reserve_space(out, static_cast<ev_ssize_t>(total), &block, 1) == 1 &&
      block.iov_len >= total) {
    char* at = static_cast<char*>(block.iov_base);
    std::memcpy(at, head.data(), head.size());
    if (body) body->WriteTo(at + head.size());
    block.iov_len = total;
    evbuffer_commit_space(out, &block, 1);
    return body != nullptr;
  }
  // Out of memory: the head alone, then the connection closes.
  evbuffer_add(out, head.data(), head.size());
  resp_.keep_alive = false;
  return false;
}

void Stream::Finish(bool keep_alive) {
  LogExchange();
  Reset();
  connection_.OnStreamDone(keep_alive);
}

void Stream::Abort(int status_if_unanswered) {
  if (phase_ == Phase::kIdle) return;
  UpstreamConnection::Discard(std::move(upstream_));
  if (!resp_.head_sent) status_ = status_if_unanswered != 0 ? status_if_unanswered : 499;
  LogExchange();
  Reset();
}

void Stream::Reset() {
  EndFilters();  // the exchange ends here (Finish or Abort), once
  phase_ = Phase::kIdle;
  req_.upstream_blocked = false;
  on_body_ready_ = nullptr;  // may hold a filter's state; filters go at Recycle()
  snapshot_ = nullptr;
}

void Stream::EndFilters() {
  for (const std::unique_ptr<StreamFilter>& filter : filters_) filter->OnDestroy();
}

void Stream::Recycle() {
  filters_.clear();
  ClearHeadKeepingStorage(request_);
  ClearHeadKeepingStorage(response_);
  body_scratch_.reset();
  held_response_.reset();
  held_body_.reset();
}

void Stream::LogExchange() {
  WorkerStats& stats = worker_.mutable_stats();
  int status_class = status_ / 100;
  stats.responses_by_class[status_class >= 1 && status_class <= 5 ? status_class : 0].Inc();
  stats.answered_by(answered_by_).Inc();
  auto now = common::CachedMonotonicNow();
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
  record.forwarded_client = forwarded_client_ip_;
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
