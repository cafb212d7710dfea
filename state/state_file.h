// One file of persisted state (docs/state.md): read at start, replaced
// atomically on every write, set aside (renamed, never deleted) when it
// cannot be read back.
//
// Atomic write: the new contents go to a temporary file in the same folder
// ("<path>.tmp-<pid>", mode 0600), which is fsync'ed, renamed over `path`,
// and the folder is fsync'ed so that the rename itself survives a power
// loss. A reader therefore sees the previous file or the new one, never a
// mix; a crash mid-write leaves at most a stray temporary file, which the
// next write replaces.
//
// Keeping the previous version (keep_previous): each write first makes the
// file it replaces "<path>.prev" (a hard link, renamed over the old .prev:
// no copy, no second fsync), so that a start that finds the file damaged
// can fall back to the version before (app/state_persistence.h). The file
// itself is never missing on the way. Best effort: a file system without
// hard links keeps no .prev, the write still succeeds.
//
// Contract: blocking file I/O; call it from the control thread (or at
// start-up / after the workers stopped), never from a worker. Stateless
// apart from the path: several StateFile objects on different paths are
// independent; one path must be written by one thread at a time. No
// exceptions; every failure is a false/kError result with errno's text and
// the path in it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tidegate::state {

class StateFile {
 public:
  explicit StateFile(std::string path, bool keep_previous = false)
      : path_(std::move(path)), keep_previous_(keep_previous) {}

  const std::string& path() const { return path_; }
  // Where a write with keep_previous leaves the version it replaced.
  std::string previous_path() const { return path_ + ".prev"; }

  enum class ReadStatus {
    kMissing,  // no file: a first start
    kRead,     // `text` holds the whole file
    kError,    // the file exists but cannot be read (`error` says why)
  };
  struct ReadResult {
    ReadStatus status = ReadStatus::kMissing;
    std::string text;
    std::string error;
  };
  ReadResult Read() const;

  // Replaces the file with `contents` as described above. The file is
  // created with mode 0600 (it may hold operators' messages and names).
  bool Write(std::string_view contents, std::string* error) const;

  // Renames the file to "<path>.corrupt-<unix_time>" (a ".N" suffix is
  // added when that name exists) and returns the new path; "" and *error
  // when the rename fails.
  std::string SetAside(int64_t unix_time, std::string* error) const;

 private:
  std::string path_;
  bool keep_previous_ = false;
};

// Creates `folder` (and missing parents) with mode 0700 when it does not
// exist; false and *error ("state folder …: reason") otherwise.
bool EnsureStateFolder(const std::string& folder, std::string* error);

}  // namespace tidegate::state
