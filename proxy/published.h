// Published<T>: one immutable value that a control thread replaces and many
// worker threads read on every request, without a lock and without touching a
// shared reference count on the fast path.
//
// Used for the operators' run-time state (maintenance switches, banner, room
// overrides): the admin control plane publishes every new
// std::shared_ptr<const RuntimeState>; gates read it per request.
//
// Contract:
// * Publish() — any thread (in practice the control thread); never null.
// * Get() — any thread. Returns the latest published value as this thread
//   last saw it: a thread notices a Publish() at its next Get() (an acquire
//   load of a version counter; only then does it take the mutex and copy
//   the pointer). The returned reference stays valid until this thread's next
//   Get() on the same Published object, so use it within one callback and do
//   not keep it across event-loop turns (copy what must outlive that).
// * Load() — any thread; a counted reference, for code that keeps the value.
// * The object must outlive every thread's use of it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace tidegate::proxy {

template <typename T>
class Published {
 public:
  explicit Published(std::shared_ptr<const T> initial)
      : id_(NextId()), value_(std::move(initial)) {}
  Published(const Published&) = delete;
  Published& operator=(const Published&) = delete;

  void Publish(std::shared_ptr<const T> value) {
    std::lock_guard<std::mutex> lock(mutex_);
    value_ = std::move(value);
    version_.fetch_add(1, std::memory_order_release);
  }

  std::shared_ptr<const T> Load() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return value_;
  }

  const T& Get() const {
    // One cache slot per thread and T: a thread that reads two Published<T>
    // objects alternately takes the slow path each time, still correct.
    thread_local Cache cache;
    uint64_t version = version_.load(std::memory_order_acquire);
    if (cache.owner_id != id_ || cache.version != version) {
      std::lock_guard<std::mutex> lock(mutex_);
      cache.value = value_;
      cache.version = version_.load(std::memory_order_relaxed);
      cache.owner_id = id_;
    }
    return *cache.value;
  }

 private:
  struct Cache {
    uint64_t owner_id = 0;
    uint64_t version = 0;
    std::shared_ptr<const T> value;
  };

  static uint64_t NextId() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }

  const uint64_t id_;  // never reused, unlike an address
  mutable std::mutex mutex_;
  std::atomic<uint64_t> version_{0};
  std::shared_ptr<const T> value_;
};

}  // namespace tidegate::proxy
