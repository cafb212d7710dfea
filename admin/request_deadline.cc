#include "admin/request_deadline.h"

#include <event2/buffer.h>

#include <optional>
#include <unordered_map>

namespace tidegate::admin {

using Clock = std::chrono::steady_clock;

namespace {

struct Row {
  bufferevent* bev = nullptr;
  evbuffer_cb_entry* watch = nullptr;      // on the input buffer
  std::optional<Clock::time_point> began;  // the current request's first byte
};

// evhttp frees a connection's bufferevent with bufferevent_free(), which
// clears its callbacks; while it serves the connection its error callback
// is always set.
bool ReleasedByEvhttp(bufferevent* bev) {
  bufferevent_event_cb event_cb = nullptr;
  bufferevent_getcb(bev, nullptr, nullptr, &event_cb, nullptr);
  return event_cb == nullptr;
}

}  // namespace

struct RequestDeadline::Table {
  std::chrono::milliseconds deadline{0};
  std::unordered_map<bufferevent*, Row> rows;
};

namespace {

// Input-buffer callback: bytes arrived on a connection between requests.
void OnInput(evbuffer*, const evbuffer_cb_info* info, void* arg) {
  if (info->n_added == 0) return;
  auto* row = static_cast<Row*>(arg);
  if (ReleasedByEvhttp(row->bev)) {
    // Kept only by our reference until the next sweep: read nothing more.
    bufferevent_disable(row->bev, EV_READ);
    return;
  }
  if (!row->began) row->began = Clock::now();
}

void Forget(std::unordered_map<bufferevent*, Row>::iterator it) {
  evbuffer_remove_cb_entry(bufferevent_get_input(it->first), it->second.watch);
  bufferevent_decref(it->first);
}

}  // namespace

std::unique_ptr<RequestDeadline> RequestDeadline::Start(event_base* base,
                                                        std::chrono::milliseconds deadline) {
  std::unique_ptr<RequestDeadline> self(new RequestDeadline());
  self->table_ = std::make_unique<Table>();
  self->table_->deadline = deadline;
  self->sweep_ = event_new(base, -1, EV_PERSIST, &RequestDeadline::OnSweep, self.get());
  if (self->sweep_ == nullptr) return nullptr;
  timeval every_second{1, 0};
  event_add(self->sweep_, &every_second);
  return self;
}

RequestDeadline::~RequestDeadline() {
  if (sweep_ != nullptr) event_free(sweep_);
  for (auto it = table_->rows.begin(); it != table_->rows.end(); ++it) Forget(it);
}

bufferevent* RequestDeadline::Track(bufferevent* bev) {
  if (bev == nullptr) return nullptr;
  auto [it, added] = table_->rows.try_emplace(bev);
  if (!added) return bev;  // cannot happen: a tracked bufferevent is not freed
  it->second.bev = bev;
  it->second.watch = evbuffer_add_cb(bufferevent_get_input(bev), &OnInput, &it->second);
  bufferevent_incref(bev);
  return bev;
}

void RequestDeadline::SetDeadline(std::chrono::milliseconds deadline) {
  table_->deadline = deadline;
}

void RequestDeadline::RequestArrived(bufferevent* bev) {
  auto it = table_->rows.find(bev);
  if (it != table_->rows.end()) it->second.began.reset();
}

void RequestDeadline::OnSweep(evutil_socket_t, short, void* arg) {
  static_cast<RequestDeadline*>(arg)->Sweep();
}

void RequestDeadline::Sweep() {
  Clock::time_point now = Clock::now();
  for (auto it = table_->rows.begin(); it != table_->rows.end();) {
    if (ReleasedByEvhttp(it->first)) {
      Forget(it);
      it = table_->rows.erase(it);
      continue;
    }
    Row& row = it->second;
    if (row.began && now - *row.began >= table_->deadline) {
      row.began.reset();
      // evhttp closes the connection as on its own read timeout. Deferred:
      // nothing is freed during this loop.
      bufferevent_trigger_event(it->first, BEV_EVENT_READING | BEV_EVENT_TIMEOUT,
                                BEV_TRIG_DEFER_CALLBACKS);
    }
    ++it;
  }
}

}  // namespace tidegate::admin
