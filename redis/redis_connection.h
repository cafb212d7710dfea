// One asynchronous connection to Redis (hiredis 0.14 with its libevent
// adapter) that its owner keeps open on one event loop (the admin state
// store on the control thread, a worker's room link): per-command timeouts,
// reconnection with backoff and jitter, and every failure turned into an
// error result — never into data, never into a crash or a hang.
//
// Why it exists: hiredis 0.14 (Debian bookworm) has no async timeouts, hands
// NULL replies to callbacks when a context goes away, and needs a context of
// its own for SUBSCRIBE. This class hides those rules:
// * every Command() has its own libevent timer; when it fires, the context is
//   freed, every pending command fails ("timed out after …") and a reconnect
//   is scheduled — a frozen Redis (SIGSTOP, CLIENT PAUSE) costs at most one
//   timeout per command;
// * error replies (OOM, READONLY, BUSY, NOAUTH, LOADING, MOVED …) and
//   protocol errors (something that is not Redis on the port) are failures;
// * connecting is non-blocking (the address is an IP literal or a unix
//   socket: hiredis would resolve names synchronously) and bounded by the
//   same timeout;
// * after a failure the next attempt waits backoff_initial, doubling up to
//   backoff_max, ±20 % jitter; a successful connection resets it;
// * with `sentinels` (Redis Sentinel), every connection attempt first asks
//   the sentinels for the primary of `master_name` (redis/sentinel_resolver.h),
//   then checks with ROLE that the server it reached is a master before it
//   reports "up"; a READONLY reply (the server was demoted) drops the
//   connection, so the next attempt asks the sentinels again;
// * with `credentials` (a Redis server protected by requirepass or an ACL
//   user), AUTH is the first command on every new connection, before ROLE
//   and before the connection is reported up; a refused AUTH (WRONGPASS, a
//   server without a password, a timeout) is a failed connection attempt
//   (reported down with the reason, backoff, retry). A NOAUTH or WRONGPASS
//   reply to a later command drops the connection too, so the next attempt
//   authenticates again. The password never appears in an error text
//   (redis/auth.h, Redact).
//
// Contract:
// * Thread: the thread running `base`, for every method and every callback.
// * Command(): `done` is called exactly once — synchronously with an error
//   when not connected, otherwise later from the event loop — except when the
//   connection is destroyed first (pending callbacks are then dropped, not
//   called). Do not destroy the connection from inside one of its callbacks.
// * A connection used for Subscribe() must not be used for Command().
// * Owns its hiredis context and timers; borrows `base` (must outlive it).
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "config/config.h"
#include "redis/auth.h"

struct redisAsyncContext;

namespace tidegate::redis {

class SentinelResolver;

// A Redis reply, copied out of hiredis (which frees its own after the
// callback). Error replies never appear here: they are failures.
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kArray };
  Type type = Type::kNil;
  long long integer = 0;
  std::string str;  // kString, kStatus
  std::vector<RedisReply> elements;
};

struct RedisResult {
  bool ok = false;
  std::string error;  // when !ok: "timed out after 250ms", "ERR …", "connection lost: …"
  RedisReply reply;   // when ok
  double latency_seconds = 0;
};

class RedisConnection {
 public:
  struct Options {
    config::Address address;                 // IP literal + port, or unix_path
    std::chrono::milliseconds timeout{250};  // per command, and for connecting
    std::chrono::milliseconds backoff_initial{100};
    std::chrono::milliseconds backoff_max{2000};
    std::string name = "redis";  // for error texts
    // Redis Sentinel: when non-empty, `address` is ignored and the primary
    // of `master_name` is asked of these before every connection attempt.
    std::vector<config::Address> sentinels;
    std::string master_name;
    RedisCredentials sentinel_auth;  // AUTH on the sentinels (no password: none)
    // AUTH on the Redis server itself (the primary with sentinels).
    RedisCredentials credentials;

    // A [state] Redis connection: `redis` or the sentinels, redis_timeout,
    // the sentinels' and the server's passwords. Default backoff.
    static Options ForState(const config::StateConfig& state, std::string name);
  };
  using ReplyCallback = std::function<void(RedisResult)>;
  using MessageCallback = std::function<void(const std::string& payload)>;
  // up = true once connected; up = false with the reason when a connection
  // attempt failed or an established connection was lost.
  using StatusCallback = std::function<void(bool up, const std::string& error)>;

  RedisConnection(event_base* base, Options options, StatusCallback on_status);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Starts connecting now; from then on it reconnects by itself.
  void Start();

  bool connected() const { return connected_; }

  void Command(const std::vector<std::string>& args, ReplyCallback done);
  // The same with its own timeout instead of Options::timeout (WAIT, which
  // blocks on the server for up to its own timeout). Commands sent after one
  // with a longer timeout count their own timeout from the end of that one's.
  void Command(const std::vector<std::string>& args, ReplyCallback done,
               std::chrono::milliseconds timeout);

  // SUBSCRIBE `channel`: `on_subscribed` once (confirmation or failure, with
  // the timeout), then `on_message` for every message until the connection
  // drops (reported through the StatusCallback; subscribe again after the
  // next "up").
  void Subscribe(const std::string& channel, MessageCallback on_message,
                 ReplyCallback on_subscribed);

  // Frees the context (failing everything pending with `reason`) and
  // schedules a reconnect.
  void Drop(const std::string& reason);

  uint64_t connects_total() const { return connects_; }
  // The server connected to (or last tried): Options::address, or the
  // primary the sentinels named. Text empty before the first resolution.
  const config::Address& current_address() const { return current_; }

 private:
  struct Pending {
    RedisConnection* owner = nullptr;
    uint64_t id = 0;
    ReplyCallback done;
    MessageCallback on_message;  // set for a subscription
    event* timer = nullptr;
    std::chrono::milliseconds timeout{0};
    std::chrono::steady_clock::time_point sent_at;
  };

  static void OnConnect(const redisAsyncContext* ac, int status);
  static void OnDisconnect(const redisAsyncContext* ac, int status);
  static void OnReply(redisAsyncContext* ac, void* reply, void* privdata);
  static void OnCommandTimeout(evutil_socket_t, short, void* arg);
  static void OnConnectTimeout(evutil_socket_t, short, void* arg);
  static void OnRetry(evutil_socket_t, short, void* arg);
  static void OnDeferredDrop(evutil_socket_t, short, void* arg);

  void Connect();
  void ConnectTo(const config::Address& address);
  void Up();
  void Authenticate();
  void VerifyRole();
  // ROLE (sentinels), then up: after AUTH, or at once without credentials.
  void AfterAuth();
  void DropSoon(const std::string& reason);
  void Lost(const std::string& reason);
  void ScheduleRetry();
  Pending* Send(const std::vector<std::string>& args, ReplyCallback done, MessageCallback on_msg,
                std::chrono::milliseconds timeout, bool before_up = false);
  void Finish(Pending* pending, RedisResult result);
  std::string TimeoutText() const;
  bool sentinel_mode() const { return resolver_ != nullptr; }

  event_base* base_;
  Options options_;
  StatusCallback on_status_;
  redisAsyncContext* ac_ = nullptr;
  bool connected_ = false;
  bool closing_ = false;  // destructor running: callbacks are dropped
  std::string drop_reason_;
  std::map<uint64_t, std::unique_ptr<Pending>> pending_;
  uint64_t next_id_ = 1;
  uint64_t connects_ = 0;
  event* connect_timer_ = nullptr;
  event* retry_timer_ = nullptr;
  event* drop_timer_ = nullptr;  // DropSoon(): a drop decided inside a hiredis callback
  std::string drop_soon_reason_;
  std::unique_ptr<SentinelResolver> resolver_;  // set with Options::sentinels
  // When the last command sent with a longer timeout than Options::timeout
  // may still hold the connection (see Send).
  std::chrono::steady_clock::time_point blocked_until_{};
  config::Address current_;
  std::chrono::milliseconds backoff_{0};
  std::minstd_rand random_;
};

}  // namespace tidegate::redis
