// A redis-server child for unit tests (tests/unit/redis/, admin/'s Redis
// store tests): started on a unix socket in a fresh temporary folder (no TCP
// port, nothing persisted), killed and removed by the destructor. Start()
// may be called again after Kill() (a restart, empty). available() is false
// when /usr/bin/redis-server (or $REDIS_SERVER) is missing: tests then skip,
// saying why. Header-only, so any unit test folder can use it.
#pragma once

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdarg.h>
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
    char tmpl[] = "/tmp/tidegate-redis-unit-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) dir_ = tmpl;
    socket_ = dir_ + "/redis.sock";
  }
  ~RedisServer() {
    Kill();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  bool available() const { return access(binary_.c_str(), X_OK) == 0 && !dir_.empty(); }
  const std::string& binary() const { return binary_; }

  // Starts the server and waits (up to 10 s) until it answers PING.
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
      if (Run("PING") == "PONG") return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGCONT);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    unlink(socket_.c_str());
  }
  void Pause() { kill(pid_, SIGSTOP); }
  void Resume() { kill(pid_, SIGCONT); }

  // A synchronous command (hiredis format); the reply as text: "" for nil,
  // "ERR:…" for errors, the element count for arrays, "NOCONN"/"NOREPLY".
  std::string Run(const char* format, ...) {
    timeval tv{1, 0};
    redisContext* c = redisConnectUnixWithTimeout(socket_.c_str(), tv);
    if (c == nullptr || c->err) {
      if (c) redisFree(c);
      return "NOCONN";
    }
    redisSetTimeout(c, tv);
    va_list ap;
    va_start(ap, format);
    auto* r = static_cast<redisReply*>(redisvCommand(c, format, ap));
    va_end(ap);
    std::string out;
    if (r == nullptr) {
      out = "NOREPLY";
    } else if (r->type == REDIS_REPLY_ERROR) {
      out = "ERR:" + std::string(r->str, r->len);
    } else if (r->type == REDIS_REPLY_INTEGER) {
      out = std::to_string(r->integer);
    } else if (r->type == REDIS_REPLY_ARRAY) {
      out = std::to_string(r->elements);
    } else if (r->str != nullptr) {
      out.assign(r->str, r->len);
    }
    if (r) freeReplyObject(r);
    redisFree(c);
    return out;
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
