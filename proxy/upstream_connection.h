// One TCP connection to an origin server, with its response parser.
//
// Contract:
// * Worker thread only. Owned by exactly one of: the stream using it (during
//   an exchange) or the worker's UpstreamPool (idle). Never deleted inside
//   its own callbacks: a connection that is finished with goes to the
//   worker's Graveyard (Discard()).
// * One exchange at a time: Begin() attaches a Handler; response events are
//   delivered to it; after OnUpstreamComplete() or OnUpstreamError() the
//   handler is detached and gets nothing more.
// * Handlers must not destroy the connection from inside a callback; they
//   call Discard() (deferred) or hand it to the pool.
// * Deadlines: connect_timeout (connect), response_timeout (request fully
//   sent → response head complete, absolute), read_timeout (inactivity while
//   reading the body), keep-alive idle timeout while pooled. One
//   DeadlineTimer holds connect/response/idle (re-armed lazily).
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <memory>

#include "proxy/deadline_timer.h"
#include "proxy/flush_queue.h"
#include "proxy/graveyard.h"
#include "proxy/http1_codec.h"
#include "proxy/libevent_handles.h"
#include "proxy/snapshot.h"
#include "proxy/socket_io.h"
#include "proxy/upstream_demand.h"

namespace tidegate::proxy {

enum class UpstreamError {
  kConnectRefused,   // connect failed (refused, unreachable)
  kConnectTimeout,   // connect did not finish in time
  kReset,            // connection closed or reset before any response byte
  kResponseTimeout,  // response head not complete in time
  kReadTimeout,      // no body byte for read_timeout
  kClosedEarly,      // closed or reset in the middle of the response
  kBadResponse,      // response failed the codec's framing checks
};

std::string_view UpstreamErrorName(UpstreamError error);

class UpstreamConnection : public Deletable, public Flushable, private Http1Parser::Callbacks {
 public:
  using Duration = std::chrono::milliseconds;

  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void OnUpstreamResponseHead(ResponseHead&& head) = 0;
    // A `103 Early Hints` interim response arrived (any number of them may
    // precede the final head; other 1xx are skipped unseen). `head` is only
    // valid during the call.
    virtual void OnUpstreamEarlyHints(const ResponseHead& head) { (void)head; }
    virtual void OnUpstreamBody(const char* data, size_t len) = 0;
    // The response ended; reusable() tells whether the connection may be
    // pooled.
    virtual void OnUpstreamComplete() = 0;
    virtual void OnUpstreamError(UpstreamError error) = 0;
    // The output buffer (request bytes) drained: send more body.
    virtual void OnUpstreamDrained() = 0;
  };

  // Told when an idle (pooled) connection dies or expires.
  class IdleOwner {
   public:
    virtual ~IdleOwner() = default;
    virtual void OnIdleConnectionLost(UpstreamConnection* connection) = 0;
    // The origin sent bytes on the idle connection: a response nobody asked
    // for (the connection is lost too).
    virtual void OnIdleStrayBytes(UpstreamConnection* connection) {
      OnIdleConnectionLost(connection);
    }
  };

  UpstreamConnection(event_base* base, Graveyard* graveyard, FlushQueue* flush_queue,
                     size_t server_index, uint64_t pool_generation, const UpstreamServer& server);
  ~UpstreamConnection() override;

  // Starts the non-blocking connect. False when the socket could not even be
  // created (the caller treats it as kConnectRefused).
  bool Connect(Duration connect_timeout);

  // Starts an exchange: the request head (and body) go to output().
  void Begin(Handler* handler, bool head_request, Duration response_timeout, Duration read_timeout);
  // The whole request has been queued to output(): the response deadline
  // starts now.
  void RequestQueued();
  // The request bytes; using it schedules a flush after the current callback.
  evbuffer* output();
  // After a connect failure (kConnectRefused, kConnectTimeout: nothing was
  // sent): moves the request bytes queued so far into `into`, to be sent to
  // another server. Schedules no flush.
  void TakeUnsent(evbuffer* into);
  size_t output_length();
  // Flushable: writes the output directly (EPOLLOUT only when the socket is
  // full).
  void Flush() override;

  // Backpressure from the client side.
  void PauseReading();
  void ResumeReading();

  // Counted as in use (by the pool's UpstreamDemand) until it is pooled
  // again (EnterIdle) or discarded.
  void MarkInUse(DemandToken token) { in_use_ = std::move(token); }

  // Pooled: watch for close and expiry.
  void EnterIdle(IdleOwner* owner, Duration idle_timeout);
  // Detaches everything and buries the connection (deferred delete).
  static void Discard(std::unique_ptr<UpstreamConnection> connection);

  // True after a complete response when the connection may carry another
  // exchange (origin keep-alive, no leftover bytes, request fully sent).
  bool reusable() const;
  bool response_started() const { return exchange_.response_started; }
  bool reused() const { return exchanges_ > 1; }
  // Exchanges begun on this connection, and when its connect began.
  uint64_t exchanges() const { return exchanges_; }
  std::chrono::steady_clock::time_point opened_at() const { return opened_at_; }
  // After a complete response: the origin had sent bytes past its end (it
  // frames its responses wrongly; not reusable).
  bool extra_bytes_after_response() const;
  // During OnUpstreamBody(): true when the `len` body bytes at `data` are
  // the last bytes read so far (nothing the parser could still deliver
  // from this read follows them), so writing them to the client now costs
  // no system call a later flush would not make anyway.
  bool BodyEndsRead(const char* data, size_t len) const { return data + len == read_end_; }
  size_t server_index() const { return server_index_; }
  uint64_t pool_generation() const { return pool_generation_; }
  const std::string& server_text() const { return server_text_; }

 private:
  enum class State { kConnecting, kAwaitingHead, kBody, kDone, kIdle, kClosed };
  // The current exchange (reset by Begin()).
  struct Exchange {
    bool head_request = false;      // a HEAD request: the response has no body
    bool request_queued = false;    // the whole request is in output()
    bool response_started = false;  // a response byte arrived
    bool message_complete = false;  // the parser reported the end of a message
    bool interim_response = false;  // a 1xx is being skipped
    bool keep_alive = false;        // the origin keeps the connection open
  };

  static void SocketCallback(evutil_socket_t fd, short what, void* arg);
  static void WriteCallback(bufferevent* bev, void* arg);
  static void EventCallback(bufferevent* bev, short events, void* arg);
  static void TimerCallback(void* arg);

  // ---- parsing the response (upstream_connection_parse.cc) ----
  void ProcessInput();
  // Parses one contiguous piece. `from_stack`: the bytes are not in the input
  // buffer (read onto the stack); the unparsed tail is moved there. True
  // when parsing may go on with more bytes.
  bool ParsePiece(const char* data, size_t len, bool from_stack);
  // A message ended: skips a 1xx (true: parse on), or completes the exchange
  // and detaches the handler (false).
  bool AfterMessage();
  bool Parsing() const {
    return handler_ != nullptr && !paused_ &&
           (state_ == State::kAwaitingHead || state_ == State::kBody);
  }
  // ---- connect, socket I/O, deadlines, errors (upstream_connection.cc) ----
  void OnSocketEvent(short what);
  void ArmRead(bool with_timeout);
  void DisarmRead();
  void HandleEvent(short events);
  void Fail(UpstreamError error);
  void ArmTimer(Duration timeout);
  void Shutdown();

  // Http1Parser::Callbacks
  void OnResponseHead(ResponseHead&& head) override;
  void OnEarlyHints(const ResponseHead& head) override;
  void OnBody(const char* data, size_t len) override;
  void OnMessageComplete() override;

  event_base* base_;
  Graveyard* graveyard_;
  FlushQueue* flush_queue_;
  const size_t server_index_;
  const uint64_t pool_generation_;
  const std::string server_text_;
  sockaddr_storage addr_;
  socklen_t addr_len_;

  BuffereventPtr bev_;   // buffers, connect and the slow write path
  EventPtr read_event_;  // our own reads (no FIONREAD ioctl), after connect
  DeadlineTimer timer_;
  Http1Parser parser_;
  Handler* handler_ = nullptr;
  IdleOwner* idle_owner_ = nullptr;
  State state_ = State::kConnecting;
  Duration response_timeout_{0};
  Duration read_timeout_{0};
  Duration connect_timeout_{0};
  Exchange exchange_;
  const char* read_end_ = nullptr;  // while parsing: the end of the bytes read so far, when
                                    // the piece being parsed holds them all (else null)
  DirectIo io_;                     // reading: read_event_ is added (with or without a timeout)
  bool paused_ = false;             // the client side is full: not reading
  bool eof_seen_ = false;           // the origin closed, or a write failed
  uint64_t exchanges_ = 0;
  std::chrono::steady_clock::time_point opened_at_;
  DemandToken in_use_;
};

}  // namespace tidegate::proxy
