#include "queue/redis_protect_lease.h"

#include <cstdio>
#include <cstdlib>

#include "queue/redis_room_scripts.h"
#include "queue/room_state_json.h"

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

// ---- SharedProtection ----

void SharedProtection::AfterTick(RoomProtection& protection, const StoreCaller& caller,
                                 int64_t now_ms) {
  if (!protection.enabled()) {
    protection.set_decides(true);
    return;
  }
  int64_t last = last_sync_ms_.load(std::memory_order_relaxed);
  if (now_ms - last < kSyncMillis || in_flight_.exchange(true)) return;
  last_sync_ms_.store(now_ms, std::memory_order_relaxed);
  ProtectStatus mine = protection.status(now_ms);
  // Only an instance that sees origin traffic may lead: its samples are the
  // origin's health.
  bool may_lead = mine.measured.samples > 0;
  std::string decision;
  bool publish = protection.decides() && mine.state.move != ProtectMove::kNone;
  if (publish) decision = ProtectStateToJson(mine.state).dump();
  lease_->Sync(caller, now_ms, may_lead, publish ? &decision : nullptr,
               [this, &protection](const StoreResult<ProtectSyncReply>& r) {
                 OnReply(protection, r);
                 in_flight_.store(false);
               });
}

void SharedProtection::OnReply(RoomProtection& protection, const StoreResult<ProtectSyncReply>& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_.shared = true;
  if (!r.ok) {
    // Redis failing: decide alone (each instance on its own traffic).
    status_.last_error = r.error;
    status_.leader = false;
    protection.set_decides(true);
    return;
  }
  const ProtectSyncReply& reply = r.value;
  status_.last_error.clear();
  status_.leader = reply.leader;
  status_.leader_id = reply.leader_id;
  status_.synced_ms = reply.now_ms;
  bool newer = reply.published_ms > adopted_ms_ && !reply.decision.empty();
  // A follower adopts every new decision; a new leader adopts the one in
  // force once, before it decides (it continues, it does not restart).
  if (newer && (!reply.leader || !protection.decides())) {
    std::string error;
    auto parsed = nlohmann::json::parse(reply.decision, nullptr, false);
    if (auto state = ProtectStateFromJson(parsed, &error)) {
      protection.Adopt(*state);
      adopted_ms_ = reply.published_ms;
    } else {
      status_.last_error = "shared decision unreadable: " + error;
    }
  }
  protection.set_decides(reply.leader);
}

SharedProtectStatus SharedProtection::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  SharedProtectStatus s = status_;
  s.shared = true;
  return s;
}

}  // namespace tidegate::queue
