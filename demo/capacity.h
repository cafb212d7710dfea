// CapacityGate: makes the demo shop behave like a real shop with a fixed
// capacity, for the surge benchmark (benches/run_surge.sh).
//
//   demo_shop --capacity N --service-time 20ms [--backlog K] [--max-wait 2s]
//
// Model: the shop has N workers. A request takes a free worker for
// `service_time` (a libevent timer: the loop never sleeps), then is answered
// by the ordinary route handler. With every worker busy the request waits in
// a FIFO backlog, so latency grows with the load, as in a real shop. A shop
// that is too far behind fails: a request arriving when K requests already
// wait, or whose turn comes after it waited longer than `max_wait`, is
// answered `503` at once (Retry-After: 1), without using a worker. Every
// response that went through the gate carries `Demo-Shop-Wait-Ms` (time
// spent waiting for a worker) so a load generator can tell the origin's own
// queueing from the network and any proxy in front.
//
// Thread: construct, use and destroy on the thread that runs `base`.
// Ownership: borrows `base`; a request given to Submit() belongs to the gate
// until it is handed to `serve` or answered 503. Requests whose client left
// while they waited (evhttp detached them) are freed here, never served.
#ifndef TIDEGATE_DEMO_CAPACITY_H_
#define TIDEGATE_DEMO_CAPACITY_H_

#include <event2/event.h>
#include <event2/http.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace tidegate::demo {

struct CapacityOptions {
  int workers = 0;  // concurrent requests in service; 0 = gate off
  std::chrono::milliseconds service_time{0};
  long backlog = -1;                      // waiting requests before 503; -1 = unlimited
  std::chrono::milliseconds max_wait{0};  // 0 = wait as long as it takes
};

// Parses "20ms", "2s", "0" (milliseconds); nullopt-like false on error.
bool ParseMilliseconds(const std::string& text, std::chrono::milliseconds* out);

class CapacityGate {
 public:
  using Serve = std::function<void(evhttp_request*)>;

  // `options.workers` must be >= 1.
  CapacityGate(event_base* base, CapacityOptions options, Serve serve);
  // Drops whatever waits or is in service (see DropAll).
  ~CapacityGate();
  CapacityGate(const CapacityGate&) = delete;
  CapacityGate& operator=(const CapacityGate&) = delete;

  // Takes the request: served after a worker is free for service_time, or
  // refused with 503 (backlog full, or waited past max_wait).
  void Submit(evhttp_request* req);

  // Forgets every waiting or in-service request without answering it (on
  // shutdown, before evhttp_free(), which frees the ones still attached).
  void DropAll();

  int busy() const { return busy_; }
  size_t waiting() const { return waiting_.size(); }
  uint64_t refused() const { return refused_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Waiter {
    evhttp_request* req;
    Clock::time_point since;
  };
  struct Slot {
    CapacityGate* owner;
    uint64_t id;
    evhttp_request* req;
    long long waited_ms;
    event* timer;
  };

  void StartService(evhttp_request* req, long long waited_ms);
  void Refuse(evhttp_request* req, const char* why);
  void Pump();
  static void OnServiceDone(evutil_socket_t, short, void* arg);

  event_base* base_;
  CapacityOptions options_;
  Serve serve_;
  int busy_ = 0;
  uint64_t next_id_ = 1;
  uint64_t refused_ = 0;
  std::deque<Waiter> waiting_;
  std::unordered_map<uint64_t, std::unique_ptr<Slot>> in_service_;
};

}  // namespace tidegate::demo

#endif  // TIDEGATE_DEMO_CAPACITY_H_
