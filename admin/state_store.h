// Where run-time overrides live: an interface with an in-process LocalStore
// now, and a RedisStore later (waiting-room issue) so that several instances
// share the same overrides.
//
// Contract:
// * Control thread only: every method is called on the control thread, and
//   every callback runs on the control thread (an implementation may run it
//   synchronously, inside Apply(), as LocalStore does, or later from its
//   event_base, as a Redis-backed store will).
// * Current() returns the latest known state as an immutable snapshot; the
//   pointer may be handed to other threads (workers) freely.
// * Apply() validates nothing about names or values (the admin API does that
//   before calling it); it only applies, optionally guarded by an expected
//   version (optimistic concurrency → ApplyStatus::kConflict).
// * The change callback fires once per applied change (never for a no-op)
//   with the new snapshot, after Apply()'s `done` has been called, and also
//   when a shared store learns about a change made by another instance. The
//   core uses it to publish the snapshot to workers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "admin/metrics.h"
#include "state/runtime_state.h"

namespace tidegate::admin {

struct StoreHealth {
  std::string backend;  // "local" | "redis"
  bool healthy = true;
  std::string last_error;  // empty when none
  uint64_t operations_total = 0;
  uint64_t errors_total = 0;
  double last_latency_seconds = 0;
  // Every operation's latency (empty for the local store, which has none
  // worth measuring): /metrics state_store_latency_seconds.
  HistogramData latency = EmptyLatencyHistogram();
};

enum class ApplyStatus { kApplied, kUnchanged, kConflict, kUnavailable };

struct ApplyResult {
  ApplyStatus status = ApplyStatus::kApplied;
  std::string error;  // for kConflict / kUnavailable
  std::shared_ptr<const state::RuntimeState> before;
  std::shared_ptr<const state::RuntimeState> after;  // == before unless kApplied
};

class StateStore {
 public:
  using StateCallback = std::function<void(std::shared_ptr<const state::RuntimeState>)>;
  using DoneCallback = std::function<void(ApplyResult)>;

  virtual ~StateStore() = default;

  // Never null.
  virtual std::shared_ptr<const state::RuntimeState> Current() const = 0;

  // Applies `change` on behalf of token `actor`. When `expected_version` is
  // set and differs from the current version, nothing changes and `done`
  // gets kConflict. `done` is called exactly once.
  virtual void Apply(const state::StateChange& change, const std::string& actor,
                     std::optional<uint64_t> expected_version, DoneCallback done) = 0;

  // Replaces the change callback (nullptr to remove it).
  virtual void SetChangeCallback(StateCallback callback) = 0;

  virtual StoreHealth Health() const = 0;

  // The audit trail every instance sharing this store writes to.
  using AuditCallback =
      std::function<void(bool ok, std::vector<nlohmann::json> records, std::string error)>;
  // Reads the last `limit` shared audit entries, oldest first, and returns
  // true; `done` is then called exactly once (with ok = false and an error
  // when the store cannot be read). Returns false, without calling `done`,
  // when the store keeps no shared trail (LocalStore: the instance's own
  // audit log is the whole record).
  virtual bool ReadSharedAudit(size_t limit, AuditCallback done) { return false; }
  // Adds an entry that is not a state change (a minted bypass cookie) to
  // the shared trail, best effort: the instance's own audit log is the
  // durable record. Nothing to do without a shared trail.
  virtual void AppendSharedAudit(const nlohmann::json& entry) {}
};

// The embedded default: state in this process. Apply() completes
// synchronously (calls `done`, then the change callback, before returning).
// Not thread-safe: control thread only, as above. With a persister (the
// state file, app/state_persistence.h) every change is written to disk
// before it is committed and acknowledged, and the saved state is restored
// at start; without one the state is lost on restart.
class LocalStore : public StateStore {
 public:
  // Changes are stamped with time.WallNow(); `time` must outlive the store
  // (tests pass a common::FakeTimeSource).
  explicit LocalStore(const common::TimeSource& time = common::SystemTime());

  std::shared_ptr<const state::RuntimeState> Current() const override { return state_; }
  void Apply(const state::StateChange& change, const std::string& actor,
             std::optional<uint64_t> expected_version, DoneCallback done) override;
  void SetChangeCallback(StateCallback callback) override { on_change_ = std::move(callback); }
  StoreHealth Health() const override;

  // Starts from `state` (read back from the state file at start, before the
  // first Apply). Its version continues from there.
  void Restore(std::shared_ptr<const state::RuntimeState> state) { state_ = std::move(state); }
  // Called with every new state before it is committed: false (with *error)
  // refuses the change (kUnavailable, the state in force unchanged), so an
  // acknowledged change is always on disk. nullptr: no persistence.
  using Persister = std::function<bool(const state::RuntimeState&, std::string* error)>;
  void SetPersister(Persister persister) { persister_ = std::move(persister); }
  // The state in force was written again (the disk is back after a change
  // was refused): healthy again without waiting for the next change.
  void SavedAgain() { last_error_.clear(); }

 private:
  const common::TimeSource* time_;
  Persister persister_;
  std::string last_error_;
  uint64_t errors_ = 0;
  std::shared_ptr<const state::RuntimeState> state_;
  StateCallback on_change_;
  uint64_t operations_ = 0;
};

}  // namespace tidegate::admin
