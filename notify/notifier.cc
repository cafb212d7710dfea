#include "notify/notifier.h"

#include <algorithm>

#include "common/rfc3339.h"
#include "notify/local_outbox.h"
#include "notify/redis_outbox.h"
#include "notify/signature.h"
#include "state/state_file.h"

namespace tidegate::notify {
namespace {

using Json = nlohmann::json;
constexpr size_t kMaxInFlight = 8;
constexpr size_t kMaxUnsent = 10000;
constexpr size_t kListMax = 100;
constexpr int64_t kOverdueMarkSeconds = 14 * 24 * 3600;

bool Subscribed(const config::WebhookConfig& hook, std::string_view type) {
  return hook.events.empty() ||
         std::find(hook.events.begin(), hook.events.end(), type) != hook.events.end();
}

int64_t UnixMs(common::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string MsText(int64_t ms) {
  return common::FormatRfc3339(common::TimePoint(std::chrono::milliseconds(ms)));
}

Json DeliveryStatus(const Delivery& d) {
  return {{"id", d.id},
          {"event_id", d.event_id},
          {"type", d.event_type},
          {"url", RedactedUrl(d.url)},
          {"attempts", d.attempts},
          {"created_at", MsText(d.created_ms)},
          {"next_attempt_at", MsText(d.next_ms)},
          {"last_error", d.last_error.empty() ? Json(nullptr) : Json(d.last_error)}};
}

}  // namespace

Notifier::OutboxFactory Notifier::DefaultOutboxFactory(event_base* base,
                                                       std::shared_ptr<const config::Config> config,
                                                       std::string state_folder, Logger warn) {
  return [base, config, state_folder, warn]() -> std::unique_ptr<Outbox> {
    if (config->state.backend == config::StateBackend::kRedis) {
      return std::make_unique<RedisOutbox>(base, config->state);
    }
    std::string error;
    if (!state::EnsureStateFolder(state_folder, &error) && warn) {
      warn("notify.outbox", "notify: " + error + "; webhook deliveries will not survive a restart");
    }
    std::string warning;
    auto outbox = LocalOutbox::Open(state_folder,
                                    std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count(),
                                    &warning);
    if (!warning.empty() && warn) warn("notify.outbox", warning);
    return outbox;
  };
}

Notifier::Notifier(event_base* base, std::shared_ptr<const config::Config> config,
                   const common::TimeSource& time, StateSource state, OutboxFactory outboxes,
                   Logger warn)
    : base_(base),
      config_(std::move(config)),
      time_(time),
      state_(std::move(state)),
      make_outbox_(std::move(outboxes)),
      warn_(std::move(warn)),
      random_(std::random_device{}()) {
  poster_ = std::make_unique<HttpPoster>(base);
}

Notifier::~Notifier() {
  timer_.reset();
  poster_.reset();
  outbox_.reset();
}

void Notifier::Start() {
  timer_.reset(event_new(
      base_, -1, EV_PERSIST,
      [](evutil_socket_t, short, void* self) { static_cast<Notifier*>(self)->Tick(); }, this));
  timeval every_second{1, 0};
  event_add(timer_.get(), &every_second);
  if (!config_->notify.webhooks.empty()) outbox();  // resume what a restart left
}

void Notifier::Reconfigure(std::shared_ptr<const config::Config> config) {
  config_ = std::move(config);
}

int64_t Notifier::NowMs() const { return UnixMs(time_.WallNow()); }

Outbox* Notifier::outbox() {
  if (!outbox_ && make_outbox_) outbox_ = make_outbox_();
  return outbox_.get();
}

void Notifier::Warn(std::string_view key, const std::string& message) {
  int64_t now = NowMs() / 1000;
  if (now - last_warning_ < 10) return;
  last_warning_ = now;
  if (warn_) warn_(key, message);
}

void Notifier::OutboxDone(bool ok, const std::string& error) {
  if (ok) return;
  ++counters_.outbox_errors_total;
  Warn("notify.outbox", "notify: the webhook outbox failed: " + error);
}

std::vector<Delivery> Notifier::DeliveriesFor(const Event& event) const {
  std::vector<Delivery> out;
  std::string body;
  for (const config::WebhookConfig& hook : config_->notify.webhooks) {
    if (!Subscribed(hook, event.type)) continue;
    if (body.empty()) body = EventBody(event);
    Delivery d;
    d.id = event.id + "." + SubscriberKey(hook.url);
    d.event_id = event.id;
    d.event_type = event.type;
    d.url = hook.url;
    d.body = body;
    d.created_ms = UnixMs(event.created_at);
    d.next_ms = d.created_ms;
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Delivery> Notifier::Ordered(std::vector<Delivery> deliveries) {
  // Strictly increasing first-attempt times on this instance: the outbox
  // hands a subscriber its deliveries earliest first, so events of one
  // change (and of successive changes) keep their order.
  for (Delivery& d : deliveries) {
    d.next_ms = std::max(d.next_ms, last_order_ms_ + 1);
    last_order_ms_ = d.next_ms;
  }
  return deliveries;
}

void Notifier::OnApplied(const state::RuntimeState& before, const state::RuntimeState& after) {
  std::vector<Event> events = DeriveEvents(before, after, config_.get(), time_.WallNow());
  std::vector<Delivery> deliveries;
  for (const Event& event : events) {
    ++counters_.events_by_type[event.type];
    for (Delivery& d : DeliveriesFor(event)) deliveries.push_back(std::move(d));
  }
  Enqueue(Ordered(std::move(deliveries)));
}

void Notifier::Enqueue(std::vector<Delivery> deliveries) {
  if (deliveries.empty() || outbox() == nullptr) return;
  std::vector<Delivery> copy = deliveries;
  outbox_->Add(std::move(deliveries),
               [this, copy = std::move(copy)](bool ok, const std::string& error) {
                 OutboxDone(ok, error);
                 if (!ok && std::string_view(outbox_->backend()) == "redis") {
                   // Not stored: kept here and offered again every second.
                   for (const Delivery& d : copy) {
                     if (unsent_.size() < kMaxUnsent) unsent_.push_back(d);
                   }
                   return;
                 }
                 ClaimDue();  // deliver now rather than at the next tick
               });
}

void Notifier::Tick() {
  CheckOverdue(time_.WallNow());
  if (!unsent_.empty() && outbox() != nullptr) {
    std::vector<Delivery> retry = std::move(unsent_);
    unsent_.clear();
    Enqueue(std::move(retry));
  }
  Heal();
  ClaimDue();
}

void Notifier::Heal() {
  if (healing_ || outbox_ == nullptr) return;
  healing_ = true;
  outbox_->Heal([this](bool ok, const std::string& error, size_t restored) {
    healing_ = false;
    if (!ok) return OutboxDone(false, error);
    if (restored == 0) return;
    counters_.outbox_restored_total += restored;
    // Not rate-limited: it happens once per loss, and operators must see it.
    if (warn_) {
      warn_("notify.outbox_restored",
            "notify: the webhook outbox had lost " + std::to_string(restored) +
                " pending deliveries this instance knew of (Redis restarted empty?): "
                "written back");
    }
    ClaimDue();
  });
}

void Notifier::CheckOverdue(common::TimePoint now) {
  std::shared_ptr<const state::RuntimeState> state = state_ ? state_() : nullptr;
  if (!state) return;
  std::set<std::string> late;
  uint64_t late_now = 0;
  bool subscribed = false;
  for (const config::WebhookConfig& hook : config_->notify.webhooks) {
    subscribed |= Subscribed(hook, "incident.update_overdue");
  }
  for (const state::Incident& incident : state->incidents) {
    if (!incident.update_overdue(now)) continue;
    ++late_now;
    std::string key = incident.id + "@" + std::to_string(UnixMs(*incident.next_update_at()) / 1000);
    late.insert(key);
    if (overdue_seen_.insert(key).second) ++counters_.overdue_total;
    if (!subscribed || overdue_marked_.count(key) > 0 || outbox() == nullptr) continue;
    overdue_marked_.insert(key);
    Event event = OverdueEvent(incident, state->version, now);
    outbox_->MarkOnce("overdue:" + key, kOverdueMarkSeconds,
                      [this, key, event](bool ok, bool first) {
                        if (!ok) {
                          overdue_marked_.erase(key);  // asked again at the next tick
                          OutboxDone(false, "could not mark " + key);
                          return;
                        }
                        if (!first) return;  // another instance (or an earlier run) sent it
                        ++counters_.events_by_type[event.type];
                        Enqueue(Ordered(DeliveriesFor(event)));
                      });
  }
  counters_.overdue_now = late_now;
  // Forget promises no longer late (updated or resolved): the sets stay small.
  std::erase_if(overdue_seen_, [&](const std::string& k) { return late.count(k) == 0; });
  std::erase_if(overdue_marked_, [&](const std::string& k) { return late.count(k) == 0; });
}

void Notifier::ClaimDue() {
  if (claiming_ || outbox_ == nullptr || poster_->in_flight() >= kMaxInFlight) return;
  claiming_ = true;
  const config::NotifyConfig& n = config_->notify;
  int64_t lease_ms = n.timeout.count() + 30'000;
  outbox_->Claim(NowMs(), kMaxInFlight - poster_->in_flight(), lease_ms,
                 [this](Outbox::Claimed claimed) {
                   claiming_ = false;
                   if (!claimed.ok) return OutboxDone(false, claimed.error);
                   counters_.outbox_pending = static_cast<int64_t>(claimed.pending);
                   for (Delivery& d : claimed.due) Attempt(std::move(d));
                 });
}

void Notifier::Attempt(Delivery delivery) {
  const config::WebhookConfig* hook = nullptr;
  for (const config::WebhookConfig& h : config_->notify.webhooks) {
    if (h.url == delivery.url) hook = &h;
  }
  if (hook == nullptr) {
    delivery.last_error = "the webhook was removed from the configuration";
    ++counters_.failed_total;
    outbox_->Fail(delivery, [this](bool ok, const std::string& e) { OutboxDone(ok, e); });
    return;
  }
  int64_t now_s = NowMs() / 1000;
  HttpPoster::Headers headers = {
      {"Tidegate-Signature", SignatureHeader(hook->secret, now_s, delivery.body)},
      {"Tidegate-Event", delivery.event_type},
      {"Tidegate-Delivery", delivery.id},
      {"User-Agent", std::string("tidegate/") + TIDEGATE_VERSION}};
  std::string url = delivery.url;
  std::string body = delivery.body;
  poster_->Post(url, headers, body, config_->notify.timeout,
                [this, delivery = std::move(delivery)](HttpPoster::Result result) mutable {
                  Attempted(std::move(delivery), result);
                });
}

void Notifier::Attempted(Delivery delivery, const HttpPoster::Result& result) {
  auto report = [this](bool ok, const std::string& e) { OutboxDone(ok, e); };
  if (result.status >= 200 && result.status < 300) {
    ++counters_.delivered_total;
    outbox_->Complete(delivery, report);
    ClaimDue();  // more may be waiting
    return;
  }
  ++delivery.attempts;
  delivery.last_error = result.status != 0 ? "HTTP " + std::to_string(result.status) : result.error;
  const config::NotifyConfig& n = config_->notify;
  int64_t now = NowMs();
  if (now - delivery.created_ms >= n.give_up_after.count()) {
    ++counters_.failed_total;
    Warn("notify.failed",
         "notify: gave up delivering " + delivery.event_type + " to " + RedactedUrl(delivery.url) +
             " after " + std::to_string(delivery.attempts) + " attempts: " + delivery.last_error);
    outbox_->Fail(delivery, report);
    return;
  }
  ++counters_.retried_total;
  double jitter = std::uniform_real_distribution<double>(0.8, 1.2)(random_);
  delivery.next_ms =
      now + RetryDelay(delivery.attempts, n.retry_initial, n.retry_max, jitter).count();
  outbox_->Reschedule(delivery, report);
}

void Notifier::Status(std::function<void(nlohmann::json)> reply) {
  Json hooks = Json::array();
  for (const config::WebhookConfig& hook : config_->notify.webhooks) {
    hooks.push_back({{"url", RedactedUrl(hook.url)}, {"events", hook.events}});
  }
  Json counters = {{"delivered_total", counters_.delivered_total},
                   {"retried_total", counters_.retried_total},
                   {"failed_total", counters_.failed_total},
                   {"overdue_total", counters_.overdue_total},
                   {"events_by_type", counters_.events_by_type}};
  Json base = {{"backend", outbox_ ? Json(outbox_->backend()) : Json(nullptr)},
               {"webhooks", std::move(hooks)},
               {"counters", std::move(counters)},
               {"pending", Json::array()},
               {"failed", Json::array()}};
  if (outbox_ == nullptr) return reply(std::move(base));
  outbox_->List(kListMax, [base = std::move(base),
                           reply = std::move(reply)](Outbox::Listing listing) mutable {
    if (!listing.ok) base["error"] = "outbox unavailable: " + listing.error;
    for (const Delivery& d : listing.pending) base["pending"].push_back(DeliveryStatus(d));
    for (const Delivery& d : listing.failed) base["failed"].push_back(DeliveryStatus(d));
    reply(std::move(base));
  });
}

}  // namespace tidegate::notify
