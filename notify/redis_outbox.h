// The outbox shared by every instance on one Redis ([state].backend =
// "redis"): each delivery is attempted by one instance at a time and
// delivered once, whichever instance made the change.
//
// Keys (one hash slot, "{notify}"):
//   tidegate:{notify}:items   HASH  delivery id → delivery JSON
//   tidegate:{notify}:due     ZSET  delivery id, score = next attempt (unix ms)
//   tidegate:{notify}:failed  LIST  given-up deliveries, newest first (100 kept)
//   tidegate:{notify}:busy    HASH  subscriber key → lease end (unix ms)
//   tidegate:{notify}:mark:…  STRING  MarkOnce (SET NX EX)
// Claim() is one Lua script: the earliest due id (score <= now) of each
// subscriber not busy gets the score now + lease, which is the lease — no
// other instance sees it due until it ends — its subscriber is marked busy
// for as long, and its JSON is returned. Complete/Reschedule/Fail then remove,
// re-score or move them. An instance dying mid-attempt lets its lease run
// out, and another instance attempts the delivery again (at least once).
//
// Contract: as Outbox (control thread; callbacks later from the loop, or
// synchronously with ok = false while Redis is unreachable). Owns its
// connection (redis/redis_connection.h, reconnects by itself).
#pragma once

#include <event2/event.h>

#include <memory>
#include <string>

#include "config/config.h"
#include "notify/outbox.h"
#include "redis/redis_connection.h"
#include "redis/script_runner.h"

namespace tidegate::notify {

class RedisOutbox : public Outbox {
 public:
  static constexpr size_t kMaxFailed = 100;

  // Connects with [state]'s address (or sentinels) and timeout. `prefix`
  // replaces "tidegate:{notify}" (tests).
  RedisOutbox(event_base* base, const config::StateConfig& state,
              std::string prefix = "tidegate:{notify}");

  const char* backend() const override { return "redis"; }
  void Add(std::vector<Delivery> deliveries, Done done) override;
  void Claim(int64_t now_ms, size_t max, int64_t lease_ms,
             std::function<void(Claimed)> done) override;
  void Complete(const Delivery& delivery, Done done) override;
  void Reschedule(const Delivery& delivery, Done done) override;
  void Fail(const Delivery& delivery, Done done) override;
  void MarkOnce(const std::string& key, int64_t ttl_seconds,
                std::function<void(bool ok, bool first)> done) override;
  void List(size_t max, std::function<void(Listing)> done) override;

 private:
  std::string items_, due_, failed_, busy_, mark_;
  redis::ScriptRunner add_, claim_, reschedule_, complete_, fail_, list_;
  std::unique_ptr<redis::RedisConnection> connection_;  // last: destroyed first
};

}  // namespace tidegate::notify
