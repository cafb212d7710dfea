// The durable outbox of webhook deliveries (docs/webhooks.md):
// every delivery is written here before it is attempted and
// leaves only when it was delivered (2xx) or given up ("failed", kept for
// GET /v1/notify). Two implementations:
//
//   LocalOutbox  (notify/local_outbox.h)  a JSON file in [state].path,
//                rewritten atomically at every change: survives a restart.
//   RedisOutbox  (notify/redis_outbox.h)  shared by every instance on the
//                same Redis; Claim() leases a delivery, so each one is
//                attempted by one instance at a time and delivered once.
//
// Contract: control thread only (every method and every callback). Each
// callback is called exactly once, synchronously or later from the loop,
// unless the outbox is destroyed first (then it is dropped).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "notify/delivery.h"

namespace tidegate::notify {

class Outbox {
 public:
  using Done = std::function<void(bool ok, const std::string& error)>;
  struct Claimed {
    bool ok = true;
    std::string error;
    std::vector<Delivery> due;  // leased to the caller
    size_t pending = 0;         // deliveries in the outbox (gauge)
  };
  struct Listing {
    bool ok = true;
    std::string error;
    std::vector<Delivery> pending;  // next attempt first
    std::vector<Delivery> failed;   // most recent first
  };

  virtual ~Outbox() = default;
  virtual const char* backend() const = 0;  // "local" | "redis"

  // Stores `deliveries` (an id already present is kept as it is).
  virtual void Add(std::vector<Delivery> deliveries, Done done) = 0;
  // Up to `max` deliveries due at `now_ms`, each leased for `lease_ms`: no
  // other Claim() returns it before the lease ends (unless it is
  // Rescheduled). A lease that ends (the instance died mid-attempt) makes
  // the delivery due again.
  virtual void Claim(int64_t now_ms, size_t max, int64_t lease_ms,
                     std::function<void(Claimed)> done) = 0;
  // Delivered: removed.
  virtual void Complete(const Delivery& delivery, Done done) = 0;
  // Failed attempt: stored with its new attempts / next_ms / last_error.
  virtual void Reschedule(const Delivery& delivery, Done done) = 0;
  // Given up: removed from the pending ones, added to the failed ones
  // (the most recent 100 are kept).
  virtual void Fail(const Delivery& delivery, Done done) = 0;
  // True for the first caller (of any instance sharing the outbox) to mark
  // `key` within `ttl_seconds`: de-duplicates events every instance detects
  // (incident.update_overdue).
  virtual void MarkOnce(const std::string& key, int64_t ttl_seconds,
                        std::function<void(bool ok, bool first)> done) = 0;
  // What GET /v1/notify shows (at most `max` of each).
  virtual void List(size_t max, std::function<void(Listing)> done) = 0;
  // An outbox kept outside the process can lose what it holds behind the
  // instance's back (Redis restarted empty, flushed): Heal() checks, and
  // writes back the pending deliveries this instance knows of; `restored`
  // is how many were written back (0: nothing was lost). Called every
  // second. The default (the local outbox: nothing to lose) answers
  // (true, "", 0) at once.
  using Healed = std::function<void(bool ok, const std::string& error, size_t restored)>;
  virtual void Heal(Healed done) { done(true, "", 0); }
};

}  // namespace tidegate::notify
