#include "queue/redis_protect_lease.h"

#include <cstdio>
#include <cstdlib>

#include "queue/redis_room_scripts.h"

namespace tidegate::queue {
namespace {

constexpr size_t kReplyFields = 12;

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
bool Number(const std::string& text, double* out) {
  if (text.empty()) {
    *out = 0;
    return true;
  }
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return end != text.c_str() && *end == '\0';
}

std::string Format(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
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
  double lease_until = 0, npm = 0, active = 0, p90 = 0, errors = 0, moved = 0, now = 0,
         published = 0;
  if (!Number(f[2], &lease_until) || !Number(f[3], &published) || !Number(f[4], &npm) ||
      !Number(f[5], &active) || !Number(f[8], &p90) || !Number(f[9], &errors) ||
      !Number(f[10], &moved) || !Number(f[11], &now)) {
    return false;
  }
  out->leader = f[0] == "1";
  out->leader_id = f[1];
  out->lease_until_ms = static_cast<int64_t>(lease_until);
  out->has_decision = !f[3].empty();
  SharedProtectDecision& d = out->decision;
  d.published_ms = static_cast<int64_t>(published);
  d.new_users_per_minute = npm <= 0 ? 0 : static_cast<uint32_t>(npm);
  d.total_active_users = active <= 0 ? 0 : static_cast<uint32_t>(active);
  d.direction = f[6];
  d.reason = f[7];
  d.p90_ms = p90;
  d.error_rate = errors;
  d.moved_at_ms = static_cast<int64_t>(moved);
  out->now_ms = static_cast<int64_t>(now);
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
                             const SharedProtectDecision* publish, Done<ProtectSyncReply> done) {
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
                                   publish != nullptr ? "1" : "0"};
  if (publish != nullptr) {
    args.insert(args.end(), {std::to_string(publish->new_users_per_minute),
                             std::to_string(publish->total_active_users), publish->direction,
                             publish->reason, Format(publish->p90_ms),
                             Format(publish->error_rate), std::to_string(publish->moved_at_ms)});
  } else {
    args.insert(args.end(), 7, "");
  }
  link->Eval(script_, {key_}, std::move(args),
             [done = std::move(done)](redis::RedisResult result) {
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
