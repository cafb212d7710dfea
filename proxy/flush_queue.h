// Batches socket writes: code that adds bytes to an output buffer schedules
// the owner; the queue flushes every scheduled owner once, right after the
// current callback, in the same event-loop iteration. Plain sockets are then
// written directly (no EPOLLOUT registration unless the kernel buffer is
// full), which saves two epoll_ctl calls per response.
//
// Contract: one queue per worker, worker thread only. A Flushable that is
// closed or destroyed must call Cancel() first (it may be scheduled).
#pragma once

#include <event2/event.h>

#include <algorithm>
#include <vector>

#include "proxy/libevent_handles.h"

namespace tidegate::proxy {

class Flushable {
 public:
  virtual ~Flushable() = default;
  // Writes what the output buffer holds (called by the FlushQueue).
  virtual void Flush() = 0;

 private:
  friend class FlushQueue;
  bool flush_scheduled_ = false;
};

class FlushQueue {
 public:
  explicit FlushQueue(event_base* base)
      : event_(event_new(base, -1, 0, &FlushQueue::OnEvent, this)) {}
  FlushQueue(const FlushQueue&) = delete;
  FlushQueue& operator=(const FlushQueue&) = delete;

  void Schedule(Flushable* f) {
    if (f->flush_scheduled_) return;
    f->flush_scheduled_ = true;
    if (pending_.empty() && !running_) event_active(event_.get(), EV_TIMEOUT, 0);
    pending_.push_back(f);
  }
  void Cancel(Flushable* f) {
    if (!f->flush_scheduled_) return;
    f->flush_scheduled_ = false;
    std::replace(pending_.begin(), pending_.end(), f, static_cast<Flushable*>(nullptr));
  }
  // Runs every scheduled flush, including those scheduled meanwhile.
  void Run() {
    running_ = true;
    for (size_t i = 0; i < pending_.size(); ++i) {
      Flushable* f = pending_[i];
      if (f == nullptr) continue;
      pending_[i] = nullptr;
      f->flush_scheduled_ = false;
      f->Flush();
    }
    pending_.clear();
    running_ = false;
  }

 private:
  static void OnEvent(evutil_socket_t, short, void* arg) { static_cast<FlushQueue*>(arg)->Run(); }

  EventPtr event_;
  std::vector<Flushable*> pending_;
  bool running_ = false;
};

}  // namespace tidegate::proxy
