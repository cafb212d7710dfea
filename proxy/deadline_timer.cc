#include "proxy/deadline_timer.h"

#include <sys/time.h>

namespace tidegate::proxy {

DeadlineTimer::DeadlineTimer(event_base* base, Callback callback, void* arg)
    : event_(evtimer_new(base, &DeadlineTimer::OnTimer, this)), callback_(callback), arg_(arg) {}

void DeadlineTimer::Arm(std::chrono::milliseconds timeout) {
  const Clock::time_point now = Clock::now();
  deadline_ = now + timeout;
  // A pending timer that fires no later than the new deadline will re-arm
  // itself for the rest: nothing to tell libevent.
  if (fires_at_ != kNone && fires_at_ <= deadline_) return;
  AddUntil(deadline_, now);
}

void DeadlineTimer::AddUntil(Clock::time_point deadline, Clock::time_point now) {
  // Round up to the microsecond: a timer that fires a fraction early costs
  // a second wake-up for nothing.
  auto left = std::chrono::ceil<std::chrono::microseconds>(deadline - now);
  if (left.count() < 0) left = std::chrono::microseconds(0);
  timeval tv;
  tv.tv_sec = static_cast<time_t>(left.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(left.count() % 1000000);
  evtimer_add(event_.get(), &tv);
  fires_at_ = deadline;
  ++adds_;
}

void DeadlineTimer::OnTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<DeadlineTimer*>(arg);
  self->fires_at_ = kNone;
  if (self->deadline_ == kNone) return;  // cleared since: stop
  const Clock::time_point now = Clock::now();
  if (now < self->deadline_) {  // moved later since: wait for the rest
    self->AddUntil(self->deadline_, now);
    return;
  }
  self->deadline_ = kNone;
  self->callback_(self->arg_);
}

}  // namespace tidegate::proxy
