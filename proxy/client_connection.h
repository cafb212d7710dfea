// One accepted client connection (plain TCP or TLS through
// bufferevent_openssl): reads requests with the codec, one exchange at a time
// in order, enforces the client-side deadlines and limits, and writes
// responses.
//
// Contract: owned by its Worker; worker thread only. Closing never deletes
// the object in place: CloseNow() releases the socket state and hands the
// object to the worker (OnConnectionClosed), which buries it (deferred delete).
// Deadlines (one DeadlineTimer, re-armed lazily: no libevent call per
// request in the keep-alive cycle): new connection → header_timeout for the first
// request; first byte of a request head → header_timeout (absolute); end of
// head → body_timeout (when a body follows; every [server].body_min_rate
// bytes of it received move that deadline 1 s later); between requests →
// keepalive_timeout. Write progress → send_timeout (bufferevent write
// timeout). header_timeout with part of a head read → 408 (Connection:
// close), then close; with no byte of a request (new or keep-alive idle) →
// silent close.
// A request answered locally before its body was read: when the stream kept
// the connection (a small enough body, Stream::kMaxDiscardBytes), the rest
// of the body is read and dropped, bounded in bytes and time
// (Stream::kDiscardTimeout); past either bound, or on a framing error, the
// connection closes after the response is flushed.
// Idle compaction, as nginx frees its buffers at keep-alive: while the
// worker holds more than Worker::kCompactIdleAbove connections, once an
// exchange ended keep-alive, its response is flushed and no byte of a next
// request is buffered, the connection frees its parser and its stream (with
// the heads' storage) and, for plain TCP, hands its bufferevent (both
// buffers) back to the worker (Worker::KeepBufferevent; the socket stays
// open, watched by read_event_). What an idle connection holds is this
// object, its two events and the worker's map entry. The next request byte
// takes them again (Inflate): a pooled bufferevent, a new parser and
// stream (small allocations, served by malloc's thread cache).
// Pipelined requests wait in the input buffer (bounded by a read
// high-watermark) until the previous response is queued. Half-close (FIN):
// every complete request buffered before it is answered, in order; a
// partial one is dropped; then the connection closes after the output is
// flushed. TLS: the end of input closes at once (the TLS layer writes
// nothing after it), the exchange aborted and its origin side released.
// Lingering close (nginx's lingering_close; RFC 9112 §9.6), plain TCP: a
// connection that closes after its answer while the client may still be
// sending (a request head or body not read to its end, pipelined bytes
// buffered or waiting in the socket) does not close(2) with unread input,
// which would send a TCP reset that can destroy the answer in the client's
// receive buffer (a 413 shown as "connection reset"). Once the output is
// flushed it shuts down its write side (the client reads the answer and
// EOF), then reads and drops what the client still sends until the client
// closes, kLingerWait passes without a byte, or kLingerTime has passed in
// all; then it closes. A drain closes a lingering connection at once, and
// a worker near its connection limit closes without lingering. Over
// TLS the same after a close_notify, the client's bytes dropped undecrypted
// (read from the socket by read_event_, the TLS layer stopped).
#pragma once

#include <event2/bufferevent.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <chrono>
#include <memory>
#include <string>

#include "proxy/deadline_timer.h"
#include "proxy/flush_queue.h"
#include "proxy/graveyard.h"
#include "proxy/http1_codec.h"
#include "proxy/libevent_handles.h"
#include "proxy/snapshot.h"
#include "proxy/socket_io.h"
#include "proxy/stream.h"

namespace tidegate::proxy {

class Worker;

class ClientConnection : public Deletable, public Flushable, private Http1Parser::Callbacks {
 public:
  // Takes ownership of `bev` (already set up with the socket or TLS).
  ClientConnection(Worker& worker, bufferevent* bev, const sockaddr* peer, int peer_len, bool tls);
  ~ClientConnection() override;

  void Start();
  // Drain: no request after the current one (answered with `Connection:
  // close`). Between requests: close now when `idle_grace` is zero, else
  // leave the client `idle_grace` to send one last request, then close.
  void OnDrain(std::chrono::milliseconds idle_grace);

  // ---- used by Stream ----
  // The response bytes; using it schedules a flush after the current callback.
  evbuffer* output();
  size_t output_length() {
    return bev_ ? evbuffer_get_length(bufferevent_get_output(bev_.get())) : 0;
  }
  // Flushable: plain sockets are written directly (EPOLLOUT only when full).
  void Flush() override;
  // Writing from the caller's memory, as nginx writes: one writev(2) of
  // what output() already queues (a response head, earlier chunk framing),
  // then the `count` pieces (at most kMaxGatheredPieces); only what the
  // socket does not take stays in, or is copied into, output() (then
  // written by the bufferevent on EPOLLOUT, within send_timeout; a failed
  // socket is reported by that flush, as for any queued byte). Call only
  // when CanWriteThrough(): plain TCP, open, no pending write (the socket
  // took everything so far). CanWriteNow(): the same with nothing queued
  // (a whole local reply).
  bool CanWriteThrough() { return !tls_ && !closing() && bev_ && !plain_.write_pending; }
  bool CanWriteNow() { return CanWriteThrough() && output_length() == 0; }
  void WriteNow(const iovec* pieces, int count);
  // The exchange ended; the response is fully queued to output().
  void OnStreamDone(bool keep_alive);
  // Stop / resume feeding request body bytes (origin output full / drained).
  void ResumeRequestBody();
  // Takes back the last `n` (> 0) bytes queued to output() when none of
  // them has reached the socket yet (they all still wait there, behind what
  // an earlier response may have left): true, and they are gone. False, with
  // nothing changed, when some may have been written (or the output cannot
  // be edited): the client may already be reading that response.
  bool TakeBackUnsent(size_t n);
  // Closes now, discarding queued output (a response cannot be completed).
  void CloseNow();
  int request_version_minor() const { return version_minor_; }
  bool client_eof() const { return eof_; }
  // The client half-closed and no byte of a further request is buffered:
  // the current exchange is the last one.
  bool client_done() { return eof_ && input_length() == 0; }
  const std::string& client_ip() const { return client_ip_; }
  const std::string& client_addr() const { return client_addr_; }
  bool tls() const { return tls_; }

 private:
  // kClosing: no further request; closes (or lingers) once the output is
  // flushed (bounded by send_timeout). kLingering: the answer is out and the
  // write side shut; dropping what the client still sends (see the file
  // comment). kClosed: released, waiting for the worker to bury it.
  enum class Lifecycle { kOpen, kClosing, kLingering, kClosed };
  // Lingering close: the longest quiet wait for the client's next bytes, and
  // the longest lingering in all (nginx's lingering_timeout and
  // lingering_time defaults).
  static constexpr std::chrono::milliseconds kLingerWait{5000};
  static constexpr std::chrono::milliseconds kLingerTime{30000};
  // The request being read. kNew: no request byte yet on this connection (a
  // timeout there is a header timeout); kIdle: between requests.
  enum class RequestState { kNew, kIdle, kHead, kBody, kComplete };
  // The end of the exchange, when the stream reported it while the parser
  // ran (acted on once the parser returned).
  enum class StreamEnd { kNone, kClose, kKeepAlive };

  static void ReadCallback(bufferevent* bev, void* arg);
  static void SocketCallback(evutil_socket_t fd, short what, void* arg);
  static void WriteCallback(bufferevent* bev, void* arg);
  static void EventCallback(bufferevent* bev, short events, void* arg);
  static void TimerCallback(void* arg);

  enum class ParseStep { kMore, kWait, kDone };

  bool closing() const { return life_ != Lifecycle::kOpen; }  // closing or closed
  bool closed() const { return life_ == Lifecycle::kClosed; }
  bool between_requests() const {
    return request_state_ == RequestState::kNew || request_state_ == RequestState::kIdle;
  }
  evbuffer* input() { return bufferevent_get_input(bev_.get()); }
  size_t input_length() { return bev_ ? evbuffer_get_length(input()) : 0; }
  // The exchange's stream, created on first use (and again after
  // compaction).
  Stream& stream();
  bool stream_active() const { return stream_ && stream_->active(); }

  // ---- parsing requests (client_connection_parse.cc) ----
  void ProcessInput();
  void ParseBuffered();
  // May the parser take bytes now (not closing, not waiting for a response
  // or for a blocked body)?
  bool CanParse();
  // Parses one contiguous piece. `from_stack`: the bytes are not in the input
  // buffer (read onto the stack); the unparsed tail is moved there.
  // kMore: go on; kWait: paused, nothing consumed; kDone: stop everything.
  ParseStep ParsePiece(const char* data, size_t len, bool from_stack);
  // A new request's first byte: (re)creates the parser for the current
  // snapshot and starts the absolute header deadline.
  void StartRequest();
  // Acts on what the parser reported during ParsePiece().
  ParseStep AfterParse(size_t consumed, RequestState before);
  void CloseIfClientGone();
  // The client half-closed and no further complete request can arrive: an
  // unfinished exchange is aborted (close now); otherwise close after the
  // queued responses are flushed.
  void CloseAfterEof();
  void HandleStreamDone();
  // The exchange ended keep-alive before the request body was read: read
  // and drop the rest (at most Stream::kMaxDiscardBytes, within
  // Stream::kDiscardTimeout), then serve the next request.
  void StartDiscardingBody();
  // Parses buffered bytes from a fresh callback (not from inside the
  // previous exchange's call stack).
  void ParseLater();

  // ---- socket I/O, events, deadlines, closing (client_connection.cc) ----
  void OnSocketReadable();
  void OnOutputDrained();
  void UpdateReadInterest();
  void StopReading();
  void HandleEvent(short events);
  void HandleEof();
  void HandleTimeout();
  void CloseAfterFlush();
  // Closing, with the output flushed: lingers when the client may still be
  // sending (ClientMaySendMore), else closes now. Idempotent.
  void FinishClose();
  bool ClientMaySendMore();
  void StartLingering();
  // Reads and drops what arrived; closes at the client's end, on an error
  // or past kLingerTime.
  void DiscardWhileLingering();
  // The socket (plain or TLS; never called while compacted).
  evutil_socket_t linger_fd() { return tls_ ? bufferevent_getfd(bev_.get()) : fd_; }
  void ArmTimer(std::chrono::milliseconds timeout);
  // Plain sockets: the bufferevent's callbacks, timeouts and direct-I/O mode.
  void SetUpPlainBufferevent();
  // Idle compaction (see the file comment): when the connection is between
  // requests with nothing buffered either way, frees the parser and the
  // stream and returns the bufferevent; only from a fresh callback (no
  // stream or parser frame on the stack). Inflate() takes a bufferevent for
  // the kept socket (false: none could be made, the connection is closed).
  void MaybeCompact();
  bool Inflate();

  // Http1Parser::Callbacks
  void OnRequestHead(RequestHead&& head) override;
  void OnBody(const char* data, size_t len) override;
  void OnMessageComplete() override;

  Worker& worker_;
  BuffereventPtr bev_;   // buffers; all I/O for TLS, slow-path writes for plain;
                         // null while a plain connection is compacted
  EventPtr read_event_;  // plain sockets: our own reads; TLS: only while lingering
  DeadlineTimer timer_;
  std::unique_ptr<Http1Parser> parser_;       // created with the first request
  std::shared_ptr<const Snapshot> snapshot_;  // the snapshot of the current exchange
  std::unique_ptr<Stream> stream_;            // null until the first request and while compacted
  std::string client_ip_;
  std::string client_addr_;
  bool tls_;
  Lifecycle life_ = Lifecycle::kOpen;
  RequestState request_state_ = RequestState::kNew;
  StreamEnd stream_end_ = StreamEnd::kNone;
  DirectIo plain_;           // plain sockets only: reading = read_event_ is added
  evutil_socket_t fd_ = -1;  // plain sockets only: kept across compaction
  int version_minor_ = 1;
  bool in_execute_ = false;        // the parser runs (its callbacks are on the stack)
  bool message_complete_ = false;  // the parser reported the end of the request
  bool eof_ = false;               // the client half-closed (FIN read)
  bool draining_ = false;          // the worker drains: no request after the current one
  bool discarding_ = false;        // reading the rest of an answered request's body
  uint64_t discarded_ = 0;         // body bytes dropped while discarding_
  std::chrono::steady_clock::time_point linger_end_;  // kLingering: close by then
};

}  // namespace tidegate::proxy
