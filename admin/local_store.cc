#include "admin/state_store.h"

namespace tidegate::admin {

LocalStore::LocalStore(const common::TimeSource& time)
    : time_(&time), state_(std::make_shared<const state::RuntimeState>()) {}

void LocalStore::Apply(const state::StateChange& change, const std::string& actor,
                       std::optional<uint64_t> expected_version, DoneCallback done) {
  ++operations_;
  ApplyResult result;
  result.before = state_;
  result.after = state_;
  if (expected_version && *expected_version != state_->version) {
    result.status = ApplyStatus::kConflict;
    result.error = "state is at version " + std::to_string(state_->version) + ", not " +
                   std::to_string(*expected_version);
    done(std::move(result));
    return;
  }
  bool changed = false;
  state::RuntimeState next = state::ApplyChange(*state_, change, actor, time_->WallNow(), &changed);
  if (!changed) {
    result.status = ApplyStatus::kUnchanged;
    done(std::move(result));
    return;
  }
  std::string error;
  if (persister_ && !persister_(next, &error)) {
    ++errors_;
    last_error_ = error;
    result.status = ApplyStatus::kUnavailable;
    result.error = "the change could not be saved: " + error;
    done(std::move(result));
    return;
  }
  last_error_.clear();
  state_ = std::make_shared<const state::RuntimeState>(std::move(next));
  result.status = ApplyStatus::kApplied;
  result.after = state_;
  done(std::move(result));
  if (on_change_) on_change_(state_);
}

StoreHealth LocalStore::Health() const {
  StoreHealth health;
  health.backend = "local";
  health.healthy = last_error_.empty();
  health.last_error = last_error_;
  health.operations_total = operations_;
  health.errors_total = errors_;
  return health;
}

}  // namespace tidegate::admin
