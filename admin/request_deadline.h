// The admin listener's total request deadline (reliability case 24 on the
// admin port): evhttp only has an idle timeout, which a client dripping one
// header line every few seconds resets forever, pinning a descriptor the
// shop listeners share. This closes such a connection once its request has
// taken longer than the deadline, as the shop listeners' header_timeout does.
//
// Contract:
// * Track() is called with each new connection's bufferevent (plain socket
//   or TLS), from evhttp's bufferevent factory (evhttp_set_bevcb). Bytes
//   arriving in its input start the request's clock; RequestArrived()
//   (called when evhttp hands over the complete request) stops it. Bytes of
//   the next request on a kept-alive connection start it again.
// * A sweep every second closes connections past their deadline the way
//   evhttp's own timeout does (BEV_EVENT_TIMEOUT: closed, no reply), so a
//   request is cut between `deadline` and `deadline` + 1 s.
// * Each tracked bufferevent holds one extra reference, so the sweep may
//   look at it after evhttp let it go (its callbacks are then cleared);
//   the sweep then drops the reference. evhttp has already shut down the
//   socket's sending side by then (the client sees the close at once); the
//   descriptor itself is closed at the drop, within a second.
// * Everything runs on the thread of `base`. The destructor drops every
//   reference (destroy it after evhttp_free).
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <chrono>
#include <memory>

namespace tidegate::admin {

class RequestDeadline {
 public:
  // nullptr when libevent cannot make the sweep timer.
  static std::unique_ptr<RequestDeadline> Start(event_base* base,
                                                std::chrono::milliseconds deadline);
  ~RequestDeadline();
  RequestDeadline(const RequestDeadline&) = delete;
  RequestDeadline& operator=(const RequestDeadline&) = delete;

  // Starts watching `bev` (a new connection's bufferevent); returns it.
  bufferevent* Track(bufferevent* bev);
  // evhttp read a whole request on `bev`: its clock stops.
  void RequestArrived(bufferevent* bev);
  // A new deadline (a reload): the next sweep judges every request in
  // progress by it, as it judges new ones.
  void SetDeadline(std::chrono::milliseconds deadline);

  struct Table;

 private:
  RequestDeadline() = default;
  static void OnSweep(evutil_socket_t, short, void* arg);

  // Closes what is past its deadline, lets go of what evhttp freed.
  void Sweep();

  std::unique_ptr<Table> table_;
  event* sweep_ = nullptr;
};

}  // namespace tidegate::admin
