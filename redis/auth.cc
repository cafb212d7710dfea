#include "redis/auth.h"

#include <hiredis/hiredis.h>
#include <sys/stat.h>

#include <optional>

#include "config/secret_file.h"

namespace tidegate::redis {

RedisCredentials RedisCredentials::ForState(const config::StateConfig& state) {
  RedisCredentials c;
  c.username = state.redis_username;
  c.password = state.redis_password;
  c.password_file = state.redis_password_path;
  return c;
}

RedisCredentials RedisCredentials::ForSentinels(const config::StateConfig& state) {
  RedisCredentials c;
  c.password = state.sentinel_password;
  c.password_file = state.sentinel_password_path;
  return c;
}

bool RefreshPassword(RedisCredentials* credentials) {
  if (credentials->password_file.empty()) return false;
  struct stat st {};
  if (::stat(credentials->password_file.c_str(), &st) != 0) return false;
  std::string stamp = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
                      std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
                      std::to_string(st.st_mtim.tv_nsec);
  if (stamp == credentials->file_stamp) return false;
  std::string error;
  std::optional<std::string> secret = config::ReadSecretFile(credentials->password_file, &error);
  if (!secret || secret->empty()) return false;
  credentials->file_stamp = std::move(stamp);
  if (*secret == credentials->password) return false;
  credentials->password = std::move(*secret);
  return true;
}

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
