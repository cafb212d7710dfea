// The filter interface every request feature plugs into (built-in routes,
// status page, banner, maintenance gate, waiting room; see app/filter_chain.cc).
//
// Model (Envoy-like):
// * A FilterFactory is built once per configuration snapshot, validated and
//   immutable; it is shared by all workers (so it must be thread-safe: const
//   methods only, no mutable state without its own synchronisation).
// * For every request the stream asks each factory, in chain order, for a
//   small StreamFilter object (or nullptr: "nothing to do for this request").
//   The StreamFilter lives exactly as long as the exchange, on the worker
//   thread that owns the client connection; it is never shared.
// * Filters never touch sockets. They talk to the core through
//   FilterCallbacks only.
//
// Lifecycle, in order (see docs/architecture.md "Request lifecycle"):
//   OnRequestHeaders  — request filters, in chain order. kContinue passes to
//                       the next filter, then to the upstream. kStop halts the
//                       chain: the filter has called SendLocalReply(), or will
//                       call SendLocalReply()/ContinueRequest() later on the
//                       same worker thread (asynchronous gates).
//   OnResponseHeaders — response filters, in reverse chain order, for origin
//                       responses only (not for local replies). A filter that
//                       will change the body length must set
//                       head.framing = BodyFraming::kChunked ("length
//                       unknown") and may then rewrite the body; the core
//                       frames the result for the client (chunked for
//                       HTTP/1.1, close-delimited for HTTP/1.0).
//   OnResponseBody    — every piece of de-framed response body, in order;
//                       the filter may rewrite `chunk` in place (drain, add,
//                       prepend). end_stream is true exactly once, on the last
//                       call (chunk may then be empty). Called only when the
//                       filter returned true from WantsResponseBody(). A
//                       filter that finds the body cannot be completed calls
//                       AbortResponse() (no complete message reaches the
//                       client).
//   HoldResponseHead  — only for a filter that wants the body: asked right
//                       after the response filters ran and again after each
//                       of its OnResponseBody calls, as long as it (or
//                       another body filter) returns true. While held, the
//                       core sends nothing: the head and the filtered body
//                       wait (the filter bounds what it holds; the banner
//                       holds at most its scan window). The filter may change
//                       `head`'s framing (e.g. keep kContentLength with a
//                       new content_length once it knows how many bytes it
//                       adds) and returns false when the head is final; at
//                       the end of the body it must return false. An origin
//                       failure while held gets the proxy's 502, as before
//                       any head, and so does AbortResponse() while held.
//   OnDestroy         — exactly once per filter, when the exchange ends or is
//                       torn down (answered, client gone, connection closed,
//                       worker stopping), before the filter is destroyed.
//                       A filter cancels its pending asynchronous work here
//                       (a store call whose reply must no longer reach it).
//                       It may run while one of the filter's own methods is
//                       on the stack (a local reply ends the exchange from
//                       inside OnRequestHeaders or a store callback); after
//                       it, the stream calls no other method of the filter.
#pragma once

#include <event2/buffer.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/answerer.h"
#include "proxy/http_message.h"
#include "proxy/worker_context.h"

namespace tidegate::proxy {

enum class FilterStatus { kContinue, kStop };

// A local reply's body that the stream writes straight into the client
// connection's output buffer, in the same contiguous block as the response
// head (no intermediate std::string, one copy): a page answered to every
// visitor (the queue page) is assembled there from its immutable pieces.
// Contract: size() is exact and WriteTo(out) writes exactly size() bytes to
// `out`; both are called on the worker thread, during SendLocalReplyBody()
// only (the object may be a temporary of the caller).
// fixed_fields(): header lines that go with the body, serialized once by
// its owner ("Name: value\r\n" each; never framing or Connection fields),
// written after the reply's HeaderList: a page's constant headers (its
// Content-Type, Content-Security-Policy) cost no field object per reply.
// Gather(): the same bytes as WriteTo, for writev(2): pieces shorter than
// `copy_below` bytes are copied into `copy` (room for size() bytes), one
// after another, and given as views of it; longer ones as views of memory
// that stays valid and unchanged during SendLocalReplyBody() (a page's
// immutable literal parts), so that they are never copied in user space.
// Writes at most `max` views to `out`, in order, and returns how many, or
// -1 when more would be needed (the stream then uses WriteTo). Default: -1.
class LocalBody {
 public:
  virtual ~LocalBody() = default;
  virtual size_t size() const = 0;
  virtual void WriteTo(char* out) const = 0;
  virtual std::string_view fixed_fields() const { return {}; }
  virtual int Gather(size_t copy_below, char* copy, std::string_view* out, int max) const {
    return -1;
  }
};

// What the origin did with a forwarded request (StreamFilter::OnUpstreamOutcome):
// its response head arrived (`status`), or the exchange failed before any
// response head. `time_to_headers` runs from the moment the origin had the
// request — its last byte handed to the origin connection (pooled or
// connecting), or the last byte so far for a head that came before the
// request ended — to the response head, or to the failure: a client that
// uploads slowly is not an origin that answers slowly (audit 16 F1).
struct UpstreamOutcome {
  enum class Kind {
    kResponse,        // a response head arrived (status = its status)
    kConnectFailure,  // refused, unreachable, no server to try
    kTimeout,         // connect or response timeout (the client gets 504)
    kFailure,         // reset, closed early or bad response before the head (502)
  };
  Kind kind = Kind::kResponse;
  int status = 0;  // kResponse only
  std::chrono::microseconds time_to_headers{0};
};

// What a filter may read about the request's context.
struct StreamInfo {
  std::string_view client_ip;
  bool tls = false;
};

// The proxy's own error reply as a filter may complete it
// (StreamFilter::OnErrorReply): fields the exchange owes the client whatever
// its outcome (the waiting room's pass for a shopper it let in: the claim is
// spent, the pass must reach the client), and markup for right after the
// HTML page's <body> (the banner in force: shoppers see it on every page,
// the proxy's own included). Never framing or Connection fields.
struct ErrorReply {
  int status = 0;
  HeaderList* headers = nullptr;           // the reply's fields; add only
  std::string* after_body_open = nullptr;  // HTML pages: append; null for JSON
};

class FilterCallbacks {
 public:
  virtual ~FilterCallbacks() = default;
  // Answers the request from the proxy: the upstream is never contacted and
  // the remaining request filters are skipped. `headers` must not contain
  // framing or Connection fields (the core sets them). A HEAD request gets
  // the head only. Call at most once, on the worker thread. `answered_by`
  // names the feature in the access log and the per-answerer counters.
  virtual void SendLocalReply(int status, HeaderList headers, std::string body,
                              Answerer answered_by) = 0;
  // The same with a LocalBody (see above): the stream writes it into its
  // output in one step with the head. The default (test fakes) renders it
  // into a string and calls SendLocalReply().
  virtual void SendLocalReplyBody(int status, HeaderList headers, const LocalBody& body,
                                  Answerer answered_by) {
    std::string_view lines = body.fixed_fields();
    for (size_t end; (end = lines.find("\r\n")) != std::string_view::npos;
         lines.remove_prefix(end + 2)) {
      std::string_view line = lines.substr(0, end);
      size_t colon = line.find(": ");
      if (colon != std::string_view::npos) {
        headers.Add(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
      }
    }
    std::string text(body.size(), '\0');
    body.WriteTo(text.data());
    SendLocalReply(status, std::move(headers), std::move(text), answered_by);
  }
  // An empty header list for a local reply that holds the field storage
  // the stream keeps from its previous replies (no allocation once the
  // connection has answered a reply with as many fields): fill it and pass
  // it to SendLocalReply*(). Optional (any HeaderList will do); worker
  // thread, before the reply. Only from OnRequestHeaders or a request-phase
  // callback: the storage is the stream's response head, so a call once the
  // origin's response head has arrived would empty it. The default (test
  // fakes): a new list.
  virtual HeaderList TakeReplyHeaders() { return HeaderList{}; }
  // Resumes the chain after the calling filter returned kStop without a
  // local reply. Must be called on the worker thread, at most once.
  virtual void ContinueRequest() = 0;
  // Request body buffering, for a filter that decides on the first bytes of
  // the request body. Call from OnRequestHeaders for a request with a body
  // (head.framing != kNone); when it returns true, return kStop. The stream
  // then reads the body (sending "100 Continue" first when the client asked)
  // until `max_bytes` are held or the body ended, and calls
  // on_ready(body, complete) once, on the worker thread: `body` holds the
  // de-framed bytes read so far (at least max_bytes unless complete; chunked
  // framing removed), complete = the whole body is in it. The filter then
  // calls SendLocalReply() or ContinueRequest() (from inside on_ready or
  // later). On ContinueRequest the held bytes go to the origin first, then the
  // rest of the body as it streams, so the origin receives the body's bytes
  // unchanged whatever its size: a body longer than `max_bytes` is decided on
  // its prefix. `body` is only valid during on_ready. Returns false (nothing
  // buffered, decide without the body) when the request has no body or the
  // implementation does not buffer.
  virtual bool BufferRequestBody(
      size_t max_bytes, std::function<void(const evbuffer* body, bool complete)> on_ready) {
    return false;
  }
  // Aborts a response whose body cannot be completed correctly (a body
  // filter found the origin's body broken, e.g. a corrupt gzip it recodes).
  // Call only from OnResponseBody. The stream stops right after that call:
  // the current piece (later filters do not see it) and every later one are
  // dropped, the origin connection is discarded and the client connection
  // is closed at once (queued output dropped) without the message's end (no
  // last chunk), so the client sees a truncated transfer, never a complete
  // one. Every filter then gets OnDestroy as usual.
  virtual void AbortResponse() = 0;
  virtual const StreamInfo& stream_info() const = 0;
  // The worker running the exchange (its loop, its index); outlives every
  // filter of the exchange.
  virtual const WorkerContext& worker() const = 0;
};

class StreamFilter {
 public:
  virtual ~StreamFilter() = default;
  virtual FilterStatus OnRequestHeaders(RequestHead& head) { return FilterStatus::kContinue; }
  virtual void OnResponseHeaders(ResponseHead& head) {}
  // Once per exchange that reached the origin, before OnResponseHeaders
  // (or before the proxy's own 502/504 page when it failed before a head);
  // never for local replies, and not for a client that left while waiting.
  // A stale pooled connection retried once is not an outcome of its own.
  // One exception makes a second call: when the response whose head was
  // reported is then replaced by the proxy's 502 before any byte of it
  // reached the client (a bad body in the head's origin read, a failure
  // while a filter held the head, a body filter's abort), the stream
  // reports kFailure once more; the later call is the exchange's final
  // outcome. A response cut after bytes went out keeps its first outcome.
  virtual void OnUpstreamOutcome(const UpstreamOutcome& outcome) {}
  // The whole request (head and body) was handed to an origin connection:
  // from now on the exchange waits for the origin, not for the client. Again
  // for a stale pooled connection's retry; never for local replies.
  virtual void OnRequestSent() {}
  virtual bool WantsResponseBody() const { return false; }
  virtual void OnResponseBody(evbuffer* chunk, bool end_stream) {}
  // See "HoldResponseHead" above. `head` is the response head that will be
  // sent; true keeps holding it.
  virtual bool HoldResponseHead(ResponseHead& head) { return false; }
  // When the proxy answers this exchange with its own error page (a 502/504
  // after an origin failure — before or instead of the origin's head —, a
  // 4xx for a request that failed after the filters ran). Asked in chain
  // order, before the reply is written; see ErrorReply.
  virtual void OnErrorReply(ErrorReply& reply) {}
  // See "OnDestroy" above: cancel pending asynchronous work.
  virtual void OnDestroy() {}
};

class FilterFactory {
 public:
  virtual ~FilterFactory() = default;
  // Called on a worker thread for each request, on the request head as
  // received (before any filter ran): false skips this filter for the
  // request without creating it — no allocation. For a filter that serves a
  // few paths and must stay off the shop's hot path (the built-in router).
  virtual bool AppliesTo(const RequestHead& head) const { return true; }
  // Called on a worker thread for each request it applies to; `callbacks`
  // outlives the returned filter. Returning nullptr skips this filter for
  // the request.
  virtual std::unique_ptr<StreamFilter> CreateFilter(FilterCallbacks& callbacks) const = 0;
};

// The ordered chain of one snapshot, built explicitly in one place
// (app/filter_chain.cc) — no static registration.
struct FilterChain {
  std::vector<std::unique_ptr<const FilterFactory>> factories;
};

}  // namespace tidegate::proxy
