#include "queue/redis_protect_lease.h"

#include <cstdio>
#include <cstdlib>

#include "queue/redis_room_scripts.h"

namespace tidegate::queue {
namespace {

constexpr size_t kReplyFields = 6;

bool Text(const redis::RedisReply& r, std::string* out) {
  if (r.type == redis::RedisReply::Type::kString || r.type == redis::RedisReply::Type::kStatus) {
    *out = r.str;
    return true;
  }
  if (r.type == redis::RedisReply::Type::kInteger) {
    *out = std::to_string(r.integer);
    return true;
  }
  return false;
}

// "" reads as 0 (a field never written).
bool Integer(const std::string& text, int64_t* out) {
  if (text.empty()) {
    *out = 0;
    return true;
  }
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0') return false;
  *out = v;
  return true;
}

}  // namespace

bool ParseProtectSyncReply(const redis::RedisReply& reply, ProtectSyncReply* out) {
  if (reply.type != redis::RedisReply::Type::kArray || reply.elements.size() != kReplyFields) {
    return false;
  }
  std::string f[kReplyFields];
  for (size_t i = 0; i < kReplyFields; ++i) {
    if (!Text(reply.elements[i], &f[i])) return false;
  }
  if (!Integer(f[2], &out->lease_until_ms) || !Integer(f[3], &out->published_ms) ||
      !Integer(f[5], &out->now_ms)) {
    return false;
  }
  out->leader = f[0] == "1";
  out->leader_id = f[1];
  out->decision = f[4];
  return true;
}

RedisProtectLease::RedisProtectLease(const std::string& room, RedisRoomOptions options,
                                     RedisRoomLinks* links, std::string instance_id,
                                     int64_t lease_ms)
    : options_(std::move(options)),
      links_(links),
      instance_id_(std::move(instance_id)),
      lease_ms_(lease_ms),
      key_(options_.key_prefix + ":{room:" + room + "}:protect"),
      script_(std::string(scripts::kProtectSync)) {}

void RedisProtectLease::Sync(const StoreCaller& caller, int64_t now_ms, bool may_lead,
                             const std::string* publish, Done<ProtectSyncReply> done) {
  RedisRoomLink* link = links_ == nullptr ? nullptr : links_->For(caller);
  if (link == nullptr) {
    StoreResult<ProtectSyncReply> r;
    r.ok = false;
    r.error = "redis: no connection for worker " + std::to_string(caller.worker);
    if (done) done(r);
    return;
  }
  std::vector<std::string> args = {options_.use_redis_time ? "0" : std::to_string(now_ms),
                                   instance_id_,
                                   std::to_string(lease_ms_),
                                   may_lead ? "1" : "0",
                                   publish != nullptr ? "1" : "0",
                                   publish != nullptr ? *publish : std::string()};
  link->Eval(script_, {key_}, std::move(args), [done = std::move(done)](redis::RedisResult result) {
    StoreResult<ProtectSyncReply> r;
    if (!result.ok) {
      r.ok = false;
      r.error = result.error;
    } else if (!ParseProtectSyncReply(result.reply, &r.value)) {
      r.ok = false;
      r.error = "redis: unexpected reply to the protection script";
    }
    if (done) done(r);
  });
}

}  // namespace tidegate::queue
