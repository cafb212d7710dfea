#include "tests/integration/harness/proc_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/integration/harness/temp_dir.h"

namespace tidegate::itest {

int CountOpenFds(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/fd";
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return -1;
  int count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

double CpuSeconds(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  // The command name (field 2) may contain spaces: fields after the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  const char* p = stat.c_str() + close + 2;  // field 3 (state)
  // utime and stime are fields 14 and 15: skip fields 3..13 (11 fields).
  for (int i = 0; i < 11 && p != nullptr; ++i) {
    p = strchr(p, ' ');
    if (p != nullptr) ++p;
  }
  if (p == nullptr) return -1;
  char* end = nullptr;
  unsigned long long utime = strtoull(p, &end, 10);
  unsigned long long stime = strtoull(end, nullptr, 10);
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::optional<ProcStats> ReadProcStats(pid_t pid) {
  std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  if (status.empty()) return std::nullopt;
  ProcStats stats;
  auto field = [&](const char* name) -> long {
    size_t pos = status.find(name);
    if (pos == std::string::npos) return -1;
    return strtol(status.c_str() + pos + strlen(name), nullptr, 10);
  };
  stats.vm_rss_kb = field("VmRSS:");
  stats.threads = field("Threads:");
  stats.open_fds = CountOpenFds(pid);
  stats.cpu_seconds = CpuSeconds(pid);
  return stats;
}

}  // namespace tidegate::itest
