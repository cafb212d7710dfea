// A child process started with fork/exec for one test.
//
// Contract:
// * Start() forks and execs options.argv (argv[0] is a path, no PATH
//   search unless it has no '/'), with stdout and stderr redirected to
//   files in options.log_dir (<name>.stdout / <name>.stderr), stdin from
//   /dev/null, every other inherited descriptor closed, optionally with
//   RLIMIT_NOFILE lowered before exec. It returns nullptr and sets *error
//   when fork/exec fails (exec failure is reported by the child through a
//   CLOEXEC pipe, so a missing binary is an error here, not a later exit).
// * The destructor SIGKILLs the child if it still runs and reaps it. Never
//   touches any other process (no pkill).
// * Methods are called from the test thread only (not thread-safe).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tidegate::itest {

struct ProcessOptions {
  std::vector<std::string> argv;
  std::string log_dir;                 // where <name>.stdout and <name>.stderr go
  std::string name = "proc";           // file name stem for the logs
  std::string cwd;                     // "" = inherit
  std::optional<long> max_open_files;  // RLIMIT_NOFILE soft+hard in the child
};

class Process {
 public:
  static std::unique_ptr<Process> Start(const ProcessOptions& options, std::string* error);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `sig` to the child (only while it has not been reaped).
  bool Signal(int sig);
  // Waits up to `timeout` for the child to exit. Returns its exit status as
  // WEXITSTATUS for a normal exit, or 128 + signal number for a kill;
  // nullopt on timeout (the child keeps running).
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  // True while the child has not exited (reaps it if it has).
  bool Running();
  std::optional<int> exit_status() const { return exit_status_; }

  std::string Stdout() const;
  std::string Stderr() const;
  const std::string& stdout_path() const { return stdout_path_; }
  const std::string& stderr_path() const { return stderr_path_; }

 private:
  Process() = default;
  bool Reap(bool block);

  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::string stdout_path_;
  std::string stderr_path_;
};

}  // namespace tidegate::itest
