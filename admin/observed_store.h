// A StateStore that forwards every call to another store and tells an
// observer about each change applied through it (not about changes another
// instance made in a shared store: those never pass through Apply here).
// The admin API applies through it, so the observer sees exactly the
// changes this instance made, with the state before and after each one
// (webhook events, notify/notifier.h).
//
// Contract: control thread only, like every StateStore. Borrows the inner
// store (must outlive it). The observer runs after the change's `done`,
// once per kApplied result, never for a refused or no-op change.
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include "admin/state_store.h"

namespace tidegate::admin {

class ObservedStore : public StateStore {
 public:
  using Observer =
      std::function<void(const state::RuntimeState& before, const state::RuntimeState& after)>;

  explicit ObservedStore(StateStore* inner) : inner_(inner) {}
  void SetObserver(Observer observer) { observer_ = std::move(observer); }

  std::shared_ptr<const state::RuntimeState> Current() const override { return inner_->Current(); }
  void Apply(const state::StateChange& change, const std::string& actor,
             std::optional<uint64_t> expected_version, DoneCallback done) override {
    inner_->Apply(change, actor, expected_version,
                  [this, done = std::move(done)](ApplyResult result) {
                    std::shared_ptr<const state::RuntimeState> before = result.before;
                    std::shared_ptr<const state::RuntimeState> after = result.after;
                    bool applied = result.status == ApplyStatus::kApplied;
                    done(std::move(result));
                    if (applied && observer_ && before && after) observer_(*before, *after);
                  });
  }
  void SetChangeCallback(StateCallback callback) override {
    inner_->SetChangeCallback(std::move(callback));
  }
  StoreHealth Health() const override { return inner_->Health(); }
  bool ReadSharedAudit(size_t limit, AuditCallback done) override {
    return inner_->ReadSharedAudit(limit, std::move(done));
  }
  void AppendSharedAudit(const nlohmann::json& entry) override { inner_->AppendSharedAudit(entry); }

 private:
  StateStore* inner_;
  Observer observer_;
};

}  // namespace tidegate::admin
