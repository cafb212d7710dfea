#include "tests/integration/harness/redis_server.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/ports.h"

namespace tidegate::itest {

std::string RedisServer::Binary() {
  const char* env = std::getenv("REDIS_SERVER");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/redis-server";
}

bool RedisServer::Available() { return access(Binary().c_str(), X_OK) == 0; }

std::unique_ptr<RedisServer> RedisServer::Start(const TempDir& dir, std::string* error,
                                                std::vector<std::string> extra_args,
                                                std::string auth) {
  std::unique_ptr<RedisServer> server(new RedisServer());
  server->dir_ = &dir;
  server->extra_args_ = std::move(extra_args);
  server->auth_ = std::move(auth);
  for (int attempt = 0; attempt < 3; ++attempt) {
    server->port_ = FreeLoopbackPort();
    if (server->port_ != 0 && server->Launch(error)) return server;
  }
  return nullptr;
}

RedisServer::~RedisServer() = default;  // Process kills and reaps

bool RedisServer::Launch(std::string* error) {
  ProcessOptions options;
  options.argv = {Binary(), "--port",       std::to_string(port_),
                  "--bind", "127.0.0.1",    "--save",
                  "",       "--appendonly", "no",
                  "--dir",  dir_->path(),   "--protected-mode",
                  "no",     "--loglevel",   "warning"};
  options.argv.insert(options.argv.end(), extra_args_.begin(), extra_args_.end());
  options.log_dir = dir_->path();
  options.name = "redis" + std::to_string(++launches_);
  process_ = Process::Start(options, error);
  if (!process_) return false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->Running()) {
      *error = "redis-server exited: " + process_->Stderr() + process_->Stdout();
      process_.reset();
      return false;
    }
    if (Command("PING") == "+PONG\r\n") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *error = "redis-server did not answer PING on port " + std::to_string(port_);
  process_.reset();
  return false;
}

bool RedisServer::Stop() {
  if (!process_) return true;
  process_->Signal(SIGCONT);  // a paused server cannot handle SIGTERM
  process_->Signal(SIGTERM);
  bool ok = process_->WaitExit(std::chrono::seconds(10)).has_value();
  process_.reset();
  return ok;
}

bool RedisServer::Restart(std::string* error) {
  Stop();
  return Launch(error);
}

bool RedisServer::Pause() { return process_ && process_->Signal(SIGSTOP); }
bool RedisServer::Resume() { return process_ && process_->Signal(SIGCONT); }

std::string RedisServer::Command(const std::string& inline_command) {
  std::string error;
  std::unique_ptr<RawConnection> conn = RawConnection::Connect(port_, &error);
  if (!conn) return "";
  if (!auth_.empty()) {
    if (!conn->Send(auth_ + "\r\n")) return "";
    if (!conn->ReadUntilContains("\r\n", std::chrono::seconds(2))) return "";
    std::string reply = conn->TakeBuffer();
    if (reply != "+OK\r\n") return reply;
  }
  if (!conn->Send(inline_command + "\r\n")) return "";
  if (!conn->ReadUntilContains("\r\n", std::chrono::seconds(2))) return "";
  // Bulk strings and arrays span more lines; give them a moment to arrive.
  while (conn->ReadMore(std::chrono::milliseconds(50)) == ReadStatus::kData) {
  }
  return conn->TakeBuffer();
}

std::unique_ptr<RedisServer> StartRedisOrFail(const TempDir& dir,
                                              std::vector<std::string> extra_args,
                                              std::string auth) {
  std::string error;
  auto server = RedisServer::Start(dir, &error, std::move(extra_args), std::move(auth));
  if (!server) ADD_FAILURE() << "cannot start redis-server: " << error;
  return server;
}

std::string RedisSentinelBinary() {
  const char* env = std::getenv("REDIS_SENTINEL");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/redis-sentinel";
}

std::string RespCommand(uint16_t port, const std::string& inline_command) {
  using namespace std::chrono_literals;
  std::string error;
  std::unique_ptr<RawConnection> conn = RawConnection::Connect(port, &error);
  if (!conn || !conn->Send(inline_command + "\r\n")) return "";
  if (!conn->ReadUntilContains("\r\n", 2s)) return "";
  while (conn->ReadMore(50ms) == ReadStatus::kData) {
  }
  return conn->TakeBuffer();
}

}  // namespace tidegate::itest
