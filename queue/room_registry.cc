#include "queue/room_registry.h"

#include "queue/local_room_store.h"

namespace tidegate::queue {

RoomRuntime::RoomRuntime(std::unique_ptr<RoomStore> store) : store_(std::move(store)) {}

void RoomRuntime::MaybeTick(const RoomLimits& limits, int64_t now_ms) {
  int64_t last = last_tick_ms_.load(std::memory_order_relaxed);
  if (now_ms - last < kTickMillis) return;
  if (!last_tick_ms_.compare_exchange_strong(last, now_ms, std::memory_order_relaxed)) return;
  store_->Tick(limits, now_ms, [this, now_ms](const StoreResult<RoomCounters>& result) {
    if (!result.ok) {
      store_errors.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::lock_guard<std::mutex> lock(rate_mutex_);
    rate_.Observe(now_ms, result.value.admitted_total);
  });
}

double RoomRuntime::AdmissionsPerSecond(const RoomLimits& limits) const {
  std::lock_guard<std::mutex> lock(rate_mutex_);
  return rate_.PerSecond(limits.new_users_per_minute / 60.0);
}

WaitRange RoomRuntime::EstimateFor(uint64_t position, const RoomLimits& limits) const {
  return EstimateWait(position, AdmissionsPerSecond(limits));
}

std::shared_ptr<RoomRuntime> RoomRegistry::Get(const std::string& room) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::shared_ptr<RoomRuntime>& slot = rooms_[room];
  if (!slot) slot = std::make_shared<RoomRuntime>(std::make_unique<LocalRoomStore>());
  return slot;
}

void RoomRegistry::FillMetrics(
    const std::function<std::optional<RoomLimits>(const std::string&)>& limits_of,
    admin::MetricsSnapshot* metrics) const {
  std::lock_guard<std::mutex> lock(mutex_);
  metrics->room_counters_available = true;
  for (const auto& [name, runtime] : rooms_) {
    std::optional<RoomLimits> limits = limits_of(name);
    if (!limits) continue;  // no longer configured
    RoomCounters c = runtime->store().Snapshot();
    admin::RoomMetrics m;
    m.name = name;
    m.queued = static_cast<int64_t>(c.queued());
    m.active = c.active;
    m.admitted_total = c.admitted_total;
    WaitRange wait = runtime->EstimateFor(c.queued(), *limits);
    m.estimated_wait_seconds = static_cast<double>(wait.high_seconds);
    metrics->rooms.push_back(std::move(m));
  }
}

}  // namespace tidegate::queue
