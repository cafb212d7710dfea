// The Redis-backed instance's own copy of the shared state (docs/state.md,
// "The local copy"): the whole RuntimeState with its version, as last learned
// from Redis, kept in `<[state].path>/shared_state.json` so that a process
// started while Redis is down (a restart, a binary upgrade) starts from it
// rather than from an empty state, and so that a Redis that comes back empty
// or older (restarted without persistence, FLUSHALL, a failover to a replica
// that missed the last writes) gets the newer state written back.
//
// File: {"format": "tidegate.shared_state_copy", "version": 1, "saved_at":
// RFC 3339, "store": identity, "state": ToJson(RuntimeState)}. `store` names
// the Redis store the copy was taken from (server or Sentinel master name,
// and key prefix): a copy of another store is never used.
//
// Contract: the text functions are pure and thread-safe; StateCopyFile does
// blocking file I/O (atomic writes through state/state_file.h) and belongs to
// the control thread (or start-up), never a worker. No exceptions escape.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/time_source.h"
#include "state/runtime_state.h"
#include "state/state_file.h"

namespace tidegate::admin {

struct StateCopy {
  std::shared_ptr<const state::RuntimeState> state;
  std::string store;     // the identity it was taken from
  std::string saved_at;  // RFC 3339, as written
  common::TimePoint saved_at_time{};
};

// The file's contents for `state`, taken from store `store` at `now`.
std::string StateCopyText(const state::RuntimeState& state, const std::string& store,
                          common::TimePoint now);

// Reads what StateCopyText wrote; nullopt and *error (naming the field) when
// the text does not have that shape.
std::optional<StateCopy> ParseStateCopy(const std::string& text, std::string* error);

class StateCopyFile {
 public:
  // `path` = "" disables the copy (Load() finds nothing, Save() succeeds).
  StateCopyFile(std::string path, std::string store);

  const std::string& path() const { return file_.path(); }
  bool enabled() const { return !file_.path().empty(); }

  // The copy when there is a usable one of this store. nullopt otherwise;
  // *warning then says why when there was a file that was not used (cannot
  // be read, malformed — set aside as "<file>.corrupt-<unix time>" — or a
  // copy of another store, left in place).
  std::optional<StateCopy> Load(std::string* warning) const;

  // Replaces the file atomically; false and *error when it could not be
  // written.
  bool Save(const state::RuntimeState& state, common::TimePoint now, std::string* error) const;

 private:
  state::StateFile file_;
  std::string store_;
};

}  // namespace tidegate::admin
