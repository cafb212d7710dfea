// `tidegate --pid-file PATH`: the file names the process that serves.
//
// Written (atomically: temporary file, rename) by the process once it
// serves — at start, and by the new process of a binary upgrade once it has
// taken over, so `kill -USR2 "$(cat PATH)"` always reaches the serving one.
// Removed at exit only while it still names this process (after an upgrade
// it names the successor and is left alone).
//
// Contract: plain functions, control thread (or main) only.
#pragma once

#include <sys/types.h>

#include <string>

namespace tidegate::app {

// False + *error ("pid file PATH: ...") when it cannot be written.
bool WritePidFile(const std::string& path, pid_t pid, std::string* error);

// Removes `path` if it holds exactly `pid`; does nothing otherwise.
void RemovePidFileIfOwn(const std::string& path, pid_t pid);

}  // namespace tidegate::app
