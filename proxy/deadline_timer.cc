#include "proxy/deadline_timer.h"

#include <sys/time.h>
#include <time.h>

namespace tidegate::proxy {

DeadlineTimer::DeadlineTimer(event_base* base, Callback callback, void* arg)
    : event_(evtimer_new(base, &DeadlineTimer::OnTimer, this)), callback_(callback), arg_(arg) {}

namespace {

int64_t NowNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

int64_t DeadlineTimer::CoarseNowNs() { return NowNs(CLOCK_MONOTONIC_COARSE); }

void DeadlineTimer::Arm(std::chrono::milliseconds timeout) {
  const int64_t now = CoarseNowNs();
  deadline_ = now + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  // A pending timer that fires no later than the new deadline will re-arm
  // itself for the rest: nothing to tell libevent.
  if (fires_at_ != kNone && fires_at_ <= deadline_) return;
  AddUntil(deadline_, now);
}

void DeadlineTimer::AddUntil(int64_t deadline, int64_t now) {
  // Round up to the microsecond: a timer that fires a fraction early costs
  // a second wake-up for nothing.
  int64_t left_us = deadline > now ? (deadline - now + 999) / 1000 : 0;
  timeval tv;
  tv.tv_sec = static_cast<time_t>(left_us / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(left_us % 1000000);
  evtimer_add(event_.get(), &tv);
  fires_at_ = deadline;
  ++adds_;
}

void DeadlineTimer::OnTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<DeadlineTimer*>(arg);
  self->fires_at_ = kNone;
  if (self->deadline_ == kNone) return;  // cleared since: stop
  // The precise clock here (rare: once per expiry or moved deadline). The
  // coarse one can stay one tick behind a deadline for up to 4 ms, and
  // re-arming for what it says is left would spin until its next tick.
  // Both read the same clock, CLOCK_MONOTONIC.
  const int64_t now = NowNs(CLOCK_MONOTONIC);
  if (now < self->deadline_) {  // moved later since: wait for the rest
    self->AddUntil(self->deadline_, now);
    return;
  }
  self->deadline_ = kNone;
  self->callback_(self->arg_);
}

}  // namespace tidegate::proxy
