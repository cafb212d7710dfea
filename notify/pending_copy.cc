#include "notify/pending_copy.h"

namespace tidegate::notify {

bool PendingCopy::Put(const Delivery& d, int64_t now_ms) {
  auto it = entries_.find(d.id);
  if (it == entries_.end()) {
    if (entries_.size() >= kMaxEntries) return false;
    entries_.emplace(d.id, Entry{d, now_ms});
    return true;
  }
  it->second = Entry{d, now_ms};
  return true;
}

void PendingCopy::Remove(const std::string& id) { entries_.erase(id); }

size_t PendingCopy::Prune(const std::vector<std::string>& gone, int64_t put_before_ms) {
  size_t removed = 0;
  for (const std::string& id : gone) {
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.put_ms > put_before_ms) continue;
    entries_.erase(it);
    ++removed;
  }
  return removed;
}

std::vector<std::string> PendingCopy::Ids() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) out.push_back(id);
  return out;
}

std::vector<Delivery> PendingCopy::All() const {
  std::vector<Delivery> out;
  out.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) out.push_back(entry.delivery);
  return out;
}

}  // namespace tidegate::notify
