// A redis-server child for the redis/ unit tests: started on a unix socket
// in a fresh temporary folder (no TCP port, nothing persisted), killed and
// removed by the destructor. available() is false when /usr/bin/redis-server
// (or $REDIS_SERVER) is missing: the tests then skip, saying why.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "config/config.h"

namespace tidegate::redis::test_support {

class RedisServer {
 public:
  RedisServer() {
    const char* env = getenv("REDIS_SERVER");
    binary_ = env != nullptr && *env != '\0' ? env : "/usr/bin/redis-server";
    char tmpl[] = "/tmp/tidegate-redis-test-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) dir_ = tmpl;
    socket_ = dir_ + "/redis.sock";
  }
  ~RedisServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  bool available() const { return access(binary_.c_str(), X_OK) == 0 && !dir_.empty(); }

  // Starts the server and waits (up to 10 s) for its socket to appear.
  bool Start() {
    pid_ = fork();
    if (pid_ == 0) {
      int devnull = open("/dev/null", O_RDWR);
      dup2(devnull, 1);
      dup2(devnull, 2);
      execl(binary_.c_str(), binary_.c_str(), "--port", "0", "--unixsocket", socket_.c_str(),
            "--save", "", "--appendonly", "no", "--dir", dir_.c_str(), "--loglevel", "warning",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid_ < 0) return false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::filesystem::exists(socket_)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  config::Address address() const {
    config::Address a;
    a.unix_path = socket_;
    a.text = "unix:" + socket_;
    return a;
  }

 private:
  std::string binary_, dir_, socket_;
  pid_t pid_ = -1;
};

}  // namespace tidegate::redis::test_support
