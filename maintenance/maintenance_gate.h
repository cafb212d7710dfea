// The maintenance gate: the request filter that answers 503 for a feature
// under maintenance while the rest of the shop keeps working.
//
// Per request (after the built-in router and the banner, before the waiting room):
//   1. CreateFilter() reads the operators' run-time state (lock-free,
//      proxy::Published::Get) and the configured windows at the wall clock
//      now. When no feature is under maintenance it returns nullptr: the
//      request costs one atomic load and no allocation.
//   2. Otherwise OnRequestHeaders() skips /.tidegate/* targets, normalises the
//      path (proxy/path_normalizer.h) and asks the FeatureMatcher (one
//      RE2::Set pass) which of the features under maintenance the request
//      belongs to. None → continue. When only a rule with form/json fields
//      could still match, the filter asks the stream to buffer the first
//      [maintenance].max_body_bytes of the body (BufferRequestBody) and
//      decides on them; the body then reaches the origin unchanged. When the
//      fields cannot be decided (body not readable — no, text/plain or
//      another Content-Type, a Content-Encoding, JSON or multipart that does
//      not parse strictly — or fields not found before the bound), the
//      request counts as undecided and is treated as the feature unless the
//      feature says on_undecided = "pass".
//      The path is normalised with [maintenance].decode_slashes.
//   3. A feature in shadow mode (enforced = false) is only counted.
//      Staff pass: a client address in [maintenance].bypass_cidrs, or a valid
//      signed bypass cookie (common/bypass_token.h). Everyone else gets
//      503 with Cache-Control: no-store, Retry-After (seconds until `until`,
//      when known) and the maintenance page in English or French
//      (Accept-Language), or JSON for API clients (Accept: application/json,
//      or a path under [maintenance].api_prefixes). answered_by "maintenance".
//
// A feature is under maintenance as state::EffectiveMaintenanceOf says: it is
// enabled and either the run-time state says so (PUT
// /v1/features/NAME/maintenance, shared through the state store) or its
// [features.NAME.maintenance] window is in force and no `reopened` override
// (DELETE of that window) applies. When both apply, the operator's message
// and `until` are shown. Features with action = "hide" never answer here
// (the banner filter hides their option instead).
//
// Contract: Create() on the control thread, once per configuration snapshot
// (it loads the page template, which may read the merchant's override file).
// The factory is immutable and shared by every worker; its counters are
// relaxed atomics. `runtime_state` must outlive the factory.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/signed_token.h"
#include "common/time_source.h"
#include "config/config.h"
#include "maintenance/feature_matcher.h"
#include "maintenance/maintenance_page.h"
#include "proxy/filter.h"
#include "proxy/published.h"
#include "state/runtime_state.h"

namespace tidegate::maintenance {

// Per-feature counters that outlive configuration snapshots (owned by the
// filter chain builder, so /metrics keeps counting across reloads).
// For() runs on the control thread (factory creation); workers update the
// counters (relaxed atomics); ForEach() reads them from any thread.
class MaintenanceStats {
 public:
  struct Counters {
    std::atomic<uint64_t> blocked{0};
    std::atomic<uint64_t> shadowed{0};
    std::atomic<uint64_t> bypassed{0};
    // Requests of the feature's path and method whose body fields could not
    // be decided (maintenance/body_fields.h), whatever on_undecided did.
    std::atomic<uint64_t> undecided{0};
  };
  // The counters of `feature`, created on first use; the pointer stays valid
  // as long as this object.
  Counters* For(const std::string& feature);
  void ForEach(const std::function<void(const std::string&, const Counters&)>& visit) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Counters>> by_feature_;
};

class MaintenanceGateFactory : public proxy::FilterFactory {
 public:
  // nullptr and *error when the page template or the path patterns cannot be
  // prepared (the reload is then refused and the old snapshot stays).
  // Windows are judged at time.WallNow() (tests pass a
  // common::FakeTimeSource). `time` and `stats` (may be null: the factory
  // then keeps its own) must outlive the factory.
  static std::unique_ptr<MaintenanceGateFactory> Create(
      const config::Config& config, const proxy::Published<state::RuntimeState>* runtime_state,
      const common::TimeSource& time, std::string* error, MaintenanceStats* stats = nullptr);

  std::unique_ptr<proxy::StreamFilter> CreateFilter(
      proxy::FilterCallbacks& callbacks) const override;

  // A feature under maintenance now, with what the shopper is told.
  struct Active {
    size_t feature = 0;  // index into features()
    std::string message;
    std::optional<std::chrono::system_clock::time_point> until;
  };
  // The features under maintenance at `now` (none when every one is open).
  void ActiveFeatures(std::chrono::system_clock::time_point now, std::vector<Active>* out) const;

  enum class Outcome { kPass, kBlocked, kShadow, kBypassAddress, kBypassCookie };
  // The decision for one request, given the active features (unit tests and
  // the filter). Fills *reply_* when kBlocked.
  struct Reply {
    int status = 503;
    proxy::HeaderList headers;
    std::string body;
  };
  // `body`: the buffered first bytes of the body, or null before they are
  // read. With a null body, *wants_body (when given) is set when the answer
  // depends on form/json fields of a body the request has: the filter then
  // buffers up to [maintenance].max_body_bytes and decides again.
  Outcome Decide(const proxy::RequestHead& request, const proxy::StreamInfo& info,
                 const std::vector<Active>& active, std::chrono::system_clock::time_point now,
                 const BodyFields* body, Reply* reply, bool* wants_body = nullptr) const;
  size_t max_body_bytes() const { return settings_.max_body_bytes; }

  const std::vector<config::FeatureConfig>& features() const { return features_; }
  std::chrono::system_clock::time_point Now() const;

  // Counters by feature index (relaxed; read by metrics at scrape time).
  uint64_t blocked(size_t feature) const { return counters_[feature]->blocked.load(kRelaxed); }
  uint64_t shadowed(size_t feature) const { return counters_[feature]->shadowed.load(kRelaxed); }
  uint64_t bypassed(size_t feature) const { return counters_[feature]->bypassed.load(kRelaxed); }
  uint64_t undecided(size_t feature) const { return counters_[feature]->undecided.load(kRelaxed); }

 private:
  static constexpr std::memory_order kRelaxed = std::memory_order_relaxed;
  MaintenanceGateFactory() = default;
  bool IsApiRequest(const proxy::RequestHead& request, std::string_view path) const;
  bool HasValidBypassCookie(const proxy::RequestHead& request, bool tls,
                            std::chrono::system_clock::time_point now) const;

  const proxy::Published<state::RuntimeState>* runtime_state_ = nullptr;
  const common::TimeSource* time_ = nullptr;
  std::vector<config::FeatureConfig> features_;
  std::unordered_map<std::string, size_t> feature_index_;
  std::vector<size_t> windowed_;  // features with a configured window
  config::MaintenanceConfig settings_;
  common::SignedTokenCodec codec_{std::vector<common::SigningKey>{}};  // [secrets].token_keys
  std::unique_ptr<FeatureMatcher> matcher_;
  std::unique_ptr<MaintenancePage> page_;
  std::unique_ptr<MaintenanceStats> own_stats_;        // when none was given
  std::vector<MaintenanceStats::Counters*> counters_;  // by feature index
};

}  // namespace tidegate::maintenance
