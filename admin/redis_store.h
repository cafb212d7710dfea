// RedisStore: the operators' run-time state (state/runtime_state.h) shared by
// every tidegate instance through one Redis server. docs/state.md describes
// the design; in short:
// * `<prefix>:state` holds the whole RuntimeState as JSON, `<prefix>:version`
//   its version; Apply() reads the state, computes the change locally with
//   ApplyChange(), and writes it with one atomic compare-and-set Lua script
//   (redis_scripts.h, sent with EVALSHA by redis/script_runner.h) that also
//   appends an audit entry to the capped stream `<prefix>:audit` and
//   PUBLISHes the new version on `<prefix>:changes`.
//   Without an expected version a lost race is retried on a fresh read (up
//   to 10 times, after a random pause of a few ms); with one it is a conflict.
// * Every instance SUBSCRIBEs to `<prefix>:changes` (a second connection) and
//   also re-reads the state every resync_interval, so a lost message heals;
//   every new state learned fires the change callback (which publishes it to
//   the workers).
// * Start() reads the state once, synchronously and bounded by the timeout,
//   so a process starts with the shared switches in force; when Redis cannot
//   be reached it starts with an empty state, unhealthy, and keeps trying.
// * With Redis Sentinel (options.sentinels), both connections find the
//   primary through the sentinels before every connection attempt, and a
//   redis::SentinelWatcher drops them the moment Sentinel announces
//   +switch-master, so they follow a failover without a restart; the
//   start-up read asks the sentinels too.
// * With wait_replicas > 0, an applied (or unchanged) change is
//   acknowledged only after `WAIT wait_replicas wait_timeout` confirms it
//   reached that many replicas; otherwise Apply() answers kUnavailable with
//   a "not confirmed by a replica" error, although the change is in force on
//   the primary (docs/state.md "Redis Sentinel").
// * When Redis fails, the last known state stays in force, Apply() answers
//   kUnavailable, Health() says why; warnings are rate-limited (one at the
//   transition, then at most one per 10 s). A store whose writes fail
//   (OOM, READONLY, NOREPLICAS) is unhealthy too, although reads succeed,
//   until a write succeeds: a small probe key is written at every resync,
//   so an instance that made no change of its own sees the refusal too.
// * The local copy (options.copy_path, admin/state_copy.h): every state
//   learned is also written to a file (atomically, on the control thread),
//   and Start() begins from it, so that a process started while Redis is
//   down (restart, binary upgrade) keeps the last known state rather than
//   an empty one. A copy of another store (identity: server or Sentinel
//   master name, and prefix) is ignored.
// * Higher version wins: a state read from Redis that is older than the one
//   this instance holds (Redis restarted empty, FLUSHALL, a failover to a
//   replica that missed the last writes) is not adopted; the instance writes
//   its own back with an atomic "only if Redis's is older or absent" script,
//   and changes computed on it replace the older one. A newer (or equal)
//   version in Redis always wins over the instance's.
//
// Contract (StateStore, admin/state_store.h): control thread only — the
// thread running `base`; every callback runs there. Apply()'s `done` is
// called exactly once (synchronously when Redis is known to be down,
// otherwise from the event loop) unless the store is destroyed first; the
// change callback runs after `done`. Destroy the store before `base`, and
// never from inside one of its callbacks. Changes of one instance are applied
// one at a time, in order. The process must ignore SIGPIPE (hiredis writes
// with write(2); tidegate's Server does).
#pragma once

#include <event2/event.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "admin/state_copy.h"
#include "admin/state_store.h"
#include "common/time_source.h"
#include "config/config.h"
#include "redis/redis_connection.h"
#include "redis/script_runner.h"
#include "redis/sentinel_resolver.h"

namespace tidegate::admin {

struct RedisStoreOptions {
  config::Address address;
  std::chrono::milliseconds timeout{250};           // per command and per connect
  std::chrono::milliseconds resync_interval{1000};  // full re-read
  std::string prefix = "tidegate:{admin}";
  int audit_max_entries = 10000;             // XADD MAXLEN ~
  const common::TimeSource* time = nullptr;  // not owned; null = common::SystemTime()
  std::function<void(std::string_view key, std::string_view msg)> warn;  // optional
  // Redis Sentinel: when non-empty, `address` is unused (docs/state.md).
  std::vector<config::Address> sentinels;
  std::string master_name;
  redis::RedisCredentials sentinel_auth;  // AUTH on the sentinels (no password: none)
  // AUTH on the Redis server (with sentinels: on the primary), first on
  // every connection and before the start-up read; a refusal is a failure
  // like a refused connection.
  redis::RedisCredentials credentials;
  int wait_replicas = 0;  // 0 = changes are not WAITed for
  std::chrono::milliseconds wait_timeout{500};
  // The local copy of the shared state ("" = none; docs/state.md).
  std::string copy_path;

  static RedisStoreOptions FromConfig(const config::StateConfig& state);
};

class RedisStore : public StateStore {
 public:
  static std::unique_ptr<RedisStore> Start(event_base* base, RedisStoreOptions options);
  ~RedisStore() override;

  std::shared_ptr<const state::RuntimeState> Current() const override { return state_; }
  void Apply(const state::StateChange& change, const std::string& actor,
             std::optional<uint64_t> expected_version, DoneCallback done) override;
  void SetChangeCallback(StateCallback callback) override { on_change_ = std::move(callback); }
  StoreHealth Health() const override;
  // XREVRANGE of `<prefix>:audit`: every instance's changes.
  bool ReadSharedAudit(size_t limit, AuditCallback done) override;
  void AppendSharedAudit(const nlohmann::json& entry) override;

  // Re-reads the state now (also done every resync_interval and on every
  // pub/sub message).
  void Resync();

  // Binary upgrade: the new process owns the local copy from now on; this
  // one writes it no more.
  void StopSavingCopy() { copy_saving_ = false; }

  // What the local copy records as the store it was taken from.
  std::string Identity() const;

 private:
  struct ApplyOp;

  RedisStore(event_base* base, RedisStoreOptions options);
  void LoadAtStart();
  void OnCommandsStatus(bool up, const std::string& error);
  void OnSubscriberStatus(bool up, const std::string& error);
  static void OnResyncTimer(evutil_socket_t, short, void* arg);
  static void OnRetryTimer(evutil_socket_t, short, void* arg);
  // Starts from the local copy when there is one (before LoadAtStart).
  void LoadCopy();
  void SaveCopy();
  // Writes this instance's state to Redis when Redis holds an older one
  // (`redis_version`) or none (nullopt). One at a time.
  void WriteBack(std::optional<uint64_t> redis_version);
  // Record() for a command that writes: a failure marks the store unhealthy
  // until a write succeeds.
  void RecordWrite(const redis::RedisResult& result);
  // Parses `text` and makes it the current state when it differs from the
  // last one adopted and its version is not older than the current one (an
  // older one is written over with ours, WriteBack). Returns the current
  // state, or nullptr (and a recorded failure) when the text is not a valid
  // state.
  std::shared_ptr<const state::RuntimeState> Adopt(const std::string& text, bool notify);
  void ApplyRead(std::shared_ptr<ApplyOp> op);
  void ApplyOn(std::shared_ptr<ApplyOp> op, std::shared_ptr<const state::RuntimeState> base);
  // WAIT for the replicas, then FinishApply(`out`) — or kUnavailable when
  // fewer than wait_replicas confirmed.
  void WaitThenFinish(const std::shared_ptr<ApplyOp>& op, ApplyResult out, bool notify);
  void OnSwitchMaster(const config::Address& primary);
  redis::RedisConnection::Options ConnectionOptions(const std::string& role) const;
  std::string ServerText() const;
  void StartNextApply();
  void FinishApply(const std::shared_ptr<ApplyOp>& op, ApplyResult result, bool notify = false);
  void Record(const redis::RedisResult& result);
  void Failed(const std::string& error);
  void Succeeded();
  void Warn(const std::string& message);
  const common::TimeSource& Time() const;
  common::TimePoint Now() const;

  event_base* base_;
  RedisStoreOptions options_;
  std::string state_key_, version_key_, audit_key_, channel_;
  // redis_scripts.h, sent with EVALSHA (declared before the connections:
  // their pending commands refer to them).
  redis::ScriptRunner compare_and_set_;
  redis::ScriptRunner write_back_;
  std::shared_ptr<const state::RuntimeState> state_;
  std::string state_text_;  // the JSON `state_` was adopted from ("" = none yet)
  StateCallback on_change_;
  std::unique_ptr<redis::RedisConnection> commands_;
  std::unique_ptr<redis::RedisConnection> subscriber_;
  std::unique_ptr<redis::SentinelWatcher> watcher_;  // with sentinels only
  event* resync_timer_ = nullptr;
  std::deque<std::shared_ptr<ApplyOp>> queue_;  // changes waiting for the one in flight
  bool apply_in_flight_ = false;
  event* retry_timer_ = nullptr;       // a lost compare-and-set waits a little
  std::shared_ptr<ApplyOp> retry_op_;  // the change waiting on retry_timer_
  std::minstd_rand random_;
  bool resync_in_flight_ = false;
  bool resync_again_ = false;
  bool write_back_in_flight_ = false;

  StateCopyFile copy_;
  bool copy_saving_ = true;
  std::chrono::steady_clock::time_point last_copy_warn_{};

  bool healthy_ = true;
  std::string last_error_;
  std::string write_error_;  // the last write's failure, "" once one succeeds
  uint64_t operations_ = 0;
  uint64_t errors_ = 0;
  double last_latency_ = 0;
  HistogramData latency_ = EmptyLatencyHistogram();
  std::chrono::steady_clock::time_point last_warn_{};
};

}  // namespace tidegate::admin
