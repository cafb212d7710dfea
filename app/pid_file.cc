#include "app/pid_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace tidegate::app {

bool WritePidFile(const std::string& path, pid_t pid, std::string* error) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  FILE* f = fopen(tmp.c_str(), "we");
  if (f == nullptr) {
    *error = "pid file " + path + ": " + strerror(errno);
    return false;
  }
  std::string text = std::to_string(pid) + "\n";
  bool ok = fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = fclose(f) == 0 && ok;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "pid file " + path + ": " + strerror(errno);
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

void RemovePidFileIfOwn(const std::string& path, pid_t pid) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (in && text.str() == std::to_string(pid) + "\n") unlink(path.c_str());
}

}  // namespace tidegate::app
