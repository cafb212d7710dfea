// What a worker gives the filters running on it: its event loop and its
// index. A filter reads it through FilterCallbacks::worker() instead of
// being handed a raw event_base*.
//
// Contract: one WorkerContext per worker, owned by the Worker and alive as
// long as it; immutable once the worker runs. Its members are for the worker
// thread only (the loop must not be touched from another thread).
#pragma once

struct event_base;

namespace tidegate::proxy {

struct WorkerContext {
  // The worker's event loop: asynchronous work of a filter (a store reply)
  // completes on it.
  event_base* loop = nullptr;
  // The worker's index, 0 … workers-1 (per-worker slots, access log).
  int index = 0;
  // Time source: to be added here (a `const common::TimeSource*`, issue 10)
  // once common/time_source.h exists; filters then read the clock from the
  // context instead of std::chrono.
};

}  // namespace tidegate::proxy
