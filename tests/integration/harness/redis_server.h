// A real redis-server for one test: on a probed free loopback port, in the
// test's temp dir, with no persistence (--save "" --appendonly no), so a
// restart comes back empty — the worst case the state store must survive.
//
// Contract:
// * Available() is false when the binary (REDIS_SERVER env, else
//   /usr/bin/redis-server) is missing: tests GTEST_SKIP then, and say so.
// * Start() runs it and waits (<= 10 s) until it answers PING with PONG;
//   nullptr + *error otherwise. Stop() sends SIGTERM and reaps it; Restart()
//   starts it again on the same port; Pause()/Resume() freeze and thaw it
//   (SIGSTOP/SIGCONT) for timeout tests. The destructor kills and reaps it.
// * Command() sends one command (inline syntax, no spaces inside arguments)
//   on a fresh connection and returns the raw RESP reply ("" on failure);
//   with set_auth("AUTH …") (a server started with --requirepass or ACL
//   users), that AUTH is sent first, and its reply returned when it is not
//   +OK. `extra_args` are appended to redis-server's command line.
// * Test thread only. `dir` must outlive the RedisServer. Never touches any
//   other process.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness/process.h"
#include "tests/integration/harness/temp_dir.h"

namespace tidegate::itest {

class RedisServer {
 public:
  static std::string Binary();
  static bool Available();
  static std::unique_ptr<RedisServer> Start(const TempDir& dir, std::string* error,
                                            std::vector<std::string> extra_args = {},
                                            std::string auth = "");
  ~RedisServer();

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  bool running() const { return process_ != nullptr; }

  bool Stop();
  bool Restart(std::string* error);
  bool Pause();
  bool Resume();
  std::string Command(const std::string& inline_command);
  // The inline AUTH command Command() sends first ("" = none).
  void set_auth(std::string auth) { auth_ = std::move(auth); }

 private:
  RedisServer() = default;
  bool Launch(std::string* error);

  const TempDir* dir_ = nullptr;
  uint16_t port_ = 0;
  int launches_ = 0;
  std::vector<std::string> extra_args_;
  std::string auth_;
  std::unique_ptr<Process> process_;
};

// Starts redis-server or records a gtest failure and returns nullptr.
std::unique_ptr<RedisServer> StartRedisOrFail(const TempDir& dir,
                                              std::vector<std::string> extra_args = {},
                                              std::string auth = "");

// The redis-sentinel binary: $REDIS_SENTINEL, else /usr/bin/redis-sentinel.
std::string RedisSentinelBinary();

// One RESP command (inline syntax) on a fresh connection to 127.0.0.1:port
// (a sentinel, or a server without a password): the raw reply as read
// within about 2 s, "" on failure.
std::string RespCommand(uint16_t port, const std::string& inline_command);

}  // namespace tidegate::itest
