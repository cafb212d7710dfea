#include "redis/sentinel_resolver.h"

#include <hiredis/hiredis.h>

#include "common/timeval.h"
#include "config/value_parsers.h"

namespace tidegate::redis {
namespace {

using common::ToTimeval;

constexpr auto kRotateDelay = std::chrono::milliseconds(500);

void Append(std::string* errors, const std::string& error) {
  if (!errors->empty()) *errors += "; ";
  *errors += error;
}

bool AddressFrom(const std::string& ip, const std::string& port, config::Address* out,
                 std::string* error) {
  std::string text = ip.find(':') != std::string::npos ? "[" + ip + "]:" + port : ip + ":" + port;
  std::optional<config::Address> parsed = config::ParseAddress(text, {}, error);
  if (!parsed) {
    *error = "the sentinel answered \"" + text + "\": " + *error +
             " (keep `sentinel resolve-hostnames` off)";
    return false;
  }
  *out = std::move(*parsed);
  return true;
}

}  // namespace

bool PrimaryFromSentinelReply(const RedisReply& reply, const std::string& master_name,
                              config::Address* out, std::string* error) {
  if (reply.type == RedisReply::Type::kNil) {
    *error = "the sentinel does not know master \"" + master_name + "\"";
    return false;
  }
  if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 2 ||
      reply.elements[0].type != RedisReply::Type::kString ||
      reply.elements[1].type != RedisReply::Type::kString) {
    *error = "unexpected reply to SENTINEL get-master-addr-by-name";
    return false;
  }
  return AddressFrom(reply.elements[0].str, reply.elements[1].str, out, error);
}

bool ResolvePrimaryBlocking(const SentinelOptions& options, config::Address* out,
                            std::string* error) {
  std::string errors;
  timeval tv = ToTimeval(options.timeout);
  for (const config::Address& sentinel : options.sentinels) {
    std::string prefix = "sentinel " + sentinel.text + ": ";
    redisContext* c = redisConnectWithTimeout(sentinel.host.c_str(), sentinel.port, tv);
    if (c == nullptr || c->err != 0) {
      Append(&errors, prefix + (c != nullptr ? c->errstr : "cannot allocate"));
      if (c != nullptr) redisFree(c);
      continue;
    }
    redisSetTimeout(c, tv);
    if (options.auth.enabled()) {
      auto* auth =
          static_cast<redisReply*>(redisCommand(c, "AUTH %s", options.auth.password.c_str()));
      std::string why = auth == nullptr                   ? std::string(c->errstr)
                        : auth->type == REDIS_REPLY_ERROR ? std::string(auth->str, auth->len)
                                                          : "";
      if (auth != nullptr) freeReplyObject(auth);
      if (!why.empty()) {
        Append(&errors, prefix + "AUTH: " + why);
        redisFree(c);
        continue;
      }
    }
    auto* r = static_cast<redisReply*>(
        redisCommand(c, "SENTINEL get-master-addr-by-name %s", options.master_name.c_str()));
    std::string why;
    bool ok = false;
    if (r == nullptr) {
      why = c->errstr;
    } else if (r->type == REDIS_REPLY_ERROR) {
      why = std::string(r->str, r->len);
    } else if (r->type == REDIS_REPLY_NIL) {
      why = "the sentinel does not know master \"" + options.master_name + "\"";
    } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
               r->element[0]->type == REDIS_REPLY_STRING &&
               r->element[1]->type == REDIS_REPLY_STRING) {
      ok = AddressFrom(std::string(r->element[0]->str, r->element[0]->len),
                       std::string(r->element[1]->str, r->element[1]->len), out, &why);
    } else {
      why = "unexpected reply to SENTINEL get-master-addr-by-name";
    }
    if (r != nullptr) freeReplyObject(r);
    redisFree(c);
    if (ok) return true;
    Append(&errors, prefix + why);
  }
  *error = errors.empty() ? "no sentinel configured" : errors;
  return false;
}

// ---- SentinelResolver ----

SentinelResolver::SentinelResolver(event_base* base, SentinelOptions options)
    : base_(base), options_(std::move(options)) {
  step_ = evtimer_new(base_, &SentinelResolver::OnStep, this);
}

SentinelResolver::~SentinelResolver() {
  probe_.reset();  // its pending callbacks are dropped
  event_free(step_);
}

void SentinelResolver::Resolve(Callback done) {
  bool running = static_cast<bool>(done_);
  done_ = std::move(done);
  if (running) return;
  tried_ = 0;
  finished_ = false;
  errors_.clear();
  index_ = preferred_;
  Arm();
}

void SentinelResolver::Arm() {
  timeval zero{0, 0};
  evtimer_add(step_, &zero);
}

// Runs from the timer, never inside a probe's callback: the probe may be
// destroyed here.
void SentinelResolver::OnStep(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<SentinelResolver*>(arg);
  self->probe_.reset();
  if (!self->finished_ && self->tried_ >= self->options_.sentinels.size()) {
    self->finished_ = true;
    self->ok_ = false;
    if (self->errors_.empty()) self->errors_ = "no sentinel configured";
  }
  if (!self->finished_) return self->Try();
  Callback done = std::move(self->done_);
  self->done_ = nullptr;
  if (done) done(self->ok_, self->primary_, self->ok_ ? std::string() : self->errors_);
}

void SentinelResolver::Try() {
  uint64_t attempt = ++attempt_;
  const config::Address& sentinel = options_.sentinels[index_ % options_.sentinels.size()];
  RedisConnection::Options c;
  c.address = sentinel;
  c.timeout = options_.timeout;
  c.backoff_initial = c.backoff_max = std::chrono::milliseconds(60'000);  // never retried
  c.name = "sentinel " + sentinel.text;
  RefreshPassword(&options_.auth);  // rotated in its file: no restart
  probe_ = std::make_unique<RedisConnection>(
      base_, c, [this, attempt](bool up, const std::string& error) {
        if (!up) return Settle(attempt, false, {}, error);
        if (!options_.auth.enabled()) return Ask(attempt);
        probe_->Command(AuthCommand(options_.auth), [this, attempt](RedisResult result) {
          if (!result.ok) {
            return Settle(attempt, false, {}, "AUTH: " + Redact(result.error, options_.auth));
          }
          Ask(attempt);
        });
      });
  probe_->Start();
}

void SentinelResolver::Ask(uint64_t attempt) {
  probe_->Command({"SENTINEL", "get-master-addr-by-name", options_.master_name},
                  [this, attempt](RedisResult result) {
                    config::Address primary;
                    std::string why = result.error;
                    bool ok = result.ok && PrimaryFromSentinelReply(
                                               result.reply, options_.master_name, &primary, &why);
                    Settle(attempt, ok, primary, ok ? "" : why);
                  });
}

void SentinelResolver::Settle(uint64_t attempt, bool ok, const config::Address& primary,
                              const std::string& error) {
  if (attempt != attempt_ || evtimer_pending(step_, nullptr)) return;  // already settled
  ++attempt_;
  size_t sentinel = index_ % options_.sentinels.size();
  if (ok) {
    finished_ = true;
    ok_ = true;
    primary_ = primary;
    preferred_ = sentinel;
  } else {
    std::string name = "sentinel " + options_.sentinels[sentinel].text + ": ";
    Append(&errors_, error.rfind(name, 0) == 0 ? error : name + error);
    ++tried_;
    ++index_;
  }
  Arm();
}

// ---- SentinelWatcher ----

SentinelWatcher::SentinelWatcher(event_base* base, SentinelOptions options,
                                 SwitchCallback on_switch)
    : base_(base), options_(std::move(options)), on_switch_(std::move(on_switch)) {
  rotate_ = evtimer_new(base_, &SentinelWatcher::OnRotate, this);
}

SentinelWatcher::~SentinelWatcher() {
  subscriber_.reset();
  event_free(rotate_);
}

void SentinelWatcher::Start() {
  if (!options_.sentinels.empty() && !subscriber_) Open();
}

void SentinelWatcher::Open() {
  const config::Address& sentinel = options_.sentinels[index_ % options_.sentinels.size()];
  RedisConnection::Options c;
  c.address = sentinel;
  c.timeout = options_.timeout;
  c.backoff_initial = c.backoff_max = std::chrono::milliseconds(60'000);  // rotated instead
  c.name = "sentinel " + sentinel.text + " (+switch-master)";
  RefreshPassword(&options_.auth);
  subscriber_ = std::make_unique<RedisConnection>(base_, c, [this](bool up, const std::string&) {
    if (!up) {
      // Lost or unreachable: listen on the next sentinel, after a pause so
      // that a cluster with every sentinel down costs no busy loop.
      subscribed_ = false;
      timeval tv = ToTimeval(kRotateDelay);
      if (!evtimer_pending(rotate_, nullptr)) evtimer_add(rotate_, &tv);
      return;
    }
    if (!options_.auth.enabled()) return Subscribe();
    subscriber_->Command(AuthCommand(options_.auth), [this](RedisResult result) {
      if (result.ok) return Subscribe();
      // A wrong password: listen on the next sentinel, after the pause.
      timeval tv = ToTimeval(kRotateDelay);
      if (!evtimer_pending(rotate_, nullptr)) evtimer_add(rotate_, &tv);
    });
  });
  subscriber_->Start();
}

void SentinelWatcher::Subscribe() {
  subscriber_->Subscribe(
      "+switch-master", [this](const std::string& payload) { OnMessage(payload); },
      [this](RedisResult result) { subscribed_ = result.ok; });
}

void SentinelWatcher::OnRotate(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<SentinelWatcher*>(arg);
  self->subscriber_.reset();
  ++self->index_;
  self->Open();
}

// "<master name> <old ip> <old port> <new ip> <new port>"
void SentinelWatcher::OnMessage(const std::string& payload) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= payload.size()) {
    size_t space = payload.find(' ', start);
    if (space == std::string::npos) space = payload.size();
    words.push_back(payload.substr(start, space - start));
    start = space + 1;
  }
  if (words.size() != 5 || words[0] != options_.master_name) return;
  config::Address primary;
  std::string error;
  if (AddressFrom(words[3], words[4], &primary, &error) && on_switch_) on_switch_(primary);
}

}  // namespace tidegate::redis
