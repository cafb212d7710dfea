#include "demo/pending_responses.h"

#include <event2/buffer.h>

#include <algorithm>
#include <vector>

namespace tidegate::demo {

PendingResponses::PendingResponses(event_base* base) : base_(base) {}

PendingResponses::~PendingResponses() { DropAll(); }

PendingResponses::Entry* PendingResponses::Add(evhttp_request* req) {
  auto entry = std::make_unique<Entry>();
  entry->owner = this;
  entry->id = next_id_++;
  entry->req = req;
  entry->conn = evhttp_request_get_connection(req);
  if (entry->conn != nullptr) evhttp_connection_set_closecb(entry->conn, &OnConnectionClose, this);
  Entry* raw = entry.get();
  entries_.emplace(raw->id, std::move(entry));
  return raw;
}

void PendingResponses::Remove(uint64_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second->timer != nullptr) event_free(it->second->timer);
  entries_.erase(it);
}

void PendingResponses::After(evhttp_request* req, std::chrono::milliseconds delay,
                             Responder respond) {
  Entry* entry = Add(req);
  entry->respond = std::move(respond);
  entry->timer = evtimer_new(base_, &OnTimer, entry);
  timeval tv{static_cast<time_t>(delay.count() / 1000),
             static_cast<suseconds_t>((delay.count() % 1000) * 1000)};
  evtimer_add(entry->timer, &tv);
}

void PendingResponses::OnTimer(evutil_socket_t, short, void* arg) {
  Entry* entry = static_cast<Entry*>(arg);
  PendingResponses* self = entry->owner;
  evhttp_request* req = entry->req;
  Responder respond = std::move(entry->respond);
  self->Remove(entry->id);  // frees `entry`
  respond(req);
}

void PendingResponses::Stream(evhttp_request* req, uint64_t total, size_t piece_size,
                              BodyFiller fill) {
  Entry* entry = Add(req);
  entry->fill = std::move(fill);
  entry->total = total;
  entry->piece_size = std::max<size_t>(1, piece_size);
  evhttp_send_reply_start(req, 200, nullptr);
  SendNextPiece(entry);
}

void PendingResponses::SendNextPiece(Entry* entry) {
  if (evhttp_request_get_connection(entry->req) == nullptr) {
    // The client left; evhttp detached the request and will not call us again.
    evhttp_request* req = entry->req;
    Remove(entry->id);
    evhttp_request_free(req);
    return;
  }
  if (entry->sent >= entry->total) {
    evhttp_request* req = entry->req;
    Remove(entry->id);
    evhttp_send_reply_end(req);
    return;
  }
  size_t length =
      static_cast<size_t>(std::min<uint64_t>(entry->piece_size, entry->total - entry->sent));
  std::string piece;
  piece.reserve(length);
  entry->fill(&piece, entry->sent, length);
  entry->sent += length;
  evbuffer* buf = evbuffer_new();
  evbuffer_add(buf, piece.data(), piece.size());
  // OnPieceSent runs once the connection's output buffer has drained.
  evhttp_send_reply_chunk_with_cb(entry->req, buf, &OnPieceSent, entry);
  evbuffer_free(buf);
}

void PendingResponses::OnPieceSent(evhttp_connection*, void* arg) {
  Entry* entry = static_cast<Entry*>(arg);
  entry->owner->SendNextPiece(entry);
}

void PendingResponses::OnConnectionClose(evhttp_connection* conn, void* arg) {
  PendingResponses* self = static_cast<PendingResponses*>(arg);
  std::vector<uint64_t> gone;
  for (const auto& [id, entry] : self->entries_) {
    if (entry->conn == conn) gone.push_back(id);
  }
  for (uint64_t id : gone) {
    evhttp_request* req = self->entries_[id]->req;
    self->Remove(id);
    // A request evhttp detached from its dead connection is ours to free; one
    // still attached is freed by evhttp together with the connection.
    if (evhttp_request_get_connection(req) == nullptr) evhttp_request_free(req);
  }
}

void PendingResponses::DropAll() {
  std::vector<uint64_t> ids;
  for (const auto& [id, entry] : entries_) ids.push_back(id);
  for (uint64_t id : ids) {
    evhttp_request* req = entries_[id]->req;
    Remove(id);
    if (evhttp_request_get_connection(req) == nullptr) evhttp_request_free(req);
  }
}

}  // namespace tidegate::demo
