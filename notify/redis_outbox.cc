#include "notify/redis_outbox.h"

#include <algorithm>
#include <chrono>
#include <random>

namespace tidegate::notify {
namespace {

using Json = nlohmann::json;
using redis::RedisReply;
using redis::RedisResult;

// KEYS items, due, done; ARGV id1, json1, next1, id2, … → how many were new
// (an id delivered or given up lately, in `done`, is not added again).
constexpr char kAddScript[] = R"lua(
local n = 0
for i = 1, #ARGV, 3 do
  if not redis.call('ZSCORE', KEYS[3], ARGV[i]) and
     redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('ZADD', KEYS[2], tonumber(ARGV[i + 2]), ARGV[i])
    n = n + 1
  end
end
return n
)lua";

// KEYS epoch, items; ARGV known epoch, fresh epoch, id… →
// {epoch, 1} when the epoch is not the known one (set to the fresh one when
// missing: Redis lost the outbox), else {epoch, 0, ids the outbox lacks…}.
constexpr char kCheckScript[] = R"lua(
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SET', KEYS[1], ARGV[2])
  return {ARGV[2], 1}
end
if current ~= ARGV[1] then return {current, 1} end
local out = {current, 0}
for i = 3, #ARGV do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then table.insert(out, ARGV[i]) end
end
return out
)lua";

// Under one epoch, the copy's ids are checked against the outbox this often.
constexpr int64_t kPruneEveryMs = 10'000;
// A delivery put in the copy this recently may still be on its way in.
constexpr int64_t kPruneYoungerThanMs = 5'000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RandomHex() {
  std::random_device random;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) out += kHex[random() & 15];
  return out;
}

// KEYS items, due, busy; ARGV now_ms, lease_ms, max → {pending count, json…}
// One delivery per subscriber at a time (busy: subscriber key → lease end),
// the earliest due first, so a healthy subscriber gets events in order.
constexpr char kClaimScript[] = R"lua(
local now = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 500)
local out = {0}
local seen = {}
local n = 0
for _, id in ipairs(ids) do
  if n >= max then break end
  local sub = string.match(id, '%.([^.]+)$') or id
  if not seen[sub] then
    seen[sub] = true
    local busy = tonumber(redis.call('HGET', KEYS[3], sub) or '0')
    if busy <= now then
      local v = redis.call('HGET', KEYS[1], id)
      if v then
        redis.call('ZADD', KEYS[2], now + lease, id)
        redis.call('HSET', KEYS[3], sub, now + lease)
        table.insert(out, v)
        n = n + 1
      else
        redis.call('ZREM', KEYS[2], id)
        seen[sub] = nil
      end
    end
  end
end
out[1] = redis.call('ZCARD', KEYS[2])
return out
)lua";

// KEYS items, due, busy; ARGV id, json, next_ms, subscriber (only while pending)
constexpr char kRescheduleScript[] = R"lua(
redis.call('HDEL', KEYS[3], ARGV[4])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('ZADD', KEYS[2], tonumber(ARGV[3]), ARGV[1])
end
return 1
)lua";

// KEYS items, due, busy, done; ARGV id, subscriber, now_ms, done_keep
constexpr char kCompleteScript[] = R"lua(
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[4], tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -tonumber(ARGV[4]) - 1)
return 1
)lua";

// KEYS items, due, failed, busy, done; ARGV id, json, keep, subscriber,
// now_ms, done_keep
constexpr char kFailScript[] = R"lua(
redis.call('HDEL', KEYS[4], ARGV[4])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[3], ARGV[2])
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1)
end
redis.call('ZADD', KEYS[5], tonumber(ARGV[5]), ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -tonumber(ARGV[6]) - 1)
return 1
)lua";

// KEYS items, due, failed; ARGV max → {{pending json…}, {failed json…}}
constexpr char kListScript[] = R"lua(
local n = tonumber(ARGV[1])
local ids = redis.call('ZRANGE', KEYS[2], 0, n - 1)
local pending = {}
for _, id in ipairs(ids) do
  local v = redis.call('HGET', KEYS[1], id)
  if v then table.insert(pending, v) end
end
return {pending, redis.call('LRANGE', KEYS[3], 0, n - 1)}
)lua";

std::optional<Delivery> Parse(const RedisReply& r) {
  if (r.type != RedisReply::Type::kString) return std::nullopt;
  return DeliveryFromJson(Json::parse(r.str, nullptr, false));
}

std::vector<Delivery> ParseAll(const RedisReply& r) {
  std::vector<Delivery> out;
  for (const RedisReply& e : r.elements) {
    if (auto d = Parse(e)) out.push_back(std::move(*d));
  }
  return out;
}

std::string Text(const Delivery& d) { return DeliveryToJson(d).dump(); }

// The subscriber key ending a delivery id ("<event id>.<key>").
std::string Subscriber(const Delivery& d) { return d.id.substr(d.id.rfind('.') + 1); }

Outbox::Done Safe(Outbox::Done done) {
  return done ? done : [](bool, const std::string&) {};
}

}  // namespace

RedisOutbox::RedisOutbox(event_base* base, const config::StateConfig& state, std::string prefix)
    : items_(prefix + ":items"),
      due_(prefix + ":due"),
      failed_(prefix + ":failed"),
      busy_(prefix + ":busy"),
      mark_(prefix + ":mark:"),
      epoch_key_(prefix + ":epoch"),
      done_(prefix + ":done"),
      add_(kAddScript),
      claim_(kClaimScript),
      reschedule_(kRescheduleScript),
      complete_(kCompleteScript),
      fail_(kFailScript),
      list_(kListScript),
      check_(kCheckScript),
      instance_(RandomHex()) {
  redis::RedisConnection::Options options =
      redis::RedisConnection::Options::ForState(state, "redis (notify)");
  connection_ = std::make_unique<redis::RedisConnection>(base, std::move(options),
                                                         [](bool, const std::string&) {});
  connection_->Start();
}

void RedisOutbox::Add(std::vector<Delivery> deliveries, Done done) {
  done = Safe(std::move(done));
  if (deliveries.empty()) return done(true, "");
  std::vector<std::string> args;
  int64_t now = NowMs();
  for (const Delivery& d : deliveries) {
    copy_.Put(d, now);
    args.push_back(d.id);
    args.push_back(Text(d));
    args.push_back(std::to_string(d.next_ms));
  }
  add_.Run(*connection_, {items_, due_, done_}, args,
           [done](RedisResult r) { done(r.ok, r.error); });
}

void RedisOutbox::Claim(int64_t now_ms, size_t max, int64_t lease_ms,
                        std::function<void(Claimed)> done) {
  claim_.Run(*connection_, {items_, due_, busy_},
             {std::to_string(now_ms), std::to_string(lease_ms), std::to_string(max)},
             [this, done = std::move(done)](RedisResult r) {
               Claimed claimed;
               if (!r.ok || r.reply.type != RedisReply::Type::kArray || r.reply.elements.empty()) {
                 claimed.ok = false;
                 claimed.error = r.ok ? "unexpected reply to the claim script" : r.error;
                 return done(std::move(claimed));
               }
               claimed.pending = static_cast<size_t>(r.reply.elements[0].integer);
               for (size_t i = 1; i < r.reply.elements.size(); ++i) {
                 if (auto d = Parse(r.reply.elements[i])) claimed.due.push_back(std::move(*d));
               }
               int64_t now = NowMs();
               for (const Delivery& d : claimed.due) copy_.Put(d, now);
               done(std::move(claimed));
             });
}

void RedisOutbox::Complete(const Delivery& delivery, Done done) {
  done = Safe(std::move(done));
  copy_.Remove(delivery.id);
  complete_.Run(
      *connection_, {items_, due_, busy_, done_},
      {delivery.id, Subscriber(delivery), std::to_string(NowMs()), std::to_string(kMaxDone)},
      [done](RedisResult r) { done(r.ok, r.error); });
}

void RedisOutbox::Reschedule(const Delivery& delivery, Done done) {
  done = Safe(std::move(done));
  copy_.Put(delivery, NowMs());
  reschedule_.Run(
      *connection_, {items_, due_, busy_},
      {delivery.id, Text(delivery), std::to_string(delivery.next_ms), Subscriber(delivery)},
      [done](RedisResult r) { done(r.ok, r.error); });
}

void RedisOutbox::Fail(const Delivery& delivery, Done done) {
  done = Safe(std::move(done));
  copy_.Remove(delivery.id);
  fail_.Run(*connection_, {items_, due_, failed_, busy_, done_},
            {delivery.id, Text(delivery), std::to_string(kMaxFailed), Subscriber(delivery),
             std::to_string(NowMs()), std::to_string(kMaxDone)},
            [done](RedisResult r) { done(r.ok, r.error); });
}

void RedisOutbox::MarkOnce(const std::string& key, int64_t ttl_seconds,
                           std::function<void(bool ok, bool first)> done) {
  connection_->Command({"SET", mark_ + key, "1", "NX", "EX", std::to_string(ttl_seconds)},
                       [done = std::move(done)](RedisResult r) {
                         if (!r.ok) return done(false, false);
                         done(true, r.reply.type == RedisReply::Type::kStatus);
                       });
}

void RedisOutbox::List(size_t max, std::function<void(Listing)> done) {
  list_.Run(
      *connection_, {items_, due_, failed_}, {std::to_string(max)},
      [done = std::move(done)](RedisResult r) {
        Listing listing;
        if (!r.ok || r.reply.type != RedisReply::Type::kArray || r.reply.elements.size() != 2) {
          listing.ok = false;
          listing.error = r.ok ? "unexpected reply to the list script" : r.error;
          return done(std::move(listing));
        }
        listing.pending = ParseAll(r.reply.elements[0]);
        listing.failed = ParseAll(r.reply.elements[1]);
        done(std::move(listing));
      });
}

void RedisOutbox::Heal(Healed done) {
  if (healing_) return done(true, "", 0);  // the previous check is still running
  int64_t now = NowMs();
  bool prune = now - last_prune_ms_ >= kPruneEveryMs;
  std::vector<std::string> args = {epoch_, instance_ + "-" + std::to_string(++epochs_set_)};
  if (prune) {
    for (std::string& id : copy_.Ids()) args.push_back(std::move(id));
  }
  healing_ = true;
  check_.Run(*connection_, {epoch_key_, items_}, args,
             [this, done = std::move(done), now, prune](RedisResult r) {
               healing_ = false;
               const auto& e = r.reply.elements;
               if (!r.ok || r.reply.type != RedisReply::Type::kArray || e.size() < 2 ||
                   e[0].type != RedisReply::Type::kString) {
                 return done(false, r.ok ? "unexpected reply to the check script" : r.error, 0);
               }
               if (e[1].integer == 1) return WriteBack(e[0].str, std::move(done));
               if (prune) {
                 last_prune_ms_ = now;
                 std::vector<std::string> gone;
                 for (size_t i = 2; i < e.size(); ++i) gone.push_back(e[i].str);
                 copy_.Prune(gone, now - kPruneYoungerThanMs);
               }
               done(true, "", 0);
             });
}

void RedisOutbox::WriteBack(std::string epoch, Healed done) {
  std::vector<std::string> args;
  for (const Delivery& d : copy_.All()) {
    args.push_back(d.id);
    args.push_back(Text(d));
    args.push_back(std::to_string(d.next_ms));
  }
  if (args.empty()) {
    epoch_ = std::move(epoch);
    return done(true, "", 0);
  }
  healing_ = true;
  add_.Run(*connection_, {items_, due_, done_}, args,
           [this, epoch = std::move(epoch), done = std::move(done)](RedisResult r) {
             healing_ = false;
             if (!r.ok) return done(false, r.error, 0);  // epoch_ kept: tried again
             epoch_ = epoch;
             done(true, "", static_cast<size_t>(std::max<int64_t>(r.reply.integer, 0)));
           });
}

}  // namespace tidegate::notify
