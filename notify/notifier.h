// Webhook subscribers ([[notify.webhooks]], docs/webhooks.md):
// turns the changes this instance applies into events
// (notify/event.h), puts one delivery per subscriber in the durable outbox
// (notify/outbox.h) and delivers them — signed (notify/signature.h), with
// exponential backoff for [notify].give_up_after (24 h by default), from
// the control thread's event loop (notify/http_poster.h), never from a
// worker and never in the way of a request.
//
// Every second the outbox is also asked to heal (Outbox::Heal: a Redis
// restarted empty gets this instance's pending deliveries written back;
// counted, and logged at warn level as notify.outbox_restored).
//
// A control-thread timer (every second) also finds open incidents whose
// promised next update has passed: it counts them (/metrics) and queues
// incident.update_overdue once per promise — with Redis, once across every
// instance (Outbox::MarkOnce is a SET NX).
//
// Contract: control thread only (every method, every callback). Borrows
// `base`, `time` and whatever `state` reads (all must outlive it). The
// outbox is made on first need (a subscriber configured, at start or after a
// reload) by the factory. Destroying the notifier abandons POSTs in flight:
// their deliveries stay in the outbox and are attempted again (after the
// lease with Redis, at the next start locally).
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/time_source.h"
#include "config/config.h"
#include "notify/event.h"
#include "notify/http_poster.h"
#include "notify/outbox.h"
#include "proxy/libevent_handles.h"
#include "state/runtime_state.h"

namespace tidegate::notify {

class Notifier {
 public:
  struct Counters {
    std::map<std::string, uint64_t> events_by_type;  // events this instance raised
    uint64_t delivered_total = 0;                    // 2xx answers
    uint64_t retried_total = 0;                      // failed attempts, to be retried
    uint64_t failed_total = 0;                       // deliveries given up
    uint64_t outbox_errors_total = 0;                // outbox reads/writes that failed
    int64_t outbox_pending = -1;                     // last known; -1 = unknown (no outbox)
    uint64_t overdue_total = 0;          // promised updates this instance saw become late
    uint64_t overdue_now = 0;            // open incidents whose update is late now
    uint64_t outbox_restored_total = 0;  // written back to an outbox that lost them (Outbox::Heal)
  };
  using StateSource = std::function<std::shared_ptr<const state::RuntimeState>()>;
  using Logger = std::function<void(std::string_view key, std::string_view message)>;
  using OutboxFactory = std::function<std::unique_ptr<Outbox>()>;

  // The factory the binary uses: RedisOutbox with [state].backend = "redis",
  // else LocalOutbox in `state_folder` (warnings about a corrupt file go to
  // `warn`; an unusable folder yields a memory-only outbox and a warning).
  static OutboxFactory DefaultOutboxFactory(event_base* base,
                                            std::shared_ptr<const config::Config> config,
                                            std::string state_folder, Logger warn);

  Notifier(event_base* base, std::shared_ptr<const config::Config> config,
           const common::TimeSource& time, StateSource state, OutboxFactory outboxes, Logger warn);
  ~Notifier();

  // Starts the one-second timer (overdue checks, due deliveries).
  void Start();
  // SIGHUP: new subscribers, secrets and timings apply to the next attempt.
  void Reconfigure(std::shared_ptr<const config::Config> config);
  // One change applied by this instance (admin/observed_store.h).
  void OnApplied(const state::RuntimeState& before, const state::RuntimeState& after);
  // What the timer does every second (public for tests).
  void Tick();
  // GET /v1/notify's JSON.
  void Status(std::function<void(nlohmann::json)> reply);

  const Counters& counters() const { return counters_; }

 private:
  std::vector<Delivery> DeliveriesFor(const Event& event) const;
  std::vector<Delivery> Ordered(std::vector<Delivery> deliveries);
  void Enqueue(std::vector<Delivery> deliveries);
  void CheckOverdue(common::TimePoint now);
  void ClaimDue();
  void Heal();
  void Attempt(Delivery delivery);
  void Attempted(Delivery delivery, const HttpPoster::Result& result);
  Outbox* outbox();
  void OutboxDone(bool ok, const std::string& error);
  void Warn(std::string_view key, const std::string& message);
  int64_t NowMs() const;

  event_base* base_;
  std::shared_ptr<const config::Config> config_;
  const common::TimeSource& time_;
  StateSource state_;
  OutboxFactory make_outbox_;
  Logger warn_;
  Counters counters_;
  std::vector<Delivery> unsent_;          // Add() failed (Redis down): retried every tick
  std::set<std::string> overdue_seen_;    // "<incident>@<promised unix>" counted here
  std::set<std::string> overdue_marked_;  // … whose event was queued (or deduplicated)
  bool claiming_ = false;
  bool healing_ = false;
  int64_t last_order_ms_ = 0;  // Ordered(): the last first-attempt time given
  int64_t last_warning_ = 0;   // unix seconds; outbox warnings at most every 10 s
  std::minstd_rand random_;
  proxy::EventPtr timer_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<HttpPoster> poster_;  // last: destroyed first
};

}  // namespace tidegate::notify
