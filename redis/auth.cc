#include "redis/auth.h"

#include <hiredis/hiredis.h>

namespace tidegate::redis {

std::vector<std::string> AuthCommand(const RedisCredentials& credentials) {
  std::vector<std::string> args{"AUTH"};
  if (!credentials.username.empty()) args.push_back(credentials.username);
  args.push_back(credentials.password);
  return args;
}

std::string Redact(std::string text, const RedisCredentials& credentials) {
  const std::string& secret = credentials.password;
  if (secret.empty()) return text;
  static constexpr char kMark[] = "[redacted]";
  for (size_t at = text.find(secret); at != std::string::npos;
       at = text.find(secret, at + sizeof(kMark) - 1)) {
    text.replace(at, secret.size(), kMark);
  }
  return text;
}

bool AuthenticateBlocking(redisContext* c, const RedisCredentials& credentials,
                          std::string* error) {
  if (!credentials.enabled()) return true;
  std::vector<std::string> args = AuthCommand(credentials);
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  bool refused = reply != nullptr;
  std::string why = reply == nullptr                   ? std::string(c->errstr)
                    : reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len)
                                                       : "";
  if (reply != nullptr) freeReplyObject(reply);
  if (why.empty()) return true;
  *error = (refused ? "AUTH refused: " : "AUTH: ") + Redact(why, credentials);
  return false;
}

}  // namespace tidegate::redis
