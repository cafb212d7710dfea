// Finding the Redis primary through Redis Sentinel ([state].sentinels,
// master_name; docs/state.md "Redis Sentinel").
//
// * ResolvePrimaryBlocking(): start-up only (before any worker runs): asks
//   each sentinel in turn, with blocking hiredis calls bounded by the
//   timeout, `SENTINEL get-master-addr-by-name <master_name>`.
// * SentinelResolver: the same question asked asynchronously on one event
//   loop, each sentinel in turn, starting with the one that answered last.
//   RedisConnection uses one before every connection attempt when it is
//   given sentinels, so a connection lost to a failover comes back to the
//   new primary.
// * SentinelWatcher: SUBSCRIBEs to `+switch-master` on one sentinel (the
//   next one when that one is lost) and reports the new primary of
//   master_name the moment Sentinel announces it, so an owner can drop
//   connections to a primary that is still alive but no longer primary.
// * With a password (the sentinels' requirepass), every sentinel connection
//   sends AUTH first.
//
// Addresses returned by the sentinels must be IP literals (tidegate never
// resolves names: `sentinel resolve-hostnames` must stay off).
//
// Contract (SentinelResolver, SentinelWatcher): thread = the thread running
// `base`, for every method and callback; `base` must outlive them. Callbacks
// are never called synchronously from Resolve()/Start(), and are dropped
// when the object is destroyed first. Do not destroy them from inside their
// own callbacks. Own their connections and timers.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "redis/auth.h"
#include "redis/redis_connection.h"

namespace tidegate::redis {

struct SentinelOptions {
  std::vector<config::Address> sentinels;  // IP literal + port each
  std::string master_name;
  std::chrono::milliseconds timeout{250};  // per sentinel: connect + answer
  // AUTH first when a password is set; its file is read again before each
  // connection to a sentinel when it changed (RefreshPassword).
  RedisCredentials auth;
};

// Turns the reply to SENTINEL get-master-addr-by-name ([ip, port], or nil for
// an unknown master) into an address; false and *error otherwise.
bool PrimaryFromSentinelReply(const RedisReply& reply, const std::string& master_name,
                              config::Address* out, std::string* error);

// Blocking, bounded by options.timeout per sentinel. Start-up only.
bool ResolvePrimaryBlocking(const SentinelOptions& options, config::Address* out,
                            std::string* error);

class SentinelResolver {
 public:
  // ok: `primary` is what a sentinel answered; !ok: `error` lists every
  // sentinel's failure.
  using Callback =
      std::function<void(bool ok, const config::Address& primary, const std::string& error)>;

  SentinelResolver(event_base* base, SentinelOptions options);
  ~SentinelResolver();
  SentinelResolver(const SentinelResolver&) = delete;
  SentinelResolver& operator=(const SentinelResolver&) = delete;

  // Asks the sentinels in turn until one answers; `done` once, from the loop.
  // A Resolve() while one is running replaces its callback (one answer).
  void Resolve(Callback done);
  bool resolving() const { return static_cast<bool>(done_); }

 private:
  static void OnStep(evutil_socket_t, short, void* arg);
  void Try();
  void Ask(uint64_t attempt);  // SENTINEL get-master-addr-by-name on probe_
  void Settle(uint64_t attempt, bool ok, const config::Address& primary, const std::string& error);
  void Arm();

  event_base* base_;
  SentinelOptions options_;
  event* step_ = nullptr;
  std::unique_ptr<RedisConnection> probe_;  // the sentinel being asked
  Callback done_;
  size_t preferred_ = 0;  // the sentinel that answered last
  size_t index_ = 0;
  size_t tried_ = 0;
  uint64_t attempt_ = 0;  // callbacks of an older probe are ignored
  bool finished_ = false;
  bool ok_ = false;
  config::Address primary_;
  std::string errors_;
};

class SentinelWatcher {
 public:
  using SwitchCallback = std::function<void(const config::Address& primary)>;

  SentinelWatcher(event_base* base, SentinelOptions options, SwitchCallback on_switch);
  ~SentinelWatcher();
  SentinelWatcher(const SentinelWatcher&) = delete;
  SentinelWatcher& operator=(const SentinelWatcher&) = delete;

  void Start();
  bool subscribed() const { return subscribed_; }

 private:
  static void OnRotate(evutil_socket_t, short, void* arg);
  void Open();
  void Subscribe();  // after AUTH when there is a password
  void OnMessage(const std::string& payload);

  event_base* base_;
  SentinelOptions options_;
  SwitchCallback on_switch_;
  event* rotate_ = nullptr;
  std::unique_ptr<RedisConnection> subscriber_;
  size_t index_ = 0;
  bool subscribed_ = false;
};

}  // namespace tidegate::redis
