// The pending webhook deliveries one instance knows of, kept in its memory
// beside the shared Redis outbox (notify/redis_outbox.h), so that a Redis
// restarted empty (no persistence), flushed or replaced gets them written
// back rather than losing them (docs/webhooks.md "Redis restarted empty").
//
// What it holds: the deliveries this instance enqueued and those it claimed
// while delivering, each at its latest known attempts / next attempt. A
// delivery leaves when this instance completes or gives it up, or when the
// outbox shows it gone (Prune: another instance delivered it).
//
// Bounded: at most kMaxEntries deliveries (the size of the local outbox,
// notify/local_outbox.h); Put() of a new one beyond that is refused (it is
// still in Redis; it only would not be written back).
//
// Contract: plain value, no I/O, not thread-safe (the control thread uses it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "notify/delivery.h"

namespace tidegate::notify {

class PendingCopy {
 public:
  static constexpr size_t kMaxEntries = 10000;

  // Adds or replaces `d` (by id), stamped `now_ms`. False when it is new and
  // the copy is full.
  bool Put(const Delivery& d, int64_t now_ms);
  void Remove(const std::string& id);
  // `gone`: ids the outbox no longer holds. Removes those put at or before
  // `put_before_ms` (a younger one may still be on its way into the outbox,
  // e.g. an Add() retried after NOSCRIPT). Returns how many were removed.
  size_t Prune(const std::vector<std::string>& gone, int64_t put_before_ms);

  std::vector<std::string> Ids() const;
  std::vector<Delivery> All() const;  // by id
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Delivery delivery;
    int64_t put_ms = 0;
  };
  std::map<std::string, Entry> entries_;
};

}  // namespace tidegate::notify
