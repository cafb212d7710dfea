#include "maintenance/maintenance_gate.h"

#include <event2/buffer.h>

#include <algorithm>

#include "common/bypass_token.h"
#include "common/cidr.h"
#include "common/http_negotiation.h"
#include "maintenance/request_fields.h"
#include "pages/language.h"
#include "proxy/builtin_router.h"
#include "proxy/cookie_header.h"
#include "proxy/path_normalizer.h"
#include "state/effective_view.h"

namespace tidegate::maintenance {
namespace {

using WallTime = std::chrono::system_clock::time_point;

class MaintenanceGateFilter : public proxy::StreamFilter {
 public:
  MaintenanceGateFilter(const MaintenanceGateFactory& factory, proxy::FilterCallbacks& callbacks,
                        std::vector<MaintenanceGateFactory::Active> active, WallTime now)
      : factory_(factory), callbacks_(callbacks), active_(std::move(active)), now_(now) {}

  proxy::FilterStatus OnRequestHeaders(proxy::RequestHead& head) override {
    MaintenanceGateFactory::Reply reply;
    bool wants_body = false;
    auto outcome = factory_.Decide(head, callbacks_.stream_info(), active_, now_, nullptr, &reply,
                                   &wants_body);
    if (outcome == MaintenanceGateFactory::Outcome::kBlocked) {
      callbacks_.SendLocalReply(reply.status, std::move(reply.headers), std::move(reply.body),
                                proxy::Answerer::kMaintenance);
      return proxy::FilterStatus::kStop;
    }
    if (wants_body) {
      head_ = &head;  // the stream's head: valid for the whole exchange
      if (callbacks_.BufferRequestBody(
              factory_.max_body_bytes(),
              [this](const evbuffer* body, bool complete) { OnBody(body, complete); })) {
        return proxy::FilterStatus::kStop;
      }
      // The body cannot be read here: the fields are undecided.
      BodyFields unseen(BodyKind::kUnknown, std::string(), false);
      outcome = factory_.Decide(head, callbacks_.stream_info(), active_, now_, &unseen, &reply);
      if (outcome == MaintenanceGateFactory::Outcome::kBlocked) {
        callbacks_.SendLocalReply(reply.status, std::move(reply.headers), std::move(reply.body),
                                  proxy::Answerer::kMaintenance);
        return proxy::FilterStatus::kStop;
      }
    }
    return proxy::FilterStatus::kContinue;
  }

 private:
  void OnBody(const evbuffer* body, bool complete) {
    size_t len = std::min(evbuffer_get_length(body), factory_.max_body_bytes());
    std::string text(len, '\0');
    // evbuffer_copyout only reads; its prototype predates const.
    evbuffer_copyout(const_cast<evbuffer*>(body), text.data(), len);
    complete = complete && len == evbuffer_get_length(body);
    BodyFields fields(head_->headers, std::move(text), complete);
    MaintenanceGateFactory::Reply reply;
    auto outcome =
        factory_.Decide(*head_, callbacks_.stream_info(), active_, now_, &fields, &reply);
    if (outcome == MaintenanceGateFactory::Outcome::kBlocked) {
      callbacks_.SendLocalReply(reply.status, std::move(reply.headers), std::move(reply.body),
                                proxy::Answerer::kMaintenance);
    } else {
      callbacks_.ContinueRequest();
    }
  }

  const MaintenanceGateFactory& factory_;
  proxy::FilterCallbacks& callbacks_;
  std::vector<MaintenanceGateFactory::Active> active_;
  WallTime now_;
  proxy::RequestHead* head_ = nullptr;
};

}  // namespace

std::unique_ptr<MaintenanceGateFactory> MaintenanceGateFactory::Create(
    const config::Config& config, const proxy::Published<state::RuntimeState>* runtime_state,
    const common::TimeSource& time, std::string* error, MaintenanceStats* stats) {
  std::unique_ptr<MaintenanceGateFactory> factory(new MaintenanceGateFactory());
  factory->runtime_state_ = runtime_state;
  factory->time_ = &time;
  factory->features_ = config.features;
  factory->settings_ = config.maintenance;
  factory->codec_ = common::SignedTokenCodec::FromKeys(config.secrets.token_keys);
  for (size_t i = 0; i < factory->features_.size(); ++i) {
    factory->feature_index_.emplace(factory->features_[i].name, i);
    // A hidden option never answers 503 (the banner filter hides it).
    if (factory->features_[i].action == config::FeatureAction::kHide) continue;
    if (factory->features_[i].maintenance) factory->windowed_.push_back(i);
  }
  std::string problem;
  factory->matcher_ = FeatureMatcher::Build(factory->features_, &problem);
  if (!factory->matcher_) {
    *error = "maintenance: " + problem;
    return nullptr;
  }
  factory->page_ = MaintenancePage::Create(config.site, &problem);
  if (!factory->page_) {
    *error = "maintenance page: " + problem;
    return nullptr;
  }
  if (stats == nullptr) {
    factory->own_stats_ = std::make_unique<MaintenanceStats>();
    stats = factory->own_stats_.get();
  }
  for (const config::FeatureConfig& feature : factory->features_) {
    factory->counters_.push_back(stats->For(feature.name));
  }
  return factory;
}

MaintenanceStats::Counters* MaintenanceStats::For(const std::string& feature) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::unique_ptr<Counters>& slot = by_feature_[feature];
  if (!slot) slot = std::make_unique<Counters>();
  return slot.get();
}

void MaintenanceStats::ForEach(
    const std::function<void(const std::string&, const Counters&)>& visit) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, counters] : by_feature_) visit(name, *counters);
}

WallTime MaintenanceGateFactory::Now() const { return time_->WallNow(); }

void MaintenanceGateFactory::ActiveFeatures(WallTime now, std::vector<Active>* out) const {
  static const state::RuntimeState kNoOverrides;
  const state::RuntimeState& state = runtime_state_ ? runtime_state_->Get() : kNoOverrides;
  auto consider = [&](size_t index) {
    for (const Active& a : *out) {
      if (a.feature == index) return;  // both an override and a window
    }
    const config::FeatureConfig& feature = features_[index];
    if (feature.action == config::FeatureAction::kHide) return;
    state::EffectiveMaintenance e = state::EffectiveMaintenanceOf(feature, state, now);
    if (e.active) out->push_back(Active{index, e.message, e.until});
  };
  for (const auto& [name, value] : state.maintenance) {
    auto it = feature_index_.find(name);
    if (it != feature_index_.end()) consider(it->second);
  }
  for (size_t index : windowed_) consider(index);
}

std::unique_ptr<proxy::StreamFilter> MaintenanceGateFactory::CreateFilter(
    proxy::FilterCallbacks& callbacks) const {
  // Fast path: nothing under maintenance, and nothing that could be.
  if (windowed_.empty() &&
      (runtime_state_ == nullptr || runtime_state_->Get().maintenance.empty())) {
    return nullptr;
  }
  WallTime now = Now();
  std::vector<Active> active;
  ActiveFeatures(now, &active);
  if (active.empty()) return nullptr;
  return std::make_unique<MaintenanceGateFilter>(*this, callbacks, std::move(active), now);
}

bool MaintenanceGateFactory::IsApiRequest(const proxy::RequestHead& request,
                                          std::string_view path) const {
  if (common::WantsJson(request.headers.Find("Accept"))) return true;
  for (const std::string& prefix : settings_.api_prefixes) {
    if (path.size() >= prefix.size() &&
        proxy::EqualsIgnoreCase(path.substr(0, prefix.size()), prefix)) {
      return true;
    }
  }
  return false;
}

bool MaintenanceGateFactory::HasValidBypassCookie(const proxy::RequestHead& request, bool tls,
                                                  WallTime now) const {
  if (codec_.empty()) return false;
  // Every cookie of that name is checked: a forged duplicate never wins, and
  // never hides a valid one.
  return proxy::ForEachCookie(
      request.headers, tls ? common::kBypassCookieTls : common::kBypassCookie,
      [&](std::string_view value) {
        return common::VerifyBypassToken(value, codec_, now, settings_.bypass_cookie_max_ttl) ==
               common::BypassVerdict::kValid;
      });
}

MaintenanceGateFactory::Outcome MaintenanceGateFactory::Decide(const proxy::RequestHead& request,
                                                               const proxy::StreamInfo& info,
                                                               const std::vector<Active>& active,
                                                               WallTime now, const BodyFields* body,
                                                               Reply* reply,
                                                               bool* wants_body) const {
  if (active.empty() || proxy::IsBuiltinTarget(request.target)) return Outcome::kPass;
  proxy::PathNormalizeOptions normalize;
  normalize.decode_slashes = settings_.decode_slashes;
  std::string path = proxy::NormalizePath(request.target, normalize);
  std::vector<bool> wanted(features_.size(), false);
  for (const Active& a : active) wanted[a.feature] = true;
  std::vector<size_t> matched;
  std::vector<size_t> needs_body;
  std::vector<size_t> undecided;
  matcher_->Match(
      MatchInput{request.method, path, request.target, request.host, &request.headers, body},
      &wanted, &matched, body == nullptr ? &needs_body : nullptr,
      body != nullptr ? &undecided : nullptr);
  // Any body may carry the fields (whatever its Content-Type says): read it.
  if (wants_body != nullptr && !needs_body.empty() &&
      request.framing != proxy::BodyFraming::kNone) {
    bool enforced_match = false;
    for (size_t index : matched) enforced_match |= features_[index].enforced;
    if (!enforced_match) {
      *wants_body = true;  // decided on the body (shadow counts included)
      return Outcome::kPass;
    }
  }
  // Path and method matched but the fields cannot be decided: counted, and
  // treated as the feature unless it says on_undecided = "pass".
  for (size_t index : undecided) {
    counters_[index]->undecided.fetch_add(1, kRelaxed);
    if (features_[index].on_undecided == config::UndecidedPolicy::kBlock) {
      matched.insert(std::upper_bound(matched.begin(), matched.end(), index), index);
    }
  }
  if (matched.empty()) return Outcome::kPass;

  // The first enforced feature (in name order) decides; shadow ones are counted.
  const Active* blocking = nullptr;
  bool shadow = false;
  for (size_t index : matched) {
    if (!features_[index].enforced) {
      counters_[index]->shadowed.fetch_add(1, kRelaxed);
      shadow = true;
      continue;
    }
    if (blocking == nullptr) {
      for (const Active& a : active) {
        if (a.feature == index) blocking = &a;
      }
    }
  }
  if (blocking == nullptr) return shadow ? Outcome::kShadow : Outcome::kPass;
  if (common::InAnyBlock(info.client_ip, settings_.bypass_cidrs)) {
    counters_[blocking->feature]->bypassed.fetch_add(1, kRelaxed);
    return Outcome::kBypassAddress;
  }
  if (HasValidBypassCookie(request, info.tls, now)) {
    counters_[blocking->feature]->bypassed.fetch_add(1, kRelaxed);
    return Outcome::kBypassCookie;
  }
  counters_[blocking->feature]->blocked.fetch_add(1, kRelaxed);

  static const state::RuntimeState kNoOverrides;
  const state::RuntimeState& state = runtime_state_ ? runtime_state_->Get() : kNoOverrides;
  MaintenanceNotice notice{features_[blocking->feature].name, blocking->message, blocking->until,
                           now, IncidentFor(state.incidents, features_[blocking->feature].name)};
  reply->status = 503;
  reply->headers.Add("Cache-Control", "no-store");
  reply->headers.Add("Retry-After", std::to_string(MaintenancePage::RetryAfterSeconds(notice)));
  if (IsApiRequest(request, path)) {
    reply->headers.Add("Content-Type", "application/json");
    reply->body = page_->RenderJson(notice);
  } else {
    const std::string* accept_language = request.headers.Find("Accept-Language");
    pages::Language language = pages::PickLanguage(
        accept_language ? std::string_view(*accept_language) : std::string_view(),
        page_->default_language());
    reply->headers.Add("Content-Type", "text/html; charset=utf-8");
    reply->headers.Add("Content-Language", std::string(pages::LanguageCode(language)));
    reply->body = page_->RenderHtml(notice, language);
  }
  return Outcome::kBlocked;
}

}  // namespace tidegate::maintenance
