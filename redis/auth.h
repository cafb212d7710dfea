// Authenticating to a Redis server protected by a password ([state]
// redis_password_file, redis_username; docs/state.md "Redis servers with a
// password"): the AUTH command, its blocking form for the start-up read, and
// the rule that keeps the password out of every text tidegate shows.
//
// Contract: plain functions, any thread; AuthenticateBlocking() blocks on
// `c` (bounded by the timeout set on it).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

struct redisContext;

namespace tidegate::redis {

struct RedisCredentials {
  std::string username;  // Redis 6+ ACL user; "" = the default user
  std::string password;  // "" = no AUTH at all
  // The file `password` came from ("" = none; RefreshPassword), and what
  // it looked like when last read ("" = not read by RefreshPassword yet).
  std::string password_file;
  std::string file_stamp;

  bool enabled() const { return !password.empty(); }
  // [state] redis_username, redis_password and its file.
  static RedisCredentials ForState(const config::StateConfig& state);
  // [state] sentinel_password and its file (the sentinels' requirepass: no
  // user name).
  static RedisCredentials ForSentinels(const config::StateConfig& state);
};

// A password rotated without a restart: before each new connection the
// owner calls this; when `password_file` changed since it was last read
// (device, inode, size or modification time: one stat), it is read again
// and a non-empty content replaces `password`. A file that cannot be read
// or is empty keeps the password in use (and is tried again next time).
// True when the password changed. Blocking (one stat; a read when changed).
bool RefreshPassword(RedisCredentials* credentials);

// {"AUTH", password} or {"AUTH", username, password}.
std::vector<std::string> AuthCommand(const RedisCredentials& credentials);

// `text` with every occurrence of the password replaced by "[redacted]":
// applied to every error an AUTH attempt produced before it is shown
// (a server or proxy that does not know AUTH may echo its arguments).
std::string Redact(std::string text, const RedisCredentials& credentials);

// Sends AUTH on a connected blocking context. True when the server accepted
// it (or no password is configured); otherwise false and *error says why
// ("WRONGPASS …", "ERR AUTH … called without any password configured …"),
// redacted.
bool AuthenticateBlocking(redisContext* c, const RedisCredentials& credentials, std::string* error);

}  // namespace tidegate::redis
