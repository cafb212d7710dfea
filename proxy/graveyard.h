// Deferred destruction for objects that end inside their own callbacks.
//
// Contract: a connection that decides to close (from a libevent callback,
// possibly deep inside a parser callback) hands itself to the graveyard; it
// is destroyed at the start of the next event-loop iteration, after every
// frame that might still use it has returned. Worker thread only.
#pragma once

#include <event2/event.h>

#include <memory>
#include <vector>

#include "proxy/libevent_handles.h"

namespace tidegate::proxy {

class Deletable {
 public:
  virtual ~Deletable() = default;
};

class Graveyard {
 public:
  explicit Graveyard(event_base* base)
      : event_(event_new(base, -1, 0, &Graveyard::OnEvent, this)) {}
  ~Graveyard() { dead_.clear(); }
  Graveyard(const Graveyard&) = delete;
  Graveyard& operator=(const Graveyard&) = delete;

  void Bury(std::unique_ptr<Deletable> object) {
    if (dead_.empty()) event_active(event_.get(), EV_TIMEOUT, 0);
    dead_.push_back(std::move(object));
  }
  // Destroys everything buried so far (also run by the event).
  void Sweep() {
    // Destructors may bury more objects: swap first, loop until quiet.
    while (!dead_.empty()) {
      std::vector<std::unique_ptr<Deletable>> batch;
      batch.swap(dead_);
      batch.clear();
    }
  }

 private:
  static void OnEvent(evutil_socket_t, short, void* arg) { static_cast<Graveyard*>(arg)->Sweep(); }

  EventPtr event_;
  std::vector<std::unique_ptr<Deletable>> dead_;
};

}  // namespace tidegate::proxy
