// std::chrono::milliseconds -> struct timeval, for libevent and hiredis
// timeouts (event_add, bufferevent_set_timeouts, redisAsyncSetTimeout).
//
// Contract: pure, thread-safe; `d` is expected to be non-negative.
#pragma once

#include <sys/time.h>

#include <chrono>

namespace tidegate::common {

inline timeval ToTimeval(std::chrono::milliseconds d) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

}  // namespace tidegate::common
