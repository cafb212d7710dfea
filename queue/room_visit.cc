#include "queue/room_visit.h"

#include <algorithm>

#include "queue/cookies.h"
#include "queue/room_logic.h"

namespace tidegate::queue {
namespace {

using config::QueueingMethod;
using config::RoomMode;
using Outcome = Visit::Outcome;

// How long a wait cookie keeps a place (closing the tab and coming back
// keeps it).
constexpr int64_t kWaitCookieMillis = 6 * 3'600'000;

// Runs a store call and returns its result when it completed synchronously.
template <typename T, typename Call>
std::optional<StoreResult<T>> RunSync(Call call) {
  std::optional<StoreResult<T>> out;
  call([&out](const StoreResult<T>& r) { out = r; });
  return out;
}

void GrantPass(const WaitingRoom& wr, const CompiledRoom& room, const RoomLimits& limits, bool tls,
               int64_t now, int64_t bucket, Visit* v) {
  PassToken pass{room.config.name, now, bucket, (bucket + 1) * kBucketMillis + limits.session_ms};
  v->set_cookies.push_back(SetCookieValue(CookieName(CookieKind::kPass, room.config.name, tls),
                                          wr.codec()->SignPass(pass), tls, std::nullopt));
  v->admitted = true;
  v->pass_bucket = bucket;
  v->outcome = Outcome::kForward;
}

Visit Failure(const WaitingRoom& wr, const CompiledRoom& room) {
  room.runtime->store_errors.fetch_add(1, std::memory_order_relaxed);
  Visit v;
  v.outcome = wr.on_failure() == config::StoreFailureMode::kOpen ? Outcome::kForward
                                                                 : Outcome::kUnavailable;
  return v;
}

void FillQueued(const CompiledRoom& room, const RoomLimits& limits, uint64_t number,
                int64_t issued_ms, int64_t now, Visit* v) {
  RoomCounters c = room.runtime->store().Snapshot();
  v->outcome = Outcome::kQueued;
  v->position = number > c.serving ? number - c.serving : 1;
  v->wait = room.runtime->EstimateFor(v->position, limits);
  double waited = static_cast<double>(std::max<int64_t>(0, now - issued_ms)) / 1000.0;
  double remaining = static_cast<double>(v->wait.low_seconds + v->wait.high_seconds) / 2.0;
  v->progress = waited + remaining <= 0
                    ? 0
                    : std::clamp(static_cast<int>(100.0 * waited / (waited + remaining)), 0, 99);
}

}  // namespace

Visit EvaluateVisit(const WaitingRoom& wr, const CompiledRoom& room, const RoomLimits& limits,
                    const proxy::HeaderList& headers, bool tls, VisitKind kind) {
  Visit v;
  const TokenCodec* codec = wr.codec();
  if (codec == nullptr) return v;  // no keys: the loader refuses active rooms without them
  const std::string& name = room.config.name;
  int64_t now = wr.NowMs();
  RoomStore& store = room.runtime->store();
  room.runtime->MaybeTick(limits, now);

  // 1. A valid pass: inside. Renew only when the bucket changed.
  std::optional<PassToken> pass;
  for (std::string_view value : CookieValues(headers, CookieName(CookieKind::kPass, name, tls))) {
    std::optional<PassToken> p = codec->VerifyPass(value, name, now);
    if (p && (!pass || p->bucket > pass->bucket)) pass = p;  // a forged one never wins
  }
  if (pass) {
    v.admitted = true;
    v.pass_bucket = pass->bucket;
    if (pass->bucket != BucketOf(now)) {
      auto r = RunSync<int64_t>(
          [&](auto done) { store.RenewSession(limits, now, pass->bucket, std::move(done)); });
      if (r && r->ok) GrantPass(wr, room, limits, tls, now, r->value, &v);
    }
    return v;
  }
  if (limits.method == QueueingMethod::kReject) {
    v.outcome = Outcome::kClosed;
    return v;
  }
  // 2. A valid wait cookie: claim when invited, else report the position.
  std::optional<WaitToken> wait;
  for (std::string_view value : CookieValues(headers, CookieName(CookieKind::kWait, name, tls))) {
    std::optional<WaitToken> w = codec->VerifyWait(value, name, now);
    if (w && (!wait || w->ticket < wait->ticket)) wait = w;
  }
  bool shadow = !room.config.enforced;
  if (wait && limits.method != QueueingMethod::kPassthrough && !shadow) {
    uint64_t number = wr.PlaceOf(room, limits, wait->ticket, now).value_or(UINT64_MAX);
    if (number <= store.Snapshot().serving) {
      auto r = RunSync<ClaimOutcome>(
          [&](auto done) { store.Claim(limits, now, number, std::move(done)); });
      if (!r || !r->ok) return Failure(wr, room);
      if (r->value.admitted) {
        GrantPass(wr, room, limits, tls, now, r->value.bucket, &v);
        v.admitted_now = true;
        v.set_cookies.push_back(ClearCookieValue(CookieName(CookieKind::kWait, name, tls), tls));
        return v;
      }
    }
    FillQueued(room, limits, number, wait->issued_ms, now, &v);
    return v;
  }
  if (kind == VisitKind::kPoll) {
    v.outcome = Outcome::kNotQueued;
    return v;
  }
  // 3. A newcomer.
  if (limits.method == QueueingMethod::kPassthrough || shadow) {
    if (shadow) {
      RoomCounters c = store.Snapshot();
      bool would_queue = limits.mode == RoomMode::kQueueAll || c.queued() > 0 ||
                         c.active >= static_cast<int64_t>(limits.total_active_users);
      if (would_queue) room.runtime->shadow_would_queue.fetch_add(1, std::memory_order_relaxed);
    }
    auto r = RunSync<int64_t>([&](auto done) { store.Admit(limits, now, std::move(done)); });
    if (!r || !r->ok) return Failure(wr, room);
    GrantPass(wr, room, limits, tls, now, r->value, &v);
    v.admitted_now = true;
    return v;
  }
  auto r = RunSync<ArriveOutcome>([&](auto done) {
    store.Arrive(limits, now, limits.mode == RoomMode::kAuto, std::move(done));
  });
  if (!r || !r->ok) return Failure(wr, room);
  if (r->value.admitted) {
    GrantPass(wr, room, limits, tls, now, r->value.bucket, &v);
    v.admitted_now = true;
    return v;
  }
  WaitToken ticket{name, r->value.ticket, now, now + kWaitCookieMillis};
  v.set_cookies.push_back(SetCookieValue(CookieName(CookieKind::kWait, name, tls),
                                         codec->SignWait(ticket), tls, kWaitCookieMillis / 1000));
  uint64_t number = wr.PlaceOf(room, limits, ticket.ticket, now).value_or(UINT64_MAX);
  FillQueued(room, limits, number, now, now, &v);
  return v;
}

}  // namespace tidegate::queue
