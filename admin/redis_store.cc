#include "admin/redis_store.h"

#include <hiredis/hiredis.h>

#include "admin/redis_scripts.h"
#include "admin/runtime_state_json.h"
#include "common/timeval.h"

namespace tidegate::admin {
namespace {

constexpr int kMaxApplyAttempts = 10;
constexpr auto kWarnEvery = std::chrono::seconds(10);

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

using common::ToTimeval;

}  // namespace

struct RedisStore::ApplyOp {
  state::StateChange change;
  std::string actor;
  std::optional<uint64_t> expected;
  DoneCallback done;
  int attempts = 0;
};

RedisStoreOptions RedisStoreOptions::FromConfig(const config::StateConfig& state) {
  RedisStoreOptions options;
  if (state.redis) options.address = *state.redis;
  options.timeout = state.redis_timeout;
  options.resync_interval = state.resync_interval;
  options.sentinels = state.sentinels;
  options.master_name = state.master_name;
  options.sentinel_auth = redis::RedisCredentials::ForSentinels(state);
  options.credentials = redis::RedisCredentials::ForState(state);
  options.wait_replicas = state.wait_replicas;
  options.wait_timeout = state.wait_timeout;
  return options;
}

RedisStore::RedisStore(event_base* base, RedisStoreOptions options)
    : base_(base),
      options_(std::move(options)),
      state_key_(options_.prefix + ":state"),
      version_key_(options_.prefix + ":version"),
      audit_key_(options_.prefix + ":audit"),
      channel_(options_.prefix + ":changes"),
      compare_and_set_(kCompareAndSetScript),
      write_back_(kWriteBackScript),
      state_(std::make_shared<const state::RuntimeState>()),
      random_(std::random_device{}()),
      copy_(options_.copy_path, Identity()) {}

std::unique_ptr<RedisStore> RedisStore::Start(event_base* base, RedisStoreOptions options) {
  std::unique_ptr<RedisStore> store(new RedisStore(base, std::move(options)));
  RedisStore* self = store.get();
  store->LoadCopy();
  store->LoadAtStart();
  store->commands_ = std::make_unique<redis::RedisConnection>(
      base, self->ConnectionOptions(""),
      [self](bool up, const std::string& error) { self->OnCommandsStatus(up, error); });
  store->subscriber_ = std::make_unique<redis::RedisConnection>(
      base, self->ConnectionOptions(" (subscriber)"),
      [self](bool up, const std::string& error) { self->OnSubscriberStatus(up, error); });
  if (!self->options_.sentinels.empty()) {
    store->watcher_ = std::make_unique<redis::SentinelWatcher>(
        base,
        redis::SentinelOptions{self->options_.sentinels, self->options_.master_name,
                               self->options_.timeout, self->options_.sentinel_auth},
        [self](const config::Address& primary) { self->OnSwitchMaster(primary); });
    store->watcher_->Start();
  }
  store->retry_timer_ = evtimer_new(base, &RedisStore::OnRetryTimer, self);
  store->resync_timer_ = event_new(base, -1, EV_PERSIST, &RedisStore::OnResyncTimer, self);
  timeval tv = ToTimeval(store->options_.resync_interval);
  evtimer_add(store->resync_timer_, &tv);
  store->commands_->Start();
  store->subscriber_->Start();
  return store;
}

redis::RedisConnection::Options RedisStore::ConnectionOptions(const std::string& role) const {
  redis::RedisConnection::Options c;
  c.address = options_.address;
  c.timeout = options_.timeout;
  c.sentinels = options_.sentinels;
  c.master_name = options_.master_name;
  c.sentinel_auth = options_.sentinel_auth;
  c.credentials = options_.credentials;
  c.name = ServerText() + role;
  return c;
}

std::string RedisStore::Identity() const {
  std::string server = options_.sentinels.empty() ? "redis " + options_.address.text
                                                  : "sentinel master " + options_.master_name;
  return server + " " + options_.prefix;
}

std::string RedisStore::ServerText() const {
  if (options_.sentinels.empty()) return "redis " + options_.address.text;
  return "redis primary of \"" + options_.master_name + "\"";
}

// Sentinel promoted another server: connections still open on the old one
// (alive but demoted, or partitioned away) are dropped and reconnect through
// the sentinels, which now name the new primary.
void RedisStore::OnSwitchMaster(const config::Address& primary) {
  Warn("Sentinel announced a new primary for \"" + options_.master_name + "\": " + primary.text +
       "; reconnecting");
  for (redis::RedisConnection* c : {commands_.get(), subscriber_.get()}) {
    if (c->current_address().text != primary.text) c->Drop("+switch-master to " + primary.text);
  }
}

RedisStore::~RedisStore() {
  // Connections first: their pending callbacks (which point here) are dropped.
  watcher_.reset();
  commands_.reset();
  subscriber_.reset();
  if (resync_timer_ != nullptr) event_free(resync_timer_);
  if (retry_timer_ != nullptr) event_free(retry_timer_);
}

void RedisStore::OnRetryTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<RedisStore*>(arg);
  std::shared_ptr<ApplyOp> op = std::move(self->retry_op_);
  if (op) self->ApplyRead(std::move(op));
}

const common::TimeSource& RedisStore::Time() const {
  return options_.time ? *options_.time : common::SystemTime();
}

common::TimePoint RedisStore::Now() const { return Time().WallNow(); }

// The last state this instance (or the process it replaces) learned: in
// force until Redis says otherwise, so that a start while Redis is down does
// not switch every override off.
void RedisStore::LoadCopy() {
  std::string warning;
  std::optional<StateCopy> copy = copy_.Load(&warning);
  if (!warning.empty()) Warn(warning);
  if (!copy) return;
  state_ = copy->state;
  state_text_ = Dump(ToJson(*state_));
  auto age = std::chrono::duration_cast<std::chrono::seconds>(Now() - copy->saved_at_time);
  Warn("local copy " + copy_.path() + ": version " + std::to_string(state_->version) +
       ", saved at " + copy->saved_at + " (" + std::to_string(age.count()) +
       " s ago); in force until Redis holds a newer one");
}

void RedisStore::SaveCopy() {
  if (!copy_saving_ || !copy_.enabled()) return;
  std::string error;
  if (copy_.Save(*state_, Now(), &error)) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_copy_warn_ < kWarnEvery) return;
  last_copy_warn_ = now;
  Warn(
      "the local copy of the shared state could not be written (a start while Redis is down "
      "would begin from an older one): " +
      error);
}

// One blocking read, bounded by the timeout, before any worker runs: the
// process then starts with the shared switches already in force.
void RedisStore::LoadAtStart() {
  timeval tv = ToTimeval(options_.timeout);
  config::Address a = options_.address;
  if (!options_.sentinels.empty()) {
    std::string error;
    if (!redis::ResolvePrimaryBlocking(
            {options_.sentinels, options_.master_name, options_.timeout, options_.sentinel_auth},
            &a, &error)) {
      ++operations_;
      Failed(ServerText() + ": start-up read: no primary from the sentinels: " + error);
      return;
    }
  }
  redisContext* c = a.unix_path.empty() ? redisConnectWithTimeout(a.host.c_str(), a.port, tv)
                                        : redisConnectUnixWithTimeout(a.unix_path.c_str(), tv);
  ++operations_;
  if (c == nullptr || c->err != 0) {
    Failed("redis " + a.text + ": start-up read: " + (c ? c->errstr : "cannot allocate"));
    if (c != nullptr) redisFree(c);
    return;
  }
  redisSetTimeout(c, tv);
  std::string auth_error;
  redis::RefreshPassword(&options_.credentials);
  if (!redis::AuthenticateBlocking(c, options_.credentials, &auth_error)) {
    Failed("redis " + a.text + ": start-up read: " + auth_error);
    redisFree(c);
    return;
  }
  auto start = Time().MonotonicNow();
  auto* reply =
      static_cast<redisReply*>(redisCommand(c, "GET %b", state_key_.data(), state_key_.size()));
  last_latency_ = std::chrono::duration<double>(Time().MonotonicNow() - start).count();
  if (reply == nullptr) {
    Failed("redis " + a.text + ": start-up read: " + c->errstr);
  } else if (reply->type == REDIS_REPLY_ERROR) {
    Failed("redis " + a.text + ": start-up read: " + std::string(reply->str, reply->len));
  } else if (reply->type == REDIS_REPLY_STRING) {
    if (Adopt(std::string(reply->str, reply->len), /*notify=*/false)) Succeeded();
  } else {
    Succeeded();  // nil: nothing stored yet
  }
  if (reply != nullptr) freeReplyObject(reply);
  redisFree(c);
}

void RedisStore::OnCommandsStatus(bool up, const std::string& error) {
  if (up) return Resync();  // learns what changed while we were away
  Failed(error);
}

void RedisStore::OnSubscriberStatus(bool up, const std::string& error) {
  if (!up) {
    // The periodic resync keeps the state fresh meanwhile; the command
    // connection reports Redis itself being down.
    if (healthy_) Warn("pub/sub connection down (" + error + "); resyncing periodically");
    return;
  }
  subscriber_->Subscribe(
      channel_, [this](const std::string&) { Resync(); },
      [this](redis::RedisResult result) {
        if (!result.ok) return;  // the subscriber reconnects by itself
        Resync();                // catch what was announced before we listened
      });
}

void RedisStore::OnResyncTimer(evutil_socket_t, short, void* arg) {
  static_cast<RedisStore*>(arg)->Resync();
}

void RedisStore::Resync() {
  if (!commands_ || !commands_->connected()) return;
  if (resync_in_flight_) {
    resync_again_ = true;
    return;
  }
  resync_in_flight_ = true;
  // Reads alone cannot tell whether Redis accepts writes (OOM at maxmemory,
  // READONLY, NOREPLICAS): a small write at every resync does. It marks the
  // store unhealthy on an instance that made no change of its own while
  // writes are refused, and healthy again once they are accepted. One SET
  // of a 1-byte key per resync_interval per instance.
  commands_->Command({"SET", options_.prefix + ":write_probe", "1", "PX", "60000"},
                     [this](redis::RedisResult result) {
                       // A refused write is an error reply on a live
                       // connection; a lost or timed-out one is reported by
                       // the connection itself (OnCommandsStatus).
                       if (!result.ok && (!commands_ || !commands_->connected())) return;
                       RecordWrite(result);
                     });
  commands_->Command({"GET", state_key_}, [this](redis::RedisResult result) {
    resync_in_flight_ = false;
    Record(result);
    if (result.ok) {
      if (result.reply.type == redis::RedisReply::Type::kString) {
        Adopt(result.reply.str, /*notify=*/true);
      } else if (state_->version > 0) {
        WriteBack(std::nullopt);
      }
    }
    if (resync_again_) {
      resync_again_ = false;
      Resync();
    }
  });
}

void RedisStore::WriteBack(std::optional<uint64_t> redis_version) {
  if (write_back_in_flight_ || !commands_ || !commands_->connected()) return;
  write_back_in_flight_ = true;
  std::string held = redis_version ? "version " + std::to_string(*redis_version) + ", older"
                                   : "no state (restarted empty?)";
  Warn("Redis holds " + held + ": writing back the last known state, version " +
       std::to_string(state_->version));
  std::string text = state_text_.empty() ? Dump(ToJson(*state_)) : state_text_;
  std::string audit = Dump(RestoreAuditJson(redis_version, state_->version, Now()));
  write_back_.Run(*commands_, {state_key_, version_key_, audit_key_},
                  {text, std::to_string(state_->version), channel_, audit,
                   std::to_string(options_.audit_max_entries)},
                  [this](redis::RedisResult result) {
                    write_back_in_flight_ = false;
                    RecordWrite(result);
                  });
}

std::shared_ptr<const state::RuntimeState> RedisStore::Adopt(const std::string& text, bool notify) {
  if (text == state_text_) return state_;
  std::string error;
  std::optional<state::RuntimeState> parsed = RuntimeStateFromText(text, &error);
  if (!parsed) {
    ++errors_;
    Failed("the state stored in Redis (" + state_key_ + ") is invalid: " + error);
    return nullptr;
  }
  if (parsed->version < state_->version) {
    // Redis lost writes this instance knows of: ours wins, and goes back.
    WriteBack(parsed->version);
    return state_;
  }
  state_ = std::make_shared<const state::RuntimeState>(std::move(*parsed));
  state_text_ = text;
  SaveCopy();
  if (notify && on_change_) on_change_(state_);
  return state_;
}

void RedisStore::Apply(const state::StateChange& change, const std::string& actor,
                       std::optional<uint64_t> expected_version, DoneCallback done) {
  auto op = std::make_shared<ApplyOp>();
  op->change = change;
  op->actor = actor;
  op->expected = expected_version;
  op->done = std::move(done);
  // One change at a time per instance: concurrent ones would only race each
  // other on the compare-and-set.
  queue_.push_back(std::move(op));
  if (!apply_in_flight_) StartNextApply();
}

void RedisStore::StartNextApply() {
  if (queue_.empty()) return;
  apply_in_flight_ = true;
  std::shared_ptr<ApplyOp> op = std::move(queue_.front());
  queue_.pop_front();
  ApplyRead(std::move(op));
}

void RedisStore::ApplyRead(std::shared_ptr<ApplyOp> op) {
  if (!commands_->connected()) {
    ++operations_;
    ++errors_;
    ApplyResult out;
    out.before = out.after = state_;
    out.status = ApplyStatus::kUnavailable;
    out.error = "state store unavailable: " +
                (last_error_.empty() ? std::string("not connected to Redis") : last_error_);
    return FinishApply(op, std::move(out));
  }
  commands_->Command({"GET", state_key_}, [this, op](redis::RedisResult result) {
    Record(result);
    ApplyResult out;
    out.before = out.after = state_;
    if (!result.ok) {
      out.status = ApplyStatus::kUnavailable;
      out.error = "state store unavailable: " + result.error;
      return FinishApply(op, std::move(out));
    }
    std::shared_ptr<const state::RuntimeState> base = state_;
    if (result.reply.type == redis::RedisReply::Type::kString) {
      base = Adopt(result.reply.str, /*notify=*/true);
      if (!base) {
        out.status = ApplyStatus::kUnavailable;
        out.error = "state store unavailable: " + last_error_;
        return FinishApply(op, std::move(out));
      }
    }
    // nil: Redis has no state (first use, or restarted empty): build on ours.
    ApplyOn(op, std::move(base));
  });
}

void RedisStore::ApplyOn(std::shared_ptr<ApplyOp> op,
                         std::shared_ptr<const state::RuntimeState> base) {
  ApplyResult out;
  out.before = out.after = base;
  if (op->expected && *op->expected != base->version) {
    out.status = ApplyStatus::kConflict;
    out.error = "state is at version " + std::to_string(base->version) + ", not " +
                std::to_string(*op->expected);
    return FinishApply(op, std::move(out));
  }
  bool changed = false;
  common::TimePoint now = Now();
  state::RuntimeState next = state::ApplyChange(*base, op->change, op->actor, now, &changed);
  if (!changed) {
    out.status = ApplyStatus::kUnchanged;
    // Waited for too: a change repeated after a "not confirmed" answer is
    // acknowledged only once a replica has it.
    return WaitThenFinish(op, std::move(out), /*notify=*/false);
  }
  std::string text = Dump(ToJson(next));
  std::string audit = Dump(ChangeAuditJson(op->change, op->actor, now, *base, next));
  compare_and_set_.Run(
      *commands_, {state_key_, version_key_, audit_key_},
      {std::to_string(base->version), text, std::to_string(next.version), audit,
       std::to_string(options_.audit_max_entries), channel_},
      [this, op, base, text](redis::RedisResult result) {
        RecordWrite(result);
        ApplyResult out;
        out.before = out.after = base;
        const redis::RedisReply& r = result.reply;
        bool well_formed = result.ok && r.type == redis::RedisReply::Type::kArray &&
                           r.elements.size() == 2 &&
                           r.elements[0].type == redis::RedisReply::Type::kInteger &&
                           r.elements[1].type == redis::RedisReply::Type::kInteger;
        if (!well_formed) {
          if (result.ok) Failed("unexpected reply to the compare-and-set script");
          out.status = ApplyStatus::kUnavailable;
          out.error = "state store unavailable: " + (result.ok ? last_error_ : result.error);
          return FinishApply(op, std::move(out));
        }
        if (r.elements[0].integer == 1) {
          auto after = Adopt(text, /*notify=*/false);
          out.status = ApplyStatus::kApplied;
          out.after = after ? after : base;
          return WaitThenFinish(op, std::move(out), /*notify=*/after != nullptr);
        }
        uint64_t current = static_cast<uint64_t>(r.elements[1].integer);
        if (op->expected) {
          out.status = ApplyStatus::kConflict;
          out.error = "state is at version " + std::to_string(current) + ", not " +
                      std::to_string(*op->expected);
          return FinishApply(op, std::move(out));
        }
        if (++op->attempts >= kMaxApplyAttempts) {
          out.status = ApplyStatus::kUnavailable;
          out.error = "state store busy: the state kept changing under this change; try again";
          return FinishApply(op, std::move(out));
        }
        // Someone else changed it: recompute on the fresh state, after a
        // short random pause so that two instances in lockstep do not keep
        // colliding (one change per instance is in flight, so one timer).
        retry_op_ = op;
        std::uniform_int_distribution<int> pause_ms(1, 10 * op->attempts);
        timeval tv = ToTimeval(std::chrono::milliseconds(pause_ms(random_)));
        evtimer_add(retry_timer_, &tv);
      });
}

void RedisStore::WaitThenFinish(const std::shared_ptr<ApplyOp>& op, ApplyResult out, bool notify) {
  if (options_.wait_replicas <= 0) return FinishApply(op, std::move(out), notify);
  int wanted = options_.wait_replicas;
  auto wait_ms = options_.wait_timeout;
  // WAIT blocks on the server for up to wait_timeout: the command's own
  // timer allows that plus the usual round trip.
  commands_->Command(
      {"WAIT", std::to_string(wanted), std::to_string(wait_ms.count())},
      [this, op, out = std::move(out), notify, wanted, wait_ms](redis::RedisResult result) mutable {
        Record(result);
        long long acked = result.ok && result.reply.type == redis::RedisReply::Type::kInteger
                              ? result.reply.integer
                              : -1;
        if (acked >= wanted) return FinishApply(op, std::move(out), notify);
        if (acked >= 0) ++errors_;  // a WAIT that failed is counted by Record()
        std::string what = out.status == ApplyStatus::kApplied ? "written to the Redis primary"
                                                               : "already on the Redis primary";
        std::string why = acked < 0 ? "WAIT failed: " + result.error
                                    : "WAIT " + std::to_string(wanted) + " " +
                                          std::to_string(wait_ms.count()) + " answered " +
                                          std::to_string(acked);
        ApplyResult failed;
        failed.status = ApplyStatus::kUnavailable;
        failed.before = out.before;
        failed.after = out.after;  // in force on the primary all the same
        failed.error = "not durable: the change is " + what + " but no replica confirmed it (" +
                       why + "); a failover now could lose it. Check the replicas, then " +
                       "repeat the change (a repeat is confirmed the same way)";
        Warn(failed.error);
        FinishApply(op, std::move(failed), notify);
      },
      wait_ms + options_.timeout);
}

void RedisStore::FinishApply(const std::shared_ptr<ApplyOp>& op, ApplyResult result, bool notify) {
  DoneCallback done = std::move(op->done);
  op->done = nullptr;
  if (done) done(std::move(result));
  if (notify && on_change_) on_change_(state_);  // after `done`, as StateStore promises
  apply_in_flight_ = false;
  StartNextApply();
}

void RedisStore::Record(const redis::RedisResult& result) {
  ++operations_;
  last_latency_ = result.latency_seconds;
  Observe(result.latency_seconds, &latency_);
  if (result.ok) {
    Succeeded();
  } else {
    ++errors_;
    Failed(result.error);
  }
}

void RedisStore::RecordWrite(const redis::RedisResult& result) {
  if (result.ok) {
    Record(result);
    if (!write_error_.empty()) Warn("Redis accepts writes again");
    write_error_.clear();
    return;
  }
  // Reads may still succeed (OOM, READONLY): the store stays unhealthy until
  // a write does, without flapping with every successful read. A lost
  // connection is reported by the connection itself (OnCommandsStatus).
  ++operations_;
  ++errors_;
  last_latency_ = result.latency_seconds;
  Observe(result.latency_seconds, &latency_);
  if (write_error_.empty()) {
    Warn("Redis refused a write: " + result.error +
         "; operator changes are refused and the store reported unhealthy until a write "
         "succeeds (probed at every resync)");
  }
  write_error_ = result.error;
}

void RedisStore::Failed(const std::string& error) {
  last_error_ = error;
  auto now = Time().MonotonicNow();
  if (healthy_ || now - last_warn_ >= kWarnEvery) {
    Warn("Redis state store unavailable: " + error + "; the last known state (version " +
         std::to_string(state_->version) + ") stays in force");
    last_warn_ = now;
  }
  healthy_ = false;
}

void RedisStore::Succeeded() {
  if (!healthy_) Warn("Redis state store available again");
  healthy_ = true;
  last_error_.clear();
}

void RedisStore::Warn(const std::string& message) {
  if (options_.warn) options_.warn("state.redis", message);
}

StoreHealth RedisStore::Health() const {
  StoreHealth health;
  health.backend = "redis";
  health.healthy = healthy_ && commands_ && commands_->connected() && write_error_.empty();
  health.last_error = last_error_;
  if (health.last_error.empty() && !write_error_.empty()) {
    health.last_error = "writes refused: " + write_error_;
  }
  if (!health.healthy && health.last_error.empty()) health.last_error = "not connected yet";
  health.operations_total = operations_;
  health.errors_total = errors_;
  health.last_latency_seconds = last_latency_;
  health.latency = latency_;
  return health;
}

}  // namespace tidegate::admin
