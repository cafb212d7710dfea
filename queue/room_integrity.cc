#include "queue/room_integrity.h"

#include <algorithm>

namespace tidegate::queue {
namespace {

constexpr uint64_t kWords = kClaimWindow / 64;

}  // namespace

bool ClaimedNumbers::Test(uint64_t number) const {
  uint64_t slot = number % kClaimWindow;
  size_t word = slot / 64;
  return word < words_.size() && (words_[word] >> (slot % 64) & 1) != 0;
}

void ClaimedNumbers::Set(uint64_t number) {
  uint64_t slot = number % kClaimWindow;
  size_t word = slot / 64;
  if (word >= words_.size()) words_.resize(word + 1, 0);
  words_[word] |= uint64_t{1} << (slot % 64);
}

void ClaimedNumbers::ClearRange(uint64_t first, uint64_t last) {
  if (last < first) return;
  if (last - first + 1 >= kClaimWindow) {
    words_.assign(words_.size(), 0);
    return;
  }
  uint64_t slot = first % kClaimWindow;
  uint64_t left = last - first + 1;
  while (left > 0) {
    size_t word = slot / 64;
    if (word >= words_.size()) {  // never set: already clear; skip to the wrap
      uint64_t skip = std::min<uint64_t>(left, kClaimWindow - slot);
      left -= skip;
      slot = (slot + skip) % kClaimWindow;
      continue;
    }
    uint64_t bit = slot % 64;
    uint64_t span = std::min<uint64_t>(left, 64 - bit);
    uint64_t mask = span == 64 ? ~uint64_t{0} : ((uint64_t{1} << span) - 1) << bit;
    words_[word] &= ~mask;
    left -= span;
    slot = (slot + span) % kClaimWindow;
  }
  static_assert(kWords * 64 == kClaimWindow);
}

bool EndedSessions::Contains(uint64_t session, int64_t now_ms) const {
  auto it = until_.find(session);
  return it != until_.end() && it->second > now_ms;
}

bool EndedSessions::Insert(uint64_t session, int64_t until_ms, int64_t now_ms) {
  Prune(now_ms);
  if (Contains(session, now_ms)) return false;
  while (until_.size() >= kMaxEndedSessions && !order_.empty()) {
    auto [until, oldest] = order_.front();
    order_.pop_front();
    auto it = until_.find(oldest);
    if (it != until_.end() && it->second == until) until_.erase(it);
  }
  until_[session] = until_ms;
  order_.emplace_back(until_ms, session);
  return true;
}

void EndedSessions::Prune(int64_t now_ms) {
  while (!order_.empty() && order_.front().first <= now_ms) {
    auto [until, session] = order_.front();
    order_.pop_front();
    auto it = until_.find(session);
    if (it != until_.end() && it->second == until) until_.erase(it);
  }
}

std::optional<int64_t> RenewedSessions::Find(uint64_t session) const {
  auto it = bucket_.find(session);
  if (it == bucket_.end()) return std::nullopt;
  return it->second;
}

void RenewedSessions::Record(uint64_t session, int64_t bucket) {
  while (bucket_.size() >= kMaxRenewedSessions && !order_.empty()) {
    auto [oldest_bucket, oldest] = order_.front();
    order_.pop_front();
    auto it = bucket_.find(oldest);
    if (it != bucket_.end() && it->second == oldest_bucket) bucket_.erase(it);
  }
  auto [it, inserted] = bucket_.try_emplace(session, bucket);
  if (!inserted && it->second == bucket) return;  // already there
  it->second = bucket;
  order_.emplace_back(bucket, session);
}

void RenewedSessions::Prune(int64_t oldest_outside) {
  while (!order_.empty() && order_.front().first <= oldest_outside) {
    auto [bucket, session] = order_.front();
    order_.pop_front();
    auto it = bucket_.find(session);
    if (it != bucket_.end() && it->second == bucket) bucket_.erase(it);
  }
}

}  // namespace tidegate::queue
