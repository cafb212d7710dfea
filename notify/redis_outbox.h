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
//   tidegate:{notify}:epoch   STRING  names this outbox's life (see Heal)
//   tidegate:{notify}:done    ZSET  ids delivered or given up lately (10,000
//                                   newest, score = unix ms): Add skips them
// Claim() is one Lua script: the earliest due id (score <= now) of each
// subscriber not busy gets the score now + lease, which is the lease — no
// other instance sees it due until it ends — its subscriber is marked busy
// for as long, and its JSON is returned. Complete/Reschedule/Fail then remove,
// re-score or move them. An instance dying mid-attempt lets its lease run
// out, and another instance attempts the delivery again (at least once).
//
// Redis restarted empty (docs/webhooks.md): every instance keeps a bounded
// copy of the pending deliveries it knows of (notify/pending_copy.h: those
// it enqueued or claimed, updated as it reschedules, dropped as it
// completes or gives up). Heal() (every second) runs one script: when the
// epoch key is missing it sets a new epoch; when the epoch is not the one
// this instance last saw (it was missing, or another instance set a new one
// first), this instance writes its copy back (HSETNX by delivery id: what
// another instance wrote back first is kept as it is; an id in `done` —
// delivered since, by whichever instance wrote it back first — is skipped)
// and then remembers the epoch. Under the same epoch, every 10 s, the ids of
// the copy that the outbox no longer holds (delivered or given up by another
// instance) are dropped from the copy. A delivery another instance
// completed before the loss but after this instance's last prune is sent
// again (at least once).
// The failed list (given up, shown by GET /v1/notify) is not written back.
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
#include "notify/pending_copy.h"
#include "redis/redis_connection.h"
#include "redis/script_runner.h"

namespace tidegate::notify {

class RedisOutbox : public Outbox {
 public:
  static constexpr size_t kMaxFailed = 100;
  static constexpr size_t kMaxDone = 10000;

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
  void Heal(Healed done) override;

  size_t copy_size() const { return copy_.size(); }

 private:
  void WriteBack(std::string epoch, Healed done);

  std::string items_, due_, failed_, busy_, mark_, epoch_key_, done_;
  redis::ScriptRunner add_, claim_, reschedule_, complete_, fail_, list_, check_;
  PendingCopy copy_;
  std::string epoch_;     // the outbox's epoch this instance last wrote back to ("" = none yet)
  std::string instance_;  // random: names the epochs this instance sets
  uint64_t epochs_set_ = 0;
  int64_t last_prune_ms_ = 0;
  bool healing_ = false;
  std::unique_ptr<redis::RedisConnection> connection_;  // last: destroyed first
};

}  // namespace tidegate::notify
