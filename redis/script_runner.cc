#include "redis/script_runner.h"

#include <openssl/sha.h>

#include <memory>
#include <utility>

namespace tidegate::redis {
namespace {

std::string Sha1Hex(const std::string& text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA_DIGEST_LENGTH);
  for (unsigned char c : digest) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace

ScriptRunner::ScriptRunner(std::string source)
    : source_(std::move(source)), sha1_(Sha1Hex(source_)) {}

bool IsNoScriptError(std::string_view error) {
  // RedisConnection prefixes error replies with its name: "redis …: NOSCRIPT …".
  return error.rfind("NOSCRIPT", 0) == 0 || error.find(": NOSCRIPT") != std::string_view::npos;
}

void ScriptRunner::Run(RedisConnection& connection, const std::vector<std::string>& keys,
                       const std::vector<std::string>& args,
                       RedisConnection::ReplyCallback done) const {
  // The command lives in the callback, so the EVAL retry reuses it without a
  // copy (hiredis has serialised it by the time Command() returns).
  auto command = std::make_shared<std::vector<std::string>>();
  command->reserve(3 + keys.size() + args.size());
  command->push_back("EVALSHA");
  command->push_back(sha1_);
  command->push_back(std::to_string(keys.size()));
  command->insert(command->end(), keys.begin(), keys.end());
  command->insert(command->end(), args.begin(), args.end());
  RedisConnection* link = &connection;  // a dropped callback never runs: no dangling use
  connection.Command(*command,
                     [this, link, command, done = std::move(done)](RedisResult result) mutable {
                       if (result.ok || !IsNoScriptError(result.error)) {
                         if (done) done(std::move(result));
                         return;
                       }
                       (*command)[0] = "EVAL";
                       (*command)[1] = source_;
                       link->Command(*command, std::move(done));
                     });
}

}  // namespace tidegate::redis
