#include "queue/shared_protection.h"

#include "queue/room_state_json.h"

namespace tidegate::queue {

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
               [this, &protection, now_ms](const StoreResult<ProtectSyncReply>& r) {
                 OnReply(protection, r, now_ms);
                 in_flight_.store(false);
               });
}

void SharedProtection::OnReply(RoomProtection& protection, const StoreResult<ProtectSyncReply>& r,
                               int64_t now_ms) {
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
      protection.Adopt(*state, now_ms);
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
