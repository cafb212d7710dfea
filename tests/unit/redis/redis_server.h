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
#include <vector>

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

  // Starts the server and waits (up to 10 s) until it answers PING (or
  // NOAUTH: a server started with a password).
  // `extra_args` go at the end of its command line ("--requirepass", "pw").
  bool Start(const std::vector<std::string>& extra_args = {}) {
    std::vector<std::string> args = {
        binary_,        "--port", "0",     "--unixsocket", socket_,      "--save", "",
        "--appendonly", "no",     "--dir", dir_,           "--loglevel", "warning"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      int devnull = open("/dev/null", O_RDWR);
      dup2(devnull, 1);
      dup2(devnull, 2);
      execv(binary_.c_str(), argv.data());
      _exit(127);
    }
    if (pid_ < 0) return false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      // A server with a password answers NOAUTH until Run() authenticates.
      std::string pong = Run("PING");
      if (pong == "PONG" || pong.rfind("ERR:NOAUTH", 0) == 0) return true;
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

  // Run() authenticates first with these (a server started with
  // --requirepass or ACL users); "" = no AUTH.
  void set_auth(std::string username, std::string password) {
    auth_user_ = std::move(username);
    auth_password_ = std::move(password);
  }

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
    if (!auth_password_.empty()) {
      auto* a = static_cast<redisReply*>(
          auth_user_.empty()
              ? redisCommand(c, "AUTH %s", auth_password_.c_str())
              : redisCommand(c, "AUTH %s %s", auth_user_.c_str(), auth_password_.c_str()));
      std::string failed = a == nullptr                   ? "NOREPLY"
                           : a->type == REDIS_REPLY_ERROR ? "ERR:" + std::string(a->str, a->len)
                                                          : "";
      if (a) freeReplyObject(a);
      if (!failed.empty()) {
        redisFree(c);
        return failed;
      }
    }
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
  std::string auth_user_, auth_password_;
  pid_t pid_ = -1;
};

}  // namespace tidegate::redis::test_support
