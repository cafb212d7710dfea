#include "demo/capacity.h"

#include <event2/http.h>

#include "demo/http_util.h"

namespace tidegate::demo {
namespace {

// A request evhttp detached from its dead connection is ours to free.
bool ClientLeft(evhttp_request* req) { return evhttp_request_get_connection(req) == nullptr; }

}  // namespace

bool ParseMilliseconds(const std::string& text, std::chrono::milliseconds* out) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9) return false;
  long long value = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  if (unit == "ms" || (unit.empty() && value == 0)) {
    *out = std::chrono::milliseconds(value);
  } else if (unit == "s") {
    *out = std::chrono::milliseconds(value * 1000);
  } else {
    return false;
  }
  return true;
}

CapacityGate::CapacityGate(event_base* base, CapacityOptions options, Serve serve)
    : base_(base), options_(options), serve_(std::move(serve)) {}

CapacityGate::~CapacityGate() { DropAll(); }

void CapacityGate::Submit(evhttp_request* req) {
  if (busy_ < options_.workers) {
    StartService(req, 0);
    return;
  }
  if (options_.backlog >= 0 && static_cast<long>(waiting_.size()) >= options_.backlog) {
    Refuse(req, "backlog full");
    return;
  }
  waiting_.push_back(Waiter{req, Clock::now()});
}

void CapacityGate::StartService(evhttp_request* req, long long waited_ms) {
  ++busy_;
  auto slot = std::make_unique<Slot>();
  slot->owner = this;
  slot->id = next_id_++;
  slot->req = req;
  slot->waited_ms = waited_ms;
  slot->timer = evtimer_new(base_, &OnServiceDone, slot.get());
  long long ms = options_.service_time.count();
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  evtimer_add(slot->timer, &tv);
  in_service_.emplace(slot->id, std::move(slot));
}

void CapacityGate::OnServiceDone(evutil_socket_t, short, void* arg) {
  Slot* slot = static_cast<Slot*>(arg);
  CapacityGate* self = slot->owner;
  evhttp_request* req = slot->req;
  long long waited_ms = slot->waited_ms;
  event_free(slot->timer);
  self->in_service_.erase(slot->id);  // frees `slot`
  --self->busy_;
  if (ClientLeft(req)) {
    evhttp_request_free(req);
  } else {
    AddHeader(req, "Demo-Shop-Wait-Ms", std::to_string(waited_ms));
    self->serve_(req);
  }
  self->Pump();
}

void CapacityGate::Pump() {
  while (busy_ < options_.workers && !waiting_.empty()) {
    Waiter next = waiting_.front();
    waiting_.pop_front();
    if (ClientLeft(next.req)) {
      evhttp_request_free(next.req);
      continue;
    }
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - next.since);
    if (options_.max_wait.count() > 0 && waited > options_.max_wait) {
      Refuse(next.req, "waited too long");
      continue;
    }
    StartService(next.req, waited.count());
  }
}

void CapacityGate::Refuse(evhttp_request* req, const char* why) {
  ++refused_;
  if (ClientLeft(req)) {
    evhttp_request_free(req);
    return;
  }
  AddHeader(req, "Retry-After", "1");
  AddHeader(req, "Cache-Control", "no-store");
  SendBody(req, 503, "text/plain; charset=utf-8",
           std::string("The shop is overloaded (") + why + "). Please try again.\n");
}

void CapacityGate::DropAll() {
  for (auto& [id, slot] : in_service_) {
    event_free(slot->timer);
    if (ClientLeft(slot->req)) evhttp_request_free(slot->req);
  }
  in_service_.clear();
  for (const Waiter& w : waiting_) {
    if (ClientLeft(w.req)) evhttp_request_free(w.req);
  }
  waiting_.clear();
  busy_ = 0;
}

}  // namespace tidegate::demo
