// One deadline per connection over a libevent timer that is re-armed lazily.
//
// What: Arm(timeout) sets the deadline to now + timeout, replacing any
// earlier one; Disarm() clears it; the callback runs once, on the base's
// loop, after the current deadline passed. A keep-alive exchange arms and
// clears its connection's deadline several times (header, body, response,
// idle). Plain evtimer_add / evtimer_del did that with one libevent call each
// (about 4 adds and 5 deletes per proxied request, ~2.4k instructions with
// the base lock). Here the libevent timer stays pending across Disarm and
// across later deadlines: Arm only calls evtimer_add when no timer is pending
// or the new deadline is earlier than the pending one; a timer that fires
// before the deadline re-arms itself for the rest, one that fires with no
// deadline stops. So the callback never runs early and never for a cleared
// deadline; it may run up to libevent's timer resolution late, like before.
//
// Ownership: owns its event (freed, hence removed, with the object); `arg`
// is not owned. Threads: the base's loop thread only, like the connection.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstdint>

#include "proxy/libevent_handles.h"

namespace tidegate::proxy {

class DeadlineTimer {
 public:
  using Clock = std::chrono::steady_clock;
  using Callback = void (*)(void* arg);

  DeadlineTimer(event_base* base, Callback callback, void* arg);
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  void Arm(std::chrono::milliseconds timeout);
  void Disarm() { deadline_ = kNone; }
  bool armed() const { return deadline_ != kNone; }

  // How many times the libevent timer was (re)added: for tests and profiles.
  uint64_t libevent_adds() const { return adds_; }

 private:
  static constexpr Clock::time_point kNone = Clock::time_point::max();

  static void OnTimer(evutil_socket_t, short, void* arg);
  void AddUntil(Clock::time_point deadline, Clock::time_point now);

  EventPtr event_;
  Callback callback_;
  void* arg_;
  Clock::time_point deadline_ = kNone;  // what the owner asked for
  Clock::time_point fires_at_ = kNone;  // when the pending libevent timer fires
  uint64_t adds_ = 0;
};

}  // namespace tidegate::proxy
