// Responses that outlive the request handler: delayed replies (/slow) and
// bodies streamed piece by piece (/bytes, /chunked with a large n).
//
// evhttp keeps an unanswered request alive when its client goes away (it
// detaches the request from the dead connection and leaves it to us), so
// every pending response is tied to its connection's close callback: when
// the client disconnects first, the timer or stream is cancelled and the
// detached request is freed here. Nothing blocks the event loop.
//
// Thread: everything runs on the loop thread of `base`.
// Ownership: the object owns its timers and stream state; a request handed
// to After() or Stream() must not be touched by the caller again.
#ifndef TIDEGATE_DEMO_PENDING_RESPONSES_H_
#define TIDEGATE_DEMO_PENDING_RESPONSES_H_

#include <event2/event.h>
#include <event2/http.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace tidegate::demo {

class PendingResponses {
 public:
  // Completes the request (must call one of evhttp's send functions).
  using Responder = std::function<void(evhttp_request*)>;
  // Appends bytes [offset, offset + length) of the streamed body to `out`.
  using BodyFiller = std::function<void(std::string* out, uint64_t offset, size_t length)>;

  explicit PendingResponses(event_base* base);
  // Drops whatever is still pending (see DropAll).
  ~PendingResponses();
  PendingResponses(const PendingResponses&) = delete;
  PendingResponses& operator=(const PendingResponses&) = delete;

  // Calls `respond(req)` after `delay`, unless the client disconnects first.
  void After(evhttp_request* req, std::chrono::milliseconds delay, Responder respond);

  // Starts a 200 response and streams `total` bytes produced by `fill`, one
  // piece of at most `piece_size` bytes at a time, each piece written only
  // after the previous one left the socket (no unbounded buffering). The
  // caller sets the response headers first; with a Content-Length header the
  // body is sent as is, without one evhttp uses chunked encoding (HTTP/1.1).
  void Stream(evhttp_request* req, uint64_t total, size_t piece_size, BodyFiller fill);

  // Cancels every pending response without answering it. Call before
  // evhttp_free(), which then frees the requests still on live connections.
  void DropAll();

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    PendingResponses* owner = nullptr;
    uint64_t id = 0;
    evhttp_request* req = nullptr;
    evhttp_connection* conn = nullptr;
    event* timer = nullptr;
    Responder respond;
    BodyFiller fill;
    uint64_t total = 0;
    uint64_t sent = 0;
    size_t piece_size = 0;
  };

  Entry* Add(evhttp_request* req);
  void Remove(uint64_t id);
  void SendNextPiece(Entry* entry);
  static void OnTimer(evutil_socket_t, short, void* arg);
  static void OnPieceSent(evhttp_connection*, void* arg);
  static void OnConnectionClose(evhttp_connection* conn, void* arg);

  event_base* base_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Entry>> entries_;
};

}  // namespace tidegate::demo

#endif  // TIDEGATE_DEMO_PENDING_RESPONSES_H_
