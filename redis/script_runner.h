// ScriptRunner: one Lua script, run on a RedisConnection with EVALSHA and
// healed transparently when Redis does not know it.
//
// The script's SHA-1 is computed once, when the runner is built (OpenSSL
// SHA1). Run() sends EVALSHA; a Redis that lost its script cache (restarted,
// failed over, SCRIPT FLUSH) answers NOSCRIPT, and Run() then sends the
// source once with EVAL, which also puts it back in the cache, so the next
// EVALSHA hits again. The caller sees one result either way: the script's
// reply, or the failure of the command that ran last.
//
// Contract:
// * Immutable after construction: one runner may be shared by any number of
//   connections and threads (each Run() on its connection's thread).
// * Run(): `done` is called exactly once, as RedisConnection::Command
//   promises (synchronously when not connected, otherwise from the
//   connection's loop), unless the connection is destroyed first (then it is
//   dropped). The runner must outlive the commands it has in flight (owners
//   destroy their connections before their runners).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "redis/redis_connection.h"

namespace tidegate::redis {

class ScriptRunner {
 public:
  explicit ScriptRunner(std::string source);

  const std::string& source() const { return source_; }
  // Lower-case hex, as SCRIPT LOAD returns it.
  const std::string& sha1() const { return sha1_; }

  // EVALSHA sha1 numkeys keys… args…, falling back to EVAL on NOSCRIPT.
  void Run(RedisConnection& connection, const std::vector<std::string>& keys,
           const std::vector<std::string>& args, RedisConnection::ReplyCallback done) const;

 private:
  std::string source_;
  std::string sha1_;
};

// True when `error` (a RedisResult::error) is Redis's NOSCRIPT reply.
bool IsNoScriptError(std::string_view error);

}  // namespace tidegate::redis
