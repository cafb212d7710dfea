// Observation of a running process through /proc (Linux): open descriptors,
// resident memory, CPU time. Used to prove "no fd leak", "memory stays
// bounded" and "no busy loop".
//
// Contract: each call reads /proc/PID/* afresh; nullopt / -1 when the
// process is gone or /proc is unreadable. Thread-safe (no state).
#pragma once

#include <sys/types.h>

#include <optional>

namespace tidegate::itest {

struct ProcStats {
  int open_fds = -1;        // entries of /proc/PID/fd
  long vm_rss_kb = -1;      // VmRSS of /proc/PID/status
  long threads = -1;        // Threads of /proc/PID/status
  double cpu_seconds = -1;  // utime + stime of /proc/PID/stat
};

std::optional<ProcStats> ReadProcStats(pid_t pid);
int CountOpenFds(pid_t pid);
double CpuSeconds(pid_t pid);

}  // namespace tidegate::itest
