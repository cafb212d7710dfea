// What a worker gives the filters running on it: its event loop, its index
// and the clock. A filter reads it through FilterCallbacks::worker() instead of
// being handed a raw event_base*.
//
// Contract: one WorkerContext per worker, owned by the Worker and alive as
// long as it; immutable once the worker runs. Its members are for the worker
// thread only (the loop must not be touched from another thread).
#pragma once

#include "common/time_source.h"

struct event_base;

namespace tidegate::proxy {

struct WorkerContext {
  // The worker's event loop: asynchronous work of a filter (a store reply)
  // completes on it.
  event_base* loop = nullptr;
  // The worker's index, 0 … workers-1 (per-worker slots, access log).
  int index = 0;
  // The clock (wall and monotonic) for a filter that reads time per request
  // on the worker; never null. The real clock (common::SystemTime()) unless
  // a test sets a common::FakeTimeSource, which must then outlive the
  // context. (The features built per snapshot — banner, status page,
  // maintenance gate, waiting room — are handed main()'s TimeSource by
  // app/filter_chain.cc instead.)
  const common::TimeSource* time = &common::SystemTime();
};

}  // namespace tidegate::proxy
