#include "queue/room_gate.h"

#include "common/http_negotiation.h"
#include "common/query_string.h"
#include "proxy/cookie_header.h"
#include "proxy/path_normalizer.h"
#include "proxy/thread_recycled.h"
#include "queue/cookies.h"
#include "queue/queue_reply.h"
#include "queue/room_visit.h"

namespace tidegate::queue {
namespace {

constexpr proxy::Answerer kAnsweredBy = proxy::Answerer::kQueue;

// Takes the reply's headers and body (by reference: a Reply is not moved
// once more on its way).
void Send(proxy::FilterCallbacks& callbacks, Reply& reply) {
  if (reply.page) {
    callbacks.SendLocalReplyBody(reply.status, std::move(reply.headers), *reply.page, kAnsweredBy);
    return;
  }
  callbacks.SendLocalReply(reply.status, std::move(reply.headers), std::move(reply.body),
                           kAnsweredBy);
}

// The worker a store call comes from: its Redis link slot and its loop.
StoreCaller CallerOf(const proxy::WorkerContext& worker) {
  return StoreCaller{worker.index, worker.loop};
}

// /.tidegate/queue (the built-in router dispatches it here).
class QueueStatusFilter : public proxy::StreamFilter, public VisitWaiter {
 public:
  QueueStatusFilter(const std::shared_ptr<const WaitingRoom>& wr, proxy::FilterCallbacks& callbacks)
      : wr_(wr), callbacks_(callbacks) {}

  proxy::FilterStatus OnRequestHeaders(proxy::RequestHead& head) override {
    const proxy::StreamInfo& info = callbacks_.stream_info();
    bool tls = info.tls;
    const CompiledRoom* room = nullptr;
    std::string_view wanted =
        common::QueryParam(common::QueryOf(head.target), "room").value_or(std::string_view());
    if (!wanted.empty()) {
      room = wr().Find(wanted);
    } else {
      for (const auto& r : wr().rooms()) {
        const std::string& name = r->config.name;
        if (!CookieValues(head.headers, CookieName(CookieKind::kWait, name, tls)).empty() ||
            !CookieValues(head.headers, CookieName(CookieKind::kPass, name, tls)).empty()) {
          room = r.get();
          break;
        }
      }
    }
    room_ = room;
    language_ = wr().LanguageOf(head);
    Visit visit;
    visit.outcome = Visit::Outcome::kNotQueued;
    if (room != nullptr) {
      StoreCaller caller = CallerOf(callbacks_.worker());
      bool may_queue = wr().MayQueue(*room);  // an off room: no limits to work out
      RoomLimits limits = may_queue ? wr().Limits(*room, caller) : RoomLimits{};
      if (may_queue && wr().Active(*room, limits)) {
        std::optional<Visit> v = EvaluateVisit(wr_, *room, limits, head.headers, tls,
                                               VisitKind::kPoll, caller, pending_, info.client_ip);
        if (!v) return proxy::FilterStatus::kStop;  // Decided() answers
        visit = std::move(*v);
      } else {
        visit.admitted = true;  // the room is off: everyone may go in
      }
    }
    Answer(std::move(visit));
    return proxy::FilterStatus::kStop;
  }

  // The exchange ends (answered, or the client went away while the store
  // had not replied): a late reply must not reach this filter.
  void OnDestroy() override { pending_.Cancel(); }

 private:
  const WaitingRoom& wr() const { return *wr_; }
  // The store answered after OnRequestHeaders returned kStop.
  void Decided(Visit visit) override { Answer(std::move(visit)); }
  void Answer(Visit visit) {
    if (visit.outcome == Visit::Outcome::kForward) visit.outcome = Visit::Outcome::kNotQueued;
    Reply reply = StatusReply(room_, std::move(visit), language_, wr().NowMs(),
                              callbacks_.TakeReplyHeaders());
    Send(callbacks_, reply);
  }

  const std::shared_ptr<const WaitingRoom>& wr_;  // the factory's: outlives the filter
  proxy::FilterCallbacks& callbacks_;
  PendingVisit pending_{*this};
  const CompiledRoom* room_ = nullptr;
  pages::Language language_ = pages::Language::kEnglish;
};

// Made for every request on a protected route and freed at its end: its
// memory is reused for the worker's next one (proxy/thread_recycled.h).
class RoomGateFilter : public proxy::StreamFilter,
                       public VisitWaiter,
                       public proxy::ThreadRecycled<RoomGateFilter> {
 public:
  RoomGateFilter(const std::shared_ptr<const WaitingRoom>& wr, proxy::FilterCallbacks& callbacks)
      : wr_(wr), callbacks_(callbacks) {}

  proxy::FilterStatus OnRequestHeaders(proxy::RequestHead& head) override {
    proxy::FilterStatus status = Gate(head);
    // Checked (or not needed): the origin never sees a bypass secret.
    wr().StripBypassSecrets(&head.headers);
    head.headers.Remove(kAnswerHeader);  // a join answer is for the room only
    return status;
  }

  void OnResponseHeaders(proxy::ResponseHead& head) override {
    const std::string* session = head.headers.Find("Tidegate-Session");
    bool end = session != nullptr && proxy::HasToken(*session, "end");
    head.headers.Remove("Tidegate-Session");
    if (room_ == nullptr) return;
    if (end && pass_bucket_ >= 0) {
      // Once per session (a repeated end changes nothing): counted when
      // the store says this call ended it.
      room_->runtime->store().EndSession(
          CallerOf(callbacks_.worker()), limits_, wr().NowMs(), pass_bucket_, pass_session_,
          pass_expires_ms_, [runtime = room_->runtime](const StoreResult<bool>& r) {
            if (r.ok && r.value) runtime->sessions_ended.fetch_add(1, std::memory_order_relaxed);
          });
      const std::string pass_name = CookieName(CookieKind::kPass, room_->config.name, tls_);
      head.headers.Add("Set-Cookie", ClearCookieValue(pass_name, tls_));
      // The visit's other cookies still go (a claim's cleared wait cookie:
      // kept, it would announce "this place was already used" next time);
      // a refreshed pass would undo the end (here or on a 502).
      for (const std::string& c : set_cookies_) {
        if (c.compare(0, pass_name.size(), pass_name) == 0 && c.size() > pass_name.size() &&
            c[pass_name.size()] == '=') {
          continue;
        }
        head.headers.Add("Set-Cookie", c);
      }
      proxy::MakeCachePrivate(&head.headers);  // no shared cache keeps our cookie
      set_cookies_.clear();
      return;
    }
    if (set_cookies_.empty()) return;
    // Copied, not moved: a filter holding this head may still have it
    // replaced by the proxy's 502 (OnErrorReply), which owes the pass too.
    for (const std::string& c : set_cookies_) head.headers.Add("Set-Cookie", c);
    proxy::MakeCachePrivate(&head.headers);  // a CDN must not hand this pass to others
  }

  // The origin failed (the proxy's 502/504) on an admitted shopper's
  // request: the claim is spent and the session counted, so the pass goes
  // with the error page — the shopper's retry goes straight in instead of
  // finding its place used ("ticket_used") and starting again at the back.
  void OnErrorReply(proxy::ErrorReply& reply) override {
    if (room_ == nullptr || set_cookies_.empty()) return;
    for (const std::string& c : set_cookies_) reply.headers->Add("Set-Cookie", c);
  }

  // What the origin did with an admitted shopper's request: a sample for
  // the room's auto-protection (bypassed requests are not: static assets
  // would hide a slow shop; nor those under `exclude_paths`: slow on purpose). A second call is the
  // final outcome (the origin's 200 replaced by the proxy's 502): it amends the sample.
  void OnUpstreamOutcome(const proxy::UpstreamOutcome& outcome) override {
    if (room_ == nullptr || !measured_ || !room_->runtime->protection.enabled()) return;
    room_->runtime->protection.Record(wr().NowMs(), outcome, &sample_);
  }

  // The origin has the whole request: the exchange is in flight for
  // auto-protection from now (not while the client was still uploading).
  void OnRequestSent() override {
    // (A head that came first, before the body ended, was the outcome.)
    if (room_ == nullptr || !measured_ || sample_.recorded_ms >= 0) return;
    room_->runtime->protection.Begin(wr().NowMs(), &sample_);
  }

  // The exchange ends: a store reply still on its way is dropped; an
  // exchange still in flight for auto-protection is no longer.
  void OnDestroy() override {
    pending_.Cancel();
    if (room_ != nullptr) room_->runtime->protection.End(&sample_);
  }

 private:
  const WaitingRoom& wr() const { return *wr_; }

  proxy::FilterStatus Gate(proxy::RequestHead& head) {
    // Rooms that cannot queue anyone now (off, at run time or by
    // configuration) cost neither the path nor their limits.
    if (!wr().AnyMayQueue()) return proxy::FilterStatus::kContinue;
    // A CORS preflight carries no cookies (Fetch standard): it would be a
    // newcomer every time, and an admitted shopper's cross-origin calls
    // would fail. It passes every room as it is — no ticket, no session, no
    // pass check, not counted — and the origin answers it (docs/waiting-room.md).
    if (proxy::IsCorsPreflight(head)) return proxy::FilterStatus::kContinue;
    // A view of the target when its path is canonical (no copy of it).
    std::string normalized;
    std::string slashes_decoded;
    RoomPath spellings = SpellRoomPath(head.target, &normalized, &slashes_decoded);
    std::string_view path = spellings.plain;
    const CompiledRoom* room = wr().Match(spellings);
    if (room == nullptr || !wr().MayQueue(*room)) return proxy::FilterStatus::kContinue;
    const proxy::StreamInfo& info = callbacks_.stream_info();
    StoreCaller caller = CallerOf(callbacks_.worker());
    RoomLimits limits = wr().Limits(*room, caller);
    if (!wr().Active(*room, limits)) return proxy::FilterStatus::kContinue;
    if (wr().Bypassed(*room, head, info, spellings)) {
      room->runtime->bypassed.fetch_add(1, std::memory_order_relaxed);
      return proxy::FilterStatus::kContinue;
    }
    tls_ = info.tls;
    measured_ = wr().Measured(*room, spellings);
    std::optional<Visit> visit =
        EvaluateVisit(wr_, *room, limits, head.headers, tls_, VisitKind::kRequest, caller, pending_,
                      info.client_ip);
    if (visit && visit->outcome == Visit::Outcome::kForward) {
      Admit(room, limits, std::move(*visit));
      return proxy::FilterStatus::kContinue;
    }
    // Queued, closed, unavailable, or waiting for the store: the reply needs
    // these (copied only off the admitted path).
    pending_room_ = room;
    limits_ = limits;
    language_ = wr().LanguageOf(head);
    json_ = common::WantsJson(head.headers.Find("Accept"));
    // Never the raw target ("//evil.example/.."): its path normalised and
    // escaped; the target itself (no copy) when that changes nothing.
    if (std::optional<std::string_view> in_place = SelfUrlInPlace(head.target, path)) {
      self_url_ = *in_place;
    } else {
      self_url_copy_ = SelfUrl(head.target, path);
      self_url_ = self_url_copy_;
    }
    if (visit) Refuse(*visit);
    return proxy::FilterStatus::kStop;
  }

  void Admit(const CompiledRoom* room, const RoomLimits& limits, Visit visit) {
    room_ = room;
    limits_ = limits;
    pass_bucket_ = visit.admitted ? visit.pass_bucket : -1;
    pass_session_ = visit.pass_session;
    pass_expires_ms_ = visit.pass_expires_ms;
    set_cookies_ = std::move(visit.set_cookies);
  }

  // Takes the visit's cookies (moved into the reply); by reference, so a
  // visit is not moved once more on its way.
  void Refuse(Visit& visit) {
    bool unavailable = visit.outcome == Visit::Outcome::kUnavailable;
    int64_t now_ms = visit.decided_ms != 0 ? visit.decided_ms : wr().NowMs();
    Reply reply = QueuedReply(*pending_room_, std::move(visit), language_, json_, self_url_, now_ms,
                              callbacks_.TakeReplyHeaders());
    if (unavailable) reply.status = 503;
    Send(callbacks_, reply);
  }

  // The store answered after OnRequestHeaders returned kStop.
  void Decided(Visit visit) override {
    if (visit.outcome == Visit::Outcome::kForward) {
      Admit(pending_room_, limits_, std::move(visit));
      callbacks_.ContinueRequest();
      return;
    }
    Refuse(visit);
  }

  const std::shared_ptr<const WaitingRoom>& wr_;  // the factory's: outlives the filter
  proxy::FilterCallbacks& callbacks_;
  PendingVisit pending_{*this};
  const CompiledRoom* room_ = nullptr;  // set when forwarded
  RoomLimits limits_;
  bool tls_ = false;
  int64_t pass_bucket_ = -1;
  uint64_t pass_session_ = 0;
  int64_t pass_expires_ms_ = 0;
  RoomProtection::ExchangeSample sample_;  // this exchange's auto-protection sample
  bool measured_ = true;                   // not under [rooms.NAME.protect] exclude_paths
  std::vector<std::string> set_cookies_;
  const CompiledRoom* pending_room_ = nullptr;
  pages::Language language_ = pages::Language::kEnglish;
  bool json_ = false;
  // The page's "check again" link: a view of the request's target (the
  // stream keeps the request head until the exchange ends, store replies
  // included) or of self_url_copy_.
  std::string_view self_url_;
  std::string self_url_copy_;
};

}  // namespace

QueueStatusFactory::QueueStatusFactory(std::shared_ptr<const WaitingRoom> room)
    : room_(std::move(room)) {}

std::unique_ptr<proxy::StreamFilter> QueueStatusFactory::CreateFilter(
    proxy::FilterCallbacks& callbacks) const {
  return std::make_unique<QueueStatusFilter>(room_, callbacks);
}

RoomGateFactory::RoomGateFactory(std::shared_ptr<const WaitingRoom> room)
    : room_(std::move(room)) {}

std::unique_ptr<proxy::StreamFilter> RoomGateFactory::CreateFilter(
    proxy::FilterCallbacks& callbacks) const {
  if (room_->empty()) return nullptr;
  return std::make_unique<RoomGateFilter>(room_, callbacks);
}

}  // namespace tidegate::queue
