// A simulated shop behind a waiting room, for the auto-protection
// controller's tests (protect_controller_test.cc). Deterministic (fixed
// seed), event-driven, simulated time only.
//
// * Shoppers arrive at `arrivals_per_second` and wait in line. Every tick
//   (250 ms) the door admits as the room would: a token bucket refilled at
//   the effective new_users_per_minute (5 s burst), never beyond the
//   effective total_active_users.
// * An admitted shopper browses: a request, the response, `think` seconds,
//   the next request; after `pages` responses the session ends (an order,
//   unless one of its pages failed).
//   Closed loop: a slow shop slows its shoppers down, as in life.
// * The origin has `workers` workers taking `service` each (±10 %); with all
//   busy a request waits in FIFO; a request that waited more than
//   `max_wait`, or finds `backlog` requests waiting, gets a 503 at once.
//   `error_share` of the requests in [error_from, error_until) fail with a
//   503 whatever the load (a database failover). At `halve_at` the workers
//   are halved.
// * Protection on: every response is a sample in an OriginHealthWindow and
//   the controller runs at every tick; off: the ceilings apply as they are.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <random>
#include <vector>

#include "queue/protect_controller.h"
#include "queue/protect_health.h"

namespace tidegate::queue::sim {

struct ShopModel {
  int workers = 4;
  int64_t service_ms = 50;
  int64_t max_wait_ms = 2'000;
  size_t backlog = 400;
  int64_t halve_at_ms = -1;  // -1: never
  int64_t error_from_ms = -1;
  int64_t error_until_ms = -1;
  double error_share = 0;
};

struct CrowdModel {
  double arrivals_per_second = 30;
  int64_t think_ms = 1'000;
  int pages = 8;
  int64_t start_ms = 0;  // the first arrival (where the surge falls against the ticks)
  uint64_t seed = 42;    // the simulation's random numbers (arrivals, service times)
};

// One tick's view, for assertions.
struct TickRecord {
  int64_t now_ms = 0;
  int64_t active = 0;
  uint64_t queued = 0;
  ProtectLimits limits;
  ProtectMove move = ProtectMove::kNone;
  int direction = 0;
  bool decided = false;
  OriginHealth health;  // the last 2 s, all samples
};

struct Totals {
  uint64_t requests = 0;
  uint64_t errors = 0;
  uint64_t sessions_done = 0;
  uint64_t orders = 0;                // sessions none of whose pages failed
  std::vector<int64_t> latencies_ms;  // every response's
  double error_share() const { return requests ? double(errors) / requests : 0; }
  int64_t Percentile(double q) const {
    if (latencies_ms.empty()) return 0;
    std::vector<int64_t> v = latencies_ms;
    size_t k = std::min(v.size() - 1, static_cast<size_t>(q * v.size()));
    std::nth_element(v.begin(), v.begin() + k, v.end());
    return v[k];
  }
};

class Simulation {
 public:
  Simulation(ShopModel shop, CrowdModel crowd, ProtectCeilings ceilings, bool protect,
             ProtectSettings settings = {})
      : shop_(shop),
        crowd_(crowd),
        ceilings_(ceilings),
        protect_(protect),
        controller_(settings),
        rng_(crowd.seed),
        next_arrival_ms_(crowd.start_ms) {}

  // Runs until `until_ms` (simulated); `on_tick` sees every tick.
  void Run(int64_t until_ms, const std::function<void(const TickRecord&)>& on_tick = nullptr) {
    while (now_ms_ < until_ms) {
      int64_t next_event = events_.empty() ? INT64_MAX : events_.top().at_ms;
      int64_t next = std::min({next_event, next_tick_ms_, next_arrival_ms_, until_ms});
      now_ms_ = next;
      if (next == next_arrival_ms_) {
        ++line_;
        std::exponential_distribution<double> gap(crowd_.arrivals_per_second / 1000.0);
        next_arrival_ms_ = now_ms_ + std::max<int64_t>(1, static_cast<int64_t>(gap(rng_)));
      } else if (next == next_tick_ms_) {
        Tick(on_tick);
        next_tick_ms_ += 250;
      } else if (next == next_event) {
        Event e = events_.top();
        events_.pop();
        Handle(e);
      }
    }
  }

  const Totals& totals() const { return totals_; }
  const ProtectController& controller() const { return controller_; }
  OriginHealthWindow& window() { return window_; }
  int64_t active() const { return active_; }

 private:
  enum class Kind { kRequest, kServiceDone, kResponse };
  struct Event {
    int64_t at_ms;
    uint64_t seq;
    Kind kind;
    int shopper_pages_left;
    int64_t sent_ms;
    bool error;
    bool spoiled;  // an earlier page of this session failed
    bool operator>(const Event& o) const {
      return at_ms != o.at_ms ? at_ms > o.at_ms : seq > o.seq;
    }
  };
  struct Waiting {
    int64_t since_ms;
    int pages_left;
    bool spoiled;
  };

  void Push(int64_t at, Kind kind, int pages_left, int64_t sent = 0, bool error = false,
            bool spoiled = false) {
    events_.push(Event{at, seq_++, kind, pages_left, sent, error, spoiled});
  }

  int Workers() const {
    int w = shop_.workers;
    if (shop_.halve_at_ms >= 0 && now_ms_ >= shop_.halve_at_ms) w = std::max(1, w / 2);
    return w;
  }

  void StartService(int pages_left, int64_t sent, bool spoiled) {
    ++busy_;
    std::uniform_real_distribution<double> jitter(0.9, 1.1);
    auto took = static_cast<int64_t>(shop_.service_ms * jitter(rng_));
    Push(now_ms_ + took, Kind::kServiceDone, pages_left, sent, false, spoiled);
  }

  void Handle(const Event& e) {
    switch (e.kind) {
      case Kind::kRequest: {
        if (protect_) window_.Begin(now_ms_);  // in flight until its response
        bool failing = now_ms_ >= shop_.error_from_ms && now_ms_ < shop_.error_until_ms;
        std::uniform_real_distribution<double> u(0, 1);
        if (failing && u(rng_) < shop_.error_share) {
          Push(now_ms_ + 5, Kind::kResponse, e.shopper_pages_left, now_ms_, true, e.spoiled);
        } else if (busy_ < Workers()) {
          StartService(e.shopper_pages_left, now_ms_, e.spoiled);
        } else if (waiting_.size() >= shop_.backlog) {
          Push(now_ms_ + 1, Kind::kResponse, e.shopper_pages_left, now_ms_, true, e.spoiled);
        } else {
          waiting_.push_back({now_ms_, e.shopper_pages_left, e.spoiled});
        }
        break;
      }
      case Kind::kServiceDone: {
        --busy_;
        Push(now_ms_, Kind::kResponse, e.shopper_pages_left, e.sent_ms, false, e.spoiled);
        // After the halving, a freed worker beyond the new count retires.
        while (!waiting_.empty() && busy_ < Workers()) {
          Waiting w = waiting_.front();
          waiting_.pop_front();
          if (now_ms_ - w.since_ms > shop_.max_wait_ms) {
            Push(now_ms_, Kind::kResponse, w.pages_left, w.since_ms, true, w.spoiled);
            continue;
          }
          StartService(w.pages_left, w.since_ms, w.spoiled);
        }
        break;
      }
      case Kind::kResponse: {
        int64_t latency = now_ms_ - e.sent_ms;
        ++totals_.requests;
        if (e.error) ++totals_.errors;
        totals_.latencies_ms.push_back(latency);
        if (protect_) {
          // As RoomProtection: no longer in flight; a sample slower than the
          // target is accounted when it crossed the target.
          window_.End(e.sent_ms);
          int64_t target = controller_.settings().target_latency_ms;
          window_.Record(latency > target ? e.sent_ms + target : now_ms_, latency * 1000, e.error);
        }
        all_.Record(now_ms_, latency * 1000, e.error);
        if (e.shopper_pages_left <= 1) {
          --active_;
          ++totals_.sessions_done;
          if (!e.spoiled && !e.error) ++totals_.orders;
        } else {
          Push(now_ms_ + crowd_.think_ms, Kind::kRequest, e.shopper_pages_left - 1, 0, false,
               e.spoiled || e.error);
        }
        break;
      }
    }
  }

  void Tick(const std::function<void(const TickRecord&)>& on_tick) {
    TickRecord r;
    r.now_ms = now_ms_;
    ProtectLimits limits{ceilings_.total_active_users, ceilings_.new_users_per_minute};
    if (protect_) {
      ProtectObservation seen;
      seen.now_ms = now_ms_;
      int64_t since = controller_.state().settle_until_ms;
      int64_t slow = controller_.settings().target_latency_ms;
      seen.health = window_.Read(now_ms_, OriginHealthWindow::kWindowMillis, since, slow);
      seen.recent = window_.Read(now_ms_, ProtectController::kBrakeMillis, since, slow);
      if (seen.recent.samples < ProtectController::kMinSamples) {
        seen.recent = window_.Read(now_ms_, 2 * ProtectController::kBrakeMillis, since, slow);
      }
      seen.active = active_;
      seen.queued = line_;
      seen.serving = served_;
      seen.admitted_per_minute = AdmittedPerMinute();
      r.decided = controller_.Observe(seen, ceilings_);
      limits = controller_.Limits(ceilings_, now_ms_);
      r.move = controller_.state().move;
      r.direction = controller_.state().direction;
    }
    // The door (room_logic's Tick and Arrive, in short).
    double rate_per_ms = limits.new_users_per_minute / 60'000.0;
    credit_ += (now_ms_ - last_door_ms_) * rate_per_ms;
    last_door_ms_ = now_ms_;
    credit_ = std::min(credit_, 5'000 * rate_per_ms);
    while (line_ > 0 && credit_ >= 1 && active_ < static_cast<int64_t>(limits.total_active_users)) {
      --line_;
      ++served_;
      credit_ -= 1;
      ++active_;
      admissions_.push_back(now_ms_);
      Push(now_ms_, Kind::kRequest, crowd_.pages);
    }
    while (!admissions_.empty() && admissions_.front() < now_ms_ - 60'000) admissions_.pop_front();
    r.active = active_;
    r.queued = line_;
    r.limits = limits;
    r.health = all_.Read(now_ms_);
    if (on_tick) on_tick(r);
  }

  double AdmittedPerMinute() const {
    double span = std::min<int64_t>(60'000, std::max<int64_t>(1'000, now_ms_));
    return admissions_.size() * 60'000.0 / span;
  }

  ShopModel shop_;
  CrowdModel crowd_;
  ProtectCeilings ceilings_;
  bool protect_;
  ProtectController controller_;
  OriginHealthWindow window_;  // what the controller sees
  OriginHealthWindow all_;     // the same, for the records (also without protection)
  std::mt19937_64 rng_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  uint64_t seq_ = 0;
  std::deque<Waiting> waiting_;
  int busy_ = 0;
  int64_t now_ms_ = 0;
  int64_t next_tick_ms_ = 0;
  int64_t next_arrival_ms_ = 0;
  uint64_t line_ = 0;
  uint64_t served_ = 0;  // let in from the line so far (the store's serving)
  int64_t active_ = 0;
  double credit_ = 1;
  int64_t last_door_ms_ = 0;
  std::deque<int64_t> admissions_;
  Totals totals_;
};

}  // namespace tidegate::queue::sim
