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
// deadline stops. So the callback never runs for a cleared deadline. Arm
// reads CLOCK_MONOTONIC_COARSE (a few ns through the vDSO, against ~30 ns
// for CLOCK_MONOTONIC here; Arm runs about four times per proxied request),
// the timer callback the precise clock (same time base): the callback runs
// at most the coarse resolution (4 ms with HZ=250) before `timeout` has
// passed since Arm, and late only by libevent's own delay. The shipped
// timeouts are seconds long.
//
// Ownership: owns its event (freed, hence removed, with the object); `arg`
// is not owned. Threads: the base's loop thread only, like the connection.
#pragma once

#include <event2/event.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "proxy/libevent_handles.h"

namespace tidegate::proxy {

class DeadlineTimer {
 public:
  using Callback = void (*)(void* arg);

  DeadlineTimer(event_base* base, Callback callback, void* arg);
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  void Arm(std::chrono::milliseconds timeout);
  void Disarm() { deadline_ = kNone; }
  // Moves an armed deadline later by `by`, but never past `at_most` from
  // now (nothing to tell libevent: a timer that fires before the deadline
  // re-arms itself for the rest). The cap keeps credit from piling up: what
  // arrived long ago buys no time now.
  void Extend(std::chrono::nanoseconds by, std::chrono::nanoseconds at_most) {
    if (deadline_ == kNone) return;
    deadline_ = std::min(deadline_ + by.count(), CoarseNowNs() + at_most.count());
  }
  bool armed() const { return deadline_ != kNone; }

  // How many times the libevent timer was (re)added: for tests and profiles.
  uint64_t libevent_adds() const { return adds_; }

 private:
  // Nanoseconds of CLOCK_MONOTONIC_COARSE; kNone = no deadline / no timer.
  static constexpr int64_t kNone = INT64_MAX;
  static int64_t CoarseNowNs();

  static void OnTimer(evutil_socket_t, short, void* arg);
  void AddUntil(int64_t deadline, int64_t now);

  EventPtr event_;
  Callback callback_;
  void* arg_;
  int64_t deadline_ = kNone;  // what the owner asked for
  int64_t fires_at_ = kNone;  // when the pending libevent timer fires
  uint64_t adds_ = 0;
};

}  // namespace tidegate::proxy
