#include "redis/redis_connection.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>

#include "common/timeval.h"
#include "redis/sentinel_resolver.h"

namespace tidegate::redis {
namespace {

using common::ToTimeval;

// Copies a hiredis reply; false (and *error) when it is, or contains, an
// error reply: those are failures, never data.
bool CopyReply(const redisReply* in, RedisReply* out, std::string* error) {
  switch (in->type) {
    case REDIS_REPLY_ERROR:
      *error = std::string(in->str, in->len);
      return false;
    case REDIS_REPLY_INTEGER:
      out->type = RedisReply::Type::kInteger;
      out->integer = in->integer;
      return true;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      out->type =
          in->type == REDIS_REPLY_STRING ? RedisReply::Type::kString : RedisReply::Type::kStatus;
      out->str.assign(in->str, in->len);
      return true;
    case REDIS_REPLY_ARRAY:
      out->type = RedisReply::Type::kArray;
      out->elements.resize(in->elements);
      for (size_t i = 0; i < in->elements; ++i) {
        if (!CopyReply(in->element[i], &out->elements[i], error)) return false;
      }
      return true;
    case REDIS_REPLY_NIL:
    default:
      out->type = RedisReply::Type::kNil;
      return true;
  }
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// `error` without the "<name>: " OnReply() put in front of it.
std::string WithoutName(const std::string& error, const std::string& name) {
  std::string prefix = name + ": ";
  return error.rfind(prefix, 0) == 0 ? error.substr(prefix.size()) : error;
}

// A reply saying this connection is not (or no longer) authenticated.
bool IsAuthError(const std::string& error) {
  return error.rfind("NOAUTH", 0) == 0 || error.rfind("WRONGPASS", 0) == 0;
}

}  // namespace

RedisConnection::Options RedisConnection::Options::ForState(const config::StateConfig& state,
                                                            std::string name) {
  Options o;
  if (state.redis) o.address = *state.redis;
  o.timeout = state.redis_timeout;
  o.name = std::move(name);
  o.sentinels = state.sentinels;
  o.master_name = state.master_name;
  o.sentinel_auth = RedisCredentials::ForSentinels(state);
  o.credentials = RedisCredentials::ForState(state);
  return o;
}

RedisConnection::RedisConnection(event_base* base, Options options, StatusCallback on_status)
    : base_(base),
      options_(std::move(options)),
      on_status_(std::move(on_status)),
      random_(std::random_device{}()) {
  connect_timer_ = evtimer_new(base_, &RedisConnection::OnConnectTimeout, this);
  retry_timer_ = evtimer_new(base_, &RedisConnection::OnRetry, this);
  drop_timer_ = evtimer_new(base_, &RedisConnection::OnDeferredDrop, this);
  if (!options_.sentinels.empty()) {
    resolver_ = std::make_unique<SentinelResolver>(
        base_, SentinelOptions{options_.sentinels, options_.master_name, options_.timeout,
                               options_.sentinel_auth});
  } else {
    current_ = options_.address;
  }
}

RedisConnection::~RedisConnection() {
  closing_ = true;
  if (ac_ != nullptr) {
    redisAsyncContext* ac = ac_;
    ac_ = nullptr;
    connected_ = false;
    redisAsyncFree(ac);  // runs every pending callback with NULL: dropped (closing_)
  }
  for (auto& [id, pending] : pending_) {
    if (pending->timer != nullptr) event_free(pending->timer);
  }
  pending_.clear();
  resolver_.reset();  // drops a resolution in flight
  event_free(connect_timer_);
  event_free(retry_timer_);
  event_free(drop_timer_);
}

void RedisConnection::Start() {
  if (ac_ == nullptr && !evtimer_pending(retry_timer_, nullptr) &&
      !(resolver_ && resolver_->resolving())) {
    Connect();
  }
}

std::string RedisConnection::TimeoutText() const {
  return std::to_string(options_.timeout.count()) + "ms";
}

void RedisConnection::Connect() {
  drop_reason_.clear();
  if (!resolver_) return ConnectTo(options_.address);
  resolver_->Resolve([this](bool ok, const config::Address& primary, const std::string& error) {
    if (!ok) return Lost("no primary from the sentinels: " + error);
    current_ = primary;
    if (ac_ == nullptr) ConnectTo(primary);
  });
}

void RedisConnection::ConnectTo(const config::Address& a) {
  redisAsyncContext* ac = a.unix_path.empty() ? redisAsyncConnect(a.host.c_str(), a.port)
                                              : redisAsyncConnectUnix(a.unix_path.c_str());
  if (ac == nullptr) return Lost("cannot allocate a connection");
  if (ac->err != 0) {
    std::string why = ac->errstr;
    redisAsyncFree(ac);
    return Lost("connect: " + why);
  }
  ac->data = this;
  if (redisLibeventAttach(ac, base_) != REDIS_OK) {
    redisAsyncFree(ac);
    return Lost("cannot attach to the event loop");
  }
  redisAsyncSetConnectCallback(ac, &RedisConnection::OnConnect);
  redisAsyncSetDisconnectCallback(ac, &RedisConnection::OnDisconnect);
  ac_ = ac;
  timeval tv = ToTimeval(options_.timeout);
  evtimer_add(connect_timer_, &tv);
}

void RedisConnection::OnConnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  if (self->ac_ != ac) return;
  evtimer_del(self->connect_timer_);
  if (status != REDIS_OK) {
    // hiredis frees this context when we return: forget it, never free it.
    self->ac_ = nullptr;
    return self->Lost(std::string("connect: ") + ac->errstr);
  }
  RefreshPassword(&self->options_.credentials);  // rotated in its file: no restart
  if (self->options_.credentials.enabled()) return self->Authenticate();
  self->AfterAuth();
}

void RedisConnection::AfterAuth() {
  if (sentinel_mode()) return VerifyRole();
  Up();
}

// First command on every new connection: until it is accepted the server
// answers everything else NOAUTH. A refusal is a failed connection attempt.
void RedisConnection::Authenticate() {
  Send(
      AuthCommand(options_.credentials),
      [this](RedisResult result) {
        if (result.ok) return AfterAuth();
        if (ac_ == nullptr) return;  // lost meanwhile: already reported
        DropSoon("AUTH refused: " +
                 Redact(WithoutName(result.error, options_.name), options_.credentials));
      },
      nullptr, options_.timeout, /*before_up=*/true);
}

void RedisConnection::Up() {
  connected_ = true;
  backoff_ = std::chrono::milliseconds(0);
  ++connects_;
  if (on_status_) on_status_(true, "");
}

// The sentinels may name a primary that was just demoted (their view lags a
// failover by a moment): only a server that says it is a master counts.
void RedisConnection::VerifyRole() {
  Send(
      {"ROLE"},
      [this](RedisResult result) {
        const RedisReply& r = result.reply;
        if (result.ok && r.type == RedisReply::Type::kArray && !r.elements.empty() &&
            r.elements[0].str == "master") {
          return Up();
        }
        DropSoon(result.ok ? current_.text + " is not the primary (ROLE: " +
                                 (r.elements.empty() ? std::string("?") : r.elements[0].str) + ")"
                           : result.error);
      },
      nullptr, options_.timeout, /*before_up=*/true);
}

void RedisConnection::DropSoon(const std::string& reason) {
  drop_soon_reason_ = reason;
  timeval zero{0, 0};
  evtimer_add(drop_timer_, &zero);
}

void RedisConnection::OnDeferredDrop(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<RedisConnection*>(arg);
  self->Drop(self->drop_soon_reason_);
}

void RedisConnection::OnDisconnect(const redisAsyncContext* ac, int /*status*/) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  if (self->ac_ != ac) return;  // dropped by us: already reported
  self->ac_ = nullptr;          // hiredis frees it when we return
  self->connected_ = false;
  self->Lost(ac->err != 0 ? std::string("connection lost: ") + ac->errstr
                          : std::string("connection closed"));
}

void RedisConnection::Lost(const std::string& reason) {
  connected_ = false;
  blocked_until_ = {};
  evtimer_del(drop_timer_);  // meant for the connection that is gone
  if (closing_) return;
  if (on_status_) on_status_(false, options_.name + ": " + reason);
  ScheduleRetry();
}

void RedisConnection::ScheduleRetry() {
  if (closing_ || evtimer_pending(retry_timer_, nullptr)) return;
  backoff_ = backoff_.count() == 0 ? options_.backoff_initial
                                   : std::min(backoff_ * 2, options_.backoff_max);
  std::uniform_int_distribution<int> jitter(80, 120);  // ±20 %
  auto delay = std::chrono::milliseconds(backoff_.count() * jitter(random_) / 100);
  timeval tv = ToTimeval(delay);
  evtimer_add(retry_timer_, &tv);
}

void RedisConnection::OnRetry(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<RedisConnection*>(arg);
  if (self->ac_ == nullptr && !(self->resolver_ && self->resolver_->resolving())) self->Connect();
}

void RedisConnection::OnConnectTimeout(evutil_socket_t, short, void* arg) {
  static_cast<RedisConnection*>(arg)->Drop("connect timed out after " +
                                           static_cast<RedisConnection*>(arg)->TimeoutText());
}

void RedisConnection::Drop(const std::string& reason) {
  if (ac_ == nullptr) return;
  redisAsyncContext* ac = ac_;
  ac_ = nullptr;
  connected_ = false;
  drop_reason_ = options_.name + ": " + reason;
  evtimer_del(connect_timer_);
  // Pending callbacks run with NULL replies (failed with drop_reason_);
  // OnDisconnect then sees a context that is no longer ours and ignores it.
  redisAsyncFree(ac);
  Lost(reason);
}

void RedisConnection::Command(const std::vector<std::string>& args, ReplyCallback done) {
  Send(args, std::move(done), nullptr, options_.timeout);
}

void RedisConnection::Command(const std::vector<std::string>& args, ReplyCallback done,
                              std::chrono::milliseconds timeout) {
  Send(args, std::move(done), nullptr, timeout);
}

void RedisConnection::Subscribe(const std::string& channel, MessageCallback on_message,
                                ReplyCallback on_subscribed) {
  Send({"SUBSCRIBE", channel}, std::move(on_subscribed), std::move(on_message), options_.timeout);
}

RedisConnection::Pending* RedisConnection::Send(const std::vector<std::string>& args,
                                                ReplyCallback done, MessageCallback on_msg,
                                                std::chrono::milliseconds timeout, bool before_up) {
  if ((!connected_ && !before_up) || ac_ == nullptr) {
    RedisResult result;
    result.error = options_.name + ": not connected";
    if (done) done(std::move(result));
    return nullptr;
  }
  auto pending = std::make_unique<Pending>();
  Pending* p = pending.get();
  p->owner = this;
  p->id = next_id_++;
  p->done = std::move(done);
  p->on_message = std::move(on_msg);
  p->sent_at = std::chrono::steady_clock::now();
  p->timeout = timeout;
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  if (redisAsyncCommandArgv(ac_, &RedisConnection::OnReply, p, static_cast<int>(argv.size()),
                            argv.data(), lengths.data()) != REDIS_OK) {
    RedisResult result;
    result.error = options_.name + ": cannot send the command";
    if (p->done) p->done(std::move(result));
    return nullptr;
  }
  p->timer = evtimer_new(base_, &RedisConnection::OnCommandTimeout, p);
  // Redis answers a connection's commands in order: one sent behind a
  // command that may block on the server (WAIT) starts its own clock when
  // that one's time is up, so it is not timed out for waiting in line. A
  // frozen server is still caught by the earliest pending command's timer.
  auto now = std::chrono::steady_clock::now();
  auto deadline = std::max(now, blocked_until_) + timeout;
  if (timeout > options_.timeout) blocked_until_ = std::max(blocked_until_, deadline);
  timeval tv = ToTimeval(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
  evtimer_add(p->timer, &tv);
  pending_[p->id] = std::move(pending);
  return p;
}

void RedisConnection::OnCommandTimeout(evutil_socket_t, short, void* arg) {
  auto* p = static_cast<Pending*>(arg);
  RedisConnection* self = p->owner;
  // Freeing the context fails this command and every other pending one.
  self->Drop("timed out after " + std::to_string(p->timeout.count()) + "ms");
}

void RedisConnection::OnReply(redisAsyncContext* ac, void* reply, void* privdata) {
  auto* p = static_cast<Pending*>(privdata);
  RedisConnection* self = p->owner;
  auto* r = static_cast<redisReply*>(reply);
  RedisResult result;
  result.latency_seconds = SecondsSince(p->sent_at);
  if (r == nullptr) {
    if (self->ac_ == ac) self->connected_ = false;  // hiredis is tearing it down
    result.error = self->ac_ != ac && !self->drop_reason_.empty() ? self->drop_reason_
                   : ac->err != 0 ? self->options_.name + ": connection lost: " + ac->errstr
                                  : self->options_.name + ": connection lost";
    return self->Finish(p, std::move(result));
  }
  if (p->on_message) {
    // A subscription: ["subscribe", channel, n] once, then ["message", channel, payload].
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 3 &&
        r->element[0]->type == REDIS_REPLY_STRING) {
      std::string kind(r->element[0]->str, r->element[0]->len);
      if (kind == "message" && r->element[2]->type == REDIS_REPLY_STRING) {
        if (!self->closing_) p->on_message(std::string(r->element[2]->str, r->element[2]->len));
      } else if (kind == "subscribe" && p->done) {
        if (p->timer != nullptr) evtimer_del(p->timer);
        result.ok = true;
        ReplyCallback done = std::move(p->done);
        p->done = nullptr;
        if (!self->closing_) done(std::move(result));
      }
    }
    return;
  }
  result.ok = CopyReply(r, &result.reply, &result.error);
  if (!result.ok && self->sentinel_mode() && result.error.rfind("READONLY", 0) == 0) {
    // Demoted by a failover: ask the sentinels again (after this callback).
    self->DropSoon(self->current_.text + " answered READONLY: no longer the primary");
  }
  if (!result.ok && self->connected_ && self->ac_ == ac && IsAuthError(result.error)) {
    // The server wants a password this connection did not give (it was set
    // after we connected without one, or ours was refused): a connection
    // failure, retried with backoff; the next attempt authenticates again.
    result.error = Redact(result.error, self->options_.credentials);
    self->DropSoon(result.error + (self->options_.credentials.enabled()
                                       ? ""
                                       : " (the server needs a password: set "
                                         "[state].redis_password_file)"));
  }
  if (!result.ok) result.error = self->options_.name + ": " + result.error;
  self->Finish(p, std::move(result));
}

void RedisConnection::Finish(Pending* p, RedisResult result) {
  auto it = pending_.find(p->id);
  if (it == pending_.end()) return;
  std::unique_ptr<Pending> owned = std::move(it->second);
  pending_.erase(it);
  if (owned->timer != nullptr) {
    event_free(owned->timer);
    owned->timer = nullptr;
  }
  if (!closing_ && owned->done) owned->done(std::move(result));
}

}  // namespace tidegate::redis
