#include "queue/room_gate.h"

#include "proxy/builtin_routes.h"
#include "proxy/path_normalizer.h"
#include "queue/cookies.h"
#include "queue/queue_reply.h"
#include "queue/room_visit.h"

namespace tidegate::queue {
namespace {

constexpr std::string_view kAnsweredBy = "queue";

std::string QueryParam(std::string_view target, std::string_view key) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return "";
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.size() > key.size() && pair.substr(0, key.size()) == key && pair[key.size()] == '=') {
      return std::string(pair.substr(key.size() + 1));
    }
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return "";
}

void Send(proxy::FilterCallbacks& callbacks, Reply reply) {
  callbacks.SendLocalReply(reply.status, std::move(reply.headers), std::move(reply.body),
                           kAnsweredBy);
}

class QueueStatusFilter : public proxy::StreamFilter {
 public:
  QueueStatusFilter(const WaitingRoom& wr, proxy::FilterCallbacks& callbacks)
      : wr_(wr), callbacks_(callbacks) {}

  proxy::FilterStatus OnRequestHeaders(proxy::RequestHead& head) override {
    proxy::PathNormalizeOptions options;
    options.lower_case = true;
    if (proxy::NormalizePath(head.target, options) != "/.tidegate/queue") {
      return proxy::FilterStatus::kContinue;
    }
    bool tls = callbacks_.stream_info().tls;
    const CompiledRoom* room = nullptr;
    std::string wanted = QueryParam(head.target, "room");
    if (!wanted.empty()) {
      room = wr_.Find(wanted);
    } else {
      for (const auto& r : wr_.rooms()) {
        const std::string& name = r->config.name;
        if (!CookieValues(head.headers, CookieName(CookieKind::kWait, name, tls)).empty() ||
            !CookieValues(head.headers, CookieName(CookieKind::kPass, name, tls)).empty()) {
          room = r.get();
          break;
        }
      }
    }
    Visit visit;
    visit.outcome = Visit::Outcome::kNotQueued;
    if (room != nullptr) {
      RoomLimits limits = wr_.Limits(*room);
      if (wr_.Active(*room, limits)) {
        visit = EvaluateVisit(wr_, *room, limits, head.headers, tls, VisitKind::kPoll);
      } else {
        visit.admitted = true;  // the room is off: everyone may go in
      }
      if (visit.outcome == Visit::Outcome::kForward) visit.outcome = Visit::Outcome::kNotQueued;
    }
    Send(callbacks_, StatusReply(room, visit, wr_.LanguageOf(head), wr_.NowMs()));
    return proxy::FilterStatus::kStop;
  }

 private:
  const WaitingRoom& wr_;
  proxy::FilterCallbacks& callbacks_;
};

class RoomGateFilter : public proxy::StreamFilter {
 public:
  RoomGateFilter(const WaitingRoom& wr, proxy::FilterCallbacks& callbacks)
      : wr_(wr), callbacks_(callbacks) {}

  proxy::FilterStatus OnRequestHeaders(proxy::RequestHead& head) override {
    if (proxy::IsBuiltinTarget(head.target)) return proxy::FilterStatus::kContinue;
    std::string path = proxy::NormalizePath(head.target);
    const CompiledRoom* room = wr_.Match(path);
    if (room == nullptr) return proxy::FilterStatus::kContinue;
    RoomLimits limits = wr_.Limits(*room);
    if (!wr_.Active(*room, limits)) return proxy::FilterStatus::kContinue;
    if (wr_.Bypassed(*room, head, callbacks_.stream_info(), path)) {
      room->runtime->bypassed.fetch_add(1, std::memory_order_relaxed);
      return proxy::FilterStatus::kContinue;
    }
    bool tls = callbacks_.stream_info().tls;
    Visit visit = EvaluateVisit(wr_, *room, limits, head.headers, tls, VisitKind::kRequest);
    if (visit.outcome == Visit::Outcome::kForward) {
      room_ = room;
      limits_ = limits;
      tls_ = tls;
      pass_bucket_ = visit.admitted ? visit.pass_bucket : -1;
      set_cookies_ = std::move(visit.set_cookies);
      return proxy::FilterStatus::kContinue;
    }
    Send(callbacks_, QueuedReply(*room, visit, wr_.LanguageOf(head), WantsJson(head), head.target,
                                 wr_.NowMs()));
    return proxy::FilterStatus::kStop;
  }

  void OnResponseHeaders(proxy::ResponseHead& head) override {
    const std::string* session = head.headers.Find("Tidegate-Session");
    bool end = session != nullptr && proxy::HasToken(*session, "end");
    head.headers.Remove("Tidegate-Session");
    if (room_ == nullptr) return;
    if (end && pass_bucket_ >= 0) {
      room_->runtime->store().EndSession(limits_, wr_.NowMs(), pass_bucket_, nullptr);
      room_->runtime->sessions_ended.fetch_add(1, std::memory_order_relaxed);
      head.headers.Add(
          "Set-Cookie",
          ClearCookieValue(CookieName(CookieKind::kPass, room_->config.name, tls_), tls_));
      return;  // a refreshed pass would undo the end
    }
    for (std::string& c : set_cookies_) head.headers.Add("Set-Cookie", std::move(c));
  }

 private:
  const WaitingRoom& wr_;
  proxy::FilterCallbacks& callbacks_;
  const CompiledRoom* room_ = nullptr;
  RoomLimits limits_;
  bool tls_ = false;
  int64_t pass_bucket_ = -1;
  std::vector<std::string> set_cookies_;
};

}  // namespace

QueueStatusFactory::QueueStatusFactory(std::shared_ptr<const WaitingRoom> room)
    : room_(std::move(room)) {}

std::unique_ptr<proxy::StreamFilter> QueueStatusFactory::CreateFilter(
    proxy::FilterCallbacks& callbacks) const {
  return std::make_unique<QueueStatusFilter>(*room_, callbacks);
}

RoomGateFactory::RoomGateFactory(std::shared_ptr<const WaitingRoom> room)
    : room_(std::move(room)) {}

std::unique_ptr<proxy::StreamFilter> RoomGateFactory::CreateFilter(
    proxy::FilterCallbacks& callbacks) const {
  if (room_->empty()) return nullptr;
  return std::make_unique<RoomGateFilter>(*room_, callbacks);
}

}  // namespace tidegate::queue
