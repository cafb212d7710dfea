// One request/response exchange on a client connection: runs the filter
// chain, answers locally or forwards to an origin, relays the response with
// the right framing for the client, and writes the access-log record.
//
// Contract: owned by its ClientConnection (one Stream object, reused for
// every exchange of that connection, so no per-request allocation of the
// stream itself); worker thread only. The connection feeds it the request
// (Begin / OnRequestBody / OnRequestComplete) and tells it about the client
// side (OnClientDrained / Abort). The stream reports the end of the exchange
// with ClientConnection::OnStreamDone(keep_alive) exactly once per Begin().
// Streaming both ways is bounded: at most ~kMaxBuffered bytes wait in either
// output buffer before the other side stops being read.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "proxy/filter.h"
#include "proxy/http_message.h"
#include "proxy/libevent_handles.h"
#include "proxy/snapshot.h"
#include "proxy/upstream_connection.h"

namespace tidegate::proxy {

class ClientConnection;
class Worker;

class Stream : public FilterCallbacks, public UpstreamConnection::Handler {
 public:
  static constexpr size_t kMaxBuffered = 64 * 1024;
  // A Content-Length body up to this size gets its room reserved with the
  // response head (one buffer allocation per small response).
  static constexpr uint64_t kCoalescedBodyMax = 32 * 1024;
  // A local reply (maintenance page, queue page, a 4xx of the proxy) to a
  // request whose body was not read keeps the connection when at most this
  // many body bytes are left: the connection reads and discards them
  // (ClientConnection, within kDiscardTimeout) and serves the next request.
  // A longer (or unannounced chunked beyond it) body: Connection: close.
  static constexpr uint64_t kMaxDiscardBytes = 64 * 1024;
  static constexpr std::chrono::milliseconds kDiscardTimeout{5000};

  Stream(ClientConnection& connection, Worker& worker);
  ~Stream() override;

  bool active() const { return phase_ != Phase::kIdle; }
  // True when request body bytes may be fed now (not held by an
  // asynchronous filter, not blocked by the origin's full output buffer).
  bool AcceptsBody() const;
  bool response_started() const { return resp_.head_sent; }

  // From the connection, in order.
  void Begin(RequestHead&& head, const Snapshot* snapshot);
  void OnRequestBody(const char* data, size_t len);
  void OnRequestComplete();
  // The client connection's output drained (resume reading the origin).
  void OnClientDrained();
  // The client is gone or the connection must close now: drop the upstream
  // (never pooled) and log the exchange. No OnStreamDone() follows.
  void Abort(int status_if_unanswered);
  // The connection answers a request error itself (parse error, timeout):
  // drops the upstream and writes the page. Ends the exchange (closing).
  void FailRequest(int status);
  // Frees the filters and the heads' fields of the finished exchange (the
  // field vectors keep their capacity for the next one; called by the
  // connection once no filter or head reference is on the call stack).
  void Recycle();

  // FilterCallbacks
  void SendLocalReply(int status, HeaderList headers, std::string body,
                      Answerer answered_by) override;
  void SendLocalReplyBody(int status, HeaderList headers, const LocalBody& body,
                          Answerer answered_by) override;
  // The field storage of response_ (kept by Recycle()), emptied.
  HeaderList TakeReplyHeaders() override;
  void ContinueRequest() override;
  bool BufferRequestBody(size_t max_bytes,
                         std::function<void(const evbuffer*, bool)> on_ready) override;
  void AbortResponse() override { resp_.aborted = true; }
  const StreamInfo& stream_info() const override { return info_; }
  const WorkerContext& worker() const override;

  // UpstreamConnection::Handler
  void OnUpstreamResponseHead(ResponseHead&& head) override;
  void OnUpstreamEarlyHints(const ResponseHead& head) override;
  void OnUpstreamBody(const char* data, size_t len) override;
  void OnUpstreamComplete() override;
  void OnUpstreamError(UpstreamError error) override;
  void OnUpstreamDrained() override;

 private:
  enum class Phase { kIdle, kFilters, kHeld, kUpstream };
  enum class OutFraming { kNone, kLength, kChunked, kUntilClose };
  // The request side of the exchange (reset by Begin()).
  struct RequestFlags {
    bool complete = false;          // the whole request was read from the client
    bool continue_sent = false;     // "100 Continue" went to the client
    bool upstream_blocked = false;  // origin output full: stop feeding body
    bool retried = false;           // a stale pooled connection was replaced once
    uint8_t failovers = 0;          // servers tried after one that could not be reached
  };
  // The response side of the exchange (reset by Begin()).
  struct ResponseFlags {
    bool head_sent = false;     // a response head went to the client
    bool keep_alive = false;    // the client connection stays open after it
    bool body_filters = false;  // a filter rewrites the body (through body_scratch_)
    bool aborted = false;       // a body filter called AbortResponse()
    bool head_held = false;     // a body filter holds the head (HoldResponseHead)
    // Bytes of the origin's response (head, framed body) handed to the
    // client connection, queued or written through: while they all still
    // wait in its output, the response can be taken back for a 502.
    uint64_t handed_bytes = 0;
    uint8_t early_hints = 0;  // 103 responses forwarded (OnUpstreamEarlyHints)
  };

  // ---- filters, local replies, end of the exchange (stream.cc) ----
  void RunRequestFilters();
  void DeliverHeldBody();
  // A filter waits for held_body_ (BufferRequestBody).
  bool buffering() const { return static_cast<bool>(on_body_ready_); }
  void SendProxyError(int status);
  // OPTIONS with Max-Forwards: 0 (ApplyMaxForwards): 200 with Allow; every
  // TRACE (RunRequestFilters, before the filters): 405 with Allow. Answered
  // by kProxy, never forwarded.
  void AnswerAsFinalRecipient();
  // The proxy's own error page (HTML or JSON by Accept), answered by kProxy.
  void WriteErrorPage(int status, bool force_close);
  void WriteLocalResponse(int status, HeaderList& headers, const std::string& body,
                          bool force_close);
  void WriteLocalResponse(int status, HeaderList& headers, const LocalBody& body, bool force_close);
  // Writes response_ (with `extra_lines`, e.g. Date), the body's fixed
  // fields and `body` (null: none, HEAD) straight to the socket
  // (ClientConnection::WriteNow, in the current callback): body pieces of
  // kReferencedPieceMin bytes or more are not copied (LocalBody::Gather),
  // the rest is copied once onto the stack. False, with nothing written,
  // when the connection cannot write now, the reply is over
  // kDirectCopyMax bytes or the body cannot gather; WriteLocalBuffered then
  // copies the serialized head and the body into the output buffer (false
  // there: the body could not be written).
  bool WriteLocalDirect(std::string_view extra_lines, std::string_view fixed,
                        const LocalBody* body);
  bool WriteLocalBuffered(std::string& head, std::string_view fixed, const LocalBody* body);
  static constexpr int kMaxBodyPieces = 16;
  static constexpr size_t kReferencedPieceMin = 1024;
  static constexpr size_t kDirectCopyMax = 16 * 1024;
  void Finish(bool keep_alive);
  void LogExchange();
  void Reset();
  // Tells every filter of the exchange it ends (StreamFilter::OnDestroy).
  void EndFilters();
  bool ClientWantsKeepAlive() const;
  // The unread rest of the request body may be discarded to keep the
  // connection (kMaxDiscardBytes; never after an unanswered 100-continue).
  bool BodyLeftIsDiscardable() const;

  // ---- request side (stream_request.cc) ----
  void StartUpstream(bool allow_pooled);
  // Takes a connection from the pool (pooled when `allow_pooled` and one is
  // idle) and begins the exchange on it; false, after the proxy's 502,
  // when no socket could be made.
  bool BeginUpstream(bool allow_pooled);
  // The server chosen could not be reached: `unsent` (the request so far,
  // taken from that connection) goes to the next server the pool picks.
  void ResendUpstream(evbuffer* unsent);
  void WriteRequestHead();
  // The request was read whole: its last chunk (if chunked) goes to the
  // origin, and the response deadline starts.
  void QueueRequestEnd();
  // "100 Continue" to the client, once, when it asked for it and the body
  // is about to be read.
  void SendContinueIfExpected();
  bool request_chunked() const { return request_.framing == BodyFraming::kChunked; }

  // ---- response side (stream_response.cc) ----
  // Tells every filter what the origin did (StreamFilter::OnUpstreamOutcome).
  void ReportUpstreamOutcome(UpstreamOutcome::Kind kind, int status);
  // Picks out_framing_ for the client and adds its framing header.
  void SelectClientFraming();
  // Frames and writes response_'s head to the client.
  void SendResponseHead();
  // Runs the body filters on body_scratch_; false when one aborted (the
  // exchange is then over).
  bool FilterResponseBody(bool end_stream);
  // True when a body filter holds the response head (HoldResponseHead).
  bool FiltersHoldHead();
  // While the head is held: keeps the filtered piece in held_response_ and
  // returns false; once no filter holds it (always at end_stream), sends the
  // head and the held bytes and returns true.
  bool ReleaseHeldHead(bool end_stream);
  void WriteResponseBody(evbuffer* body);
  // A body filter called AbortResponse(): drop the upstream; the proxy's
  // 502 when no byte of the response reached the client, else close the
  // client connection without the message's end.
  void AbortFromFilter();
  // Behind a front of [server].trusted_proxies: info_ takes the client's
  // address and scheme it reports.
  void TakeClientFromFront(const config::ServerConfig& server);
  // The origin's response cannot be completed and its head was handed to
  // the client connection (head_sent): when no byte of it has been written
  // yet, takes the queued bytes back (ClientConnection::TakeBackUnsent) and
  // returns true, so the exchange may still answer with an error page.
  // False, with nothing changed, otherwise.
  bool TakeBackUnsentResponse();

  ClientConnection& connection_;
  Worker& worker_;
  StreamInfo info_;
  // The client's address a trusted front reported ([server].trusted_proxies,
  // proxy/client_address.h), which info_.client_ip then views; empty when
  // the connection's peer is the client.
  std::string forwarded_client_ip_;
  const Snapshot* snapshot_ = nullptr;

  Phase phase_ = Phase::kIdle;
  RequestHead request_;
  ResponseHead response_;
  std::vector<std::unique_ptr<StreamFilter>> filters_;
  size_t next_filter_ = 0;
  EvbufferPtr body_scratch_;   // only when a filter rewrites the response body
  EvbufferPtr held_response_;  // filtered body while a filter holds the head
  // Request body bytes read while the filters hold the request (at most a
  // buffering filter's bound plus one read); forwarded first on upstream start.
  EvbufferPtr held_body_;
  size_t buffer_limit_ = 0;
  std::function<void(const evbuffer*, bool)> on_body_ready_;  // set: a filter is buffering

  std::unique_ptr<UpstreamConnection> upstream_;
  size_t server_index_ = 0;
  RequestFlags req_;
  ResponseFlags resp_;
  OutFraming out_framing_ = OutFraming::kNone;
  int status_ = 0;
  Answerer answered_by_ = Answerer::kProxy;
  uint64_t request_bytes_ = 0;
  uint64_t response_bytes_ = 0;
  std::chrono::system_clock::time_point start_wall_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point upstream_start_;
  // When the request's last byte so far was handed to the origin connection
  // (UpstreamOutcome::time_to_headers starts there).
  std::chrono::steady_clock::time_point request_sent_;
  std::chrono::steady_clock::time_point upstream_end_;
};

}  // namespace tidegate::proxy
