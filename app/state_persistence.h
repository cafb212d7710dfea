// The local state file (docs/state.md, "Local state on disk"): what the
// embedded store ([state].backend = "local") keeps across a restart or a
// crash — the operators' run-time overrides and every local waiting room's
// counters and invitation state — in two JSON files of [state].path:
//
//   runtime_state.json  written at every operator change, before the admin
//                       API acknowledges it (LocalStore's persister)
//   rooms.json          written every second while a room changes (the
//                       control plane's timer), and once more at stop
//
// Each is written atomically (state/state_file.h); rooms.json keeps the
// version it replaces as rooms.json.prev. At start Open() reads both: a
// missing file is a first start; a file that cannot be read back (not JSON,
// an unknown version, a field of the wrong shape) is reported on stderr and
// renamed aside ("<file>.corrupt-<unix time>") by Begin(), and the start
// goes on — or Open() fails when [state].on_corrupt = "refuse" (the safe
// choice for a live queue). Going on means:
//
// * runtime_state.json: the configuration's values (operators' overrides
//   are lost; they can be set again).
// * rooms.json: the save before, rooms.json.prev, when it can be read,
//   with twice its crash margin of ticket numbers skipped whatever its
//   clean_stop says (up to two save intervals may be missing, and a
//   process may have run after a clean stop it recorded). At most the last
//   two seconds of progress are replayed, as after a crash.
// * rooms.json and rooms.json.prev both unusable (or no .prev): nothing
//   tells how far the numbering went, nor who holds a pass. The rooms start
//   from the configuration's values, and every wait cookie issued before
//   this start is void (WaitsValidFromMs(), recorded in rooms.json as
//   "waits_valid_from_ms" so that later starts keep it): its holder is
//   queued again at the back, never given a number a newcomer also gets
//   (one of the two would lose the place as "ticket_used" when invited).
//   That is the honest minimum: a floor on the numbers derived from the
//   clock cannot bound how many were issued, and honouring the old cookies
//   means duplicates. Passes stay valid (they are signed and verified
//   locally: an admitted shopper is not thrown out mid-checkout), but the
//   room does not count them until they renew: it may let in up to a full
//   room on top of them for one session_duration.
//
// With backend = "redis" Redis holds the state: enabled() is false and every
// call above is a no-op; the folder holds the Redis store's local copy of
// the shared state (SharedStateCopyPath(), admin/state_copy.h), written by
// the store itself, and shared_rooms.json: the rooms' counters as this
// process last knew them (SaveSharedRooms(), every second while they
// change), from which a process started while Redis is down numbers its
// newcomers on (TakeSharedSeeds(), queue::SharedSeed) instead of from 1. A
// shared_rooms.json that cannot be read is set aside with a warning, never
// refused: it is only a floor.
//
// Nothing is written, renamed or set aside before Begin(): Open() only reads
// (and creates a missing folder), so a process that then fails to start (a
// port taken by the instance already running on this folder, audit 18
// LOW-2) leaves every file as it found it. main() calls Begin() once every
// listener is bound (proxy::Server's BeforeServing): the files found
// unusable are set aside then, with their warnings, and the saves work from
// then on; before it SaveRooms() and SaveSharedRooms() write nothing (and
// succeed) and SaveRuntime() refuses.
//
// Contract: control thread (or main() before the server starts / after it
// stopped); blocking file I/O, never on a worker. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config/config.h"
#include "queue/local_room_store.h"
#include "queue/room_registry.h"
#include "state/runtime_state.h"
#include "state/state_file.h"

namespace tidegate::app {

// [state].path, or "state" in the folder of the first configuration file.
std::string StateFolder(const config::Config& config);

class StatePersistence {
 public:
  // Creates the folder (mode 0700) when missing and reads both files.
  // nullptr and *error (one paragraph naming the file and what is wrong)
  // when the folder cannot be created, or a file is corrupt and
  // on_corrupt = "refuse". A file to set aside, and the notes on what the
  // start does with the files, wait for Begin().
  static std::unique_ptr<StatePersistence> Open(const config::Config& config, std::string* error);

  // This process will serve (every listener is bound): sets aside the files
  // Open() could not use, prints the warnings and notes about them on
  // stderr, and lets the Save*() calls write from now on. Once.
  void Begin();
  bool begun() const { return begun_; }

  // What Open() would meet in the local state files, found without
  // creating, renaming or writing anything (`tidegate --check`, which a
  // merchant runs before a restart): a file Open() would refuse (on_corrupt
  // = "refuse") is an error, one it would set aside is a warning, and so is
  // a room the saved operators' state switches on (auto, queue_all) that
  // the configuration cannot queue (no signing key, enabled = false: it
  // would say it queues and queue nobody). Nothing for backend = "redis",
  // a first start (no files) or a folder not made yet.
  struct Findings {
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
  };
  static Findings Inspect(const config::Config& config);

  bool enabled() const { return enabled_; }
  const std::string& folder() const { return folder_; }
  // backend = "redis": where the store keeps its local copy of the shared
  // state; "" with the local backend, or when the folder could not be
  // created (warned on stderr: the instance then runs without a copy).
  const std::string& SharedStateCopyPath() const { return shared_copy_path_; }

  // What was read at start (null / empty on a first start); taken once.
  std::shared_ptr<const state::RuntimeState> TakeRuntime() { return std::move(runtime_); }
  std::map<std::string, queue::LocalRoomStore::Persisted> TakeRooms() { return std::move(rooms_); }
  // backend = "redis": the Redis rooms' counters saved by the process
  // before, each with the margin of ticket numbers to skip (twice the
  // largest step between two saves it recorded, at least
  // kCrashTicketMarginFloor: other instances, and this one in its last
  // second, may have numbered on since). For RoomRegistry::SeedShared.
  std::map<std::string, queue::SharedSeed> TakeSharedSeeds() { return std::move(shared_seeds_); }
  // Wait cookies issued before this Unix time in ms are void in every local
  // room (0: all valid); see the header. For RoomRegistry at start.
  int64_t WaitsValidFromMs() const { return waits_valid_from_ms_; }

  // Writes the operators' state; false and *error when it could not be
  // made durable (the change must then be refused).
  bool SaveRuntime(const state::RuntimeState& state, std::string* error);

  // Writes every local room's state when it changed since the last write.
  // False and *error when the write failed (the caller warns; the next call
  // tries again). `final` = the workers have stopped (a clean stop): nothing
  // can have happened after this write. Otherwise the file also records, per
  // room, twice the largest number of tickets one save interval issued
  // recently (halved at every call without arrivals), and at least
  // kCrashTicketMarginFloor: a start after a crash advances the ticket
  // counter by that much, so that numbers issued in the lost second are not
  // issued twice (a duplicate would be refused as "ticket_used" when the
  // other holder has claimed it; a skipped number is an invitation nobody
  // claims, which the ghost correction absorbs).
  //
  // main() calls it once right after Begin(), before the workers serve (not
  // final), so that the file stops claiming the previous clean stop the
  // moment this process can issue tickets: an idle room is not rewritten, and a crash within its
  // first second, or before the next save after a burst, would otherwise
  // restart with no margin at all.
  bool SaveRooms(const queue::RoomRegistry& rooms, std::string* error, bool final = false);

  // backend = "redis": writes shared_rooms.json (RoomRegistry::ExportShared)
  // when it changed. False and *error when the write failed (the caller
  // warns; the next call tries again); true without a folder, with the
  // local backend, and after StopSaving().
  bool SaveSharedRooms(const queue::RoomRegistry& rooms, std::string* error);
  bool SavesSharedRooms() const { return !shared_rooms_path_.empty(); }

  // The least crash margin recorded per room. The recent rate says nothing
  // about a burst that starts after an idle period (a sale opening right
  // after a deploy: the room issued nothing in the last seconds, the margin
  // from the rate alone is 0), and the tickets issued since the last save
  // are exactly what a crash loses. So a crash start always skips at least
  // this many numbers: it covers a first burst of up to 64 arrivals in the
  // lost second. The cost is bounded and paid once per crash: 64 numbers
  // nobody holds, invited at the room's rate before the ghost correction
  // counts them (at most 64 / new_users_per_minute minutes for the visitors
  // behind; 19 s at the default 200/min), against a duplicate number, which
  // costs one of its two holders the whole wait. The margin from the rate
  // still applies above it (a sustained rush).
  static constexpr uint64_t kCrashTicketMarginFloor = 64;

  // Binary upgrade: the new process serves and owns the folder. From now on
  // SaveRooms() writes nothing (and succeeds), and SaveRuntime() refuses
  // (an operator change reaching this draining process is answered 503: it
  // would be lost, the new process read the file already).
  void StopSaving() {
    handed_over_ = true;
    runtime_write_error_.clear();
    rooms_write_error_.clear();
  }

  // Whether the files can be written now, for /.tidegate/health (part
  // "state_file", docs/state.md): "" when the latest write of each file
  // succeeded (or none was tried), else one line naming the file(s) that
  // failed and why, with the folder left out (the health route is public).
  // A failed write of runtime_state.json refused an operator change (the
  // file still holds the state in force); RuntimeUnsaved() tells the caller
  // to write the state in force again (every second), so that the problem
  // clears once the disk is back even when no operator changes anything.
  // rooms.json is retried by every SaveRooms() call while it fails.
  std::string WriteProblem() const;
  bool RuntimeUnsaved() const { return !runtime_write_error_.empty(); }

 private:
  StatePersistence() = default;
  bool LoadRuntime(const config::Config& config, std::string* error);
  bool LoadRooms(const config::Config& config, std::string* error);
  void LoadSharedRooms();
  void AdoptRooms(const nlohmann::json& doc,
                  std::map<std::string, queue::LocalRoomStore::Persisted> rooms);
  // Open()'s handling of a file that cannot be used: refuse, or set it
  // aside (at Begin()); `then` says what the start does instead ("" = the
  // configuration's values).
  bool Unusable(const state::StateFile& file, config::CorruptStateMode on_corrupt,
                const std::string& problem, std::string then, std::string* error);
  // Open()'s findings for Begin(): a file to set aside, with the warning
  // around its new name ("<before>set aside as X<after>"), or a note alone
  // (file empty).
  struct Deferred {
    std::string file;
    std::string before;
    std::string after;
  };
  void Defer(std::string file, std::string before, std::string after) {
    deferred_.push_back(Deferred{std::move(file), std::move(before), std::move(after)});
  }

  Findings* inspecting_ = nullptr;  // Inspect(): report, change nothing

  bool enabled_ = false;
  bool begun_ = false;
  bool handed_over_ = false;
  std::vector<Deferred> deferred_;
  std::string folder_;
  std::string shared_copy_path_;
  state::StateFile runtime_file_{""};
  state::StateFile rooms_file_{""};
  std::shared_ptr<const state::RuntimeState> runtime_;
  std::map<std::string, queue::LocalRoomStore::Persisted> rooms_;
  int64_t waits_valid_from_ms_ = 0;
  std::string runtime_write_error_;  // of the latest write, "" when it succeeded
  std::string rooms_write_error_;
  std::string last_rooms_text_;  // what rooms.json holds, to skip identical writes
  bool last_rooms_final_ = false;
  // Per room: tickets at the previous call, and the recent largest step
  // between two calls (halved at each call).
  std::map<std::string, uint64_t> saved_tickets_;
  std::map<std::string, uint64_t> ticket_step_;
  // backend = "redis" (SaveSharedRooms): the file, what was read at start,
  // what the file holds, and the same per-room ticket steps as above.
  std::string shared_rooms_path_;
  std::map<std::string, queue::SharedSeed> shared_seeds_;
  std::string last_shared_text_;
  std::map<std::string, uint64_t> shared_saved_tickets_;
  std::map<std::string, uint64_t> shared_ticket_step_;
};

}  // namespace tidegate::app
