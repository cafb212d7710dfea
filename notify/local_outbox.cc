#include "notify/local_outbox.h"

#include <algorithm>
#include <set>

namespace tidegate::notify {
namespace {

using Json = nlohmann::json;
constexpr int kFileVersion = 1;

// The subscriber key ending a delivery id ("<event id>.<key>").
std::string SubscriberOf(const Delivery& d) { return d.id.substr(d.id.rfind('.') + 1); }

}  // namespace

std::unique_ptr<LocalOutbox> LocalOutbox::Open(const std::string& folder, int64_t now_unix,
                                               std::string* warning) {
  std::unique_ptr<LocalOutbox> outbox(new LocalOutbox(folder + "/notify_outbox.json"));
  state::StateFile::ReadResult read = outbox->file_.Read();
  if (read.status == state::StateFile::ReadStatus::kMissing) return outbox;
  std::string problem = read.error;
  if (read.status == state::StateFile::ReadStatus::kRead) {
    Json doc = Json::parse(read.text, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || doc.value("version", 0) != kFileVersion || !doc["pending"].is_array() ||
        !doc["failed"].is_array() || !doc["marks"].is_object()) {
      problem = "not a version 1 notify outbox";
    } else {
      for (const Json& j : doc["pending"]) {
        if (auto d = DeliveryFromJson(j)) outbox->pending_[d->id] = std::move(*d);
      }
      for (const Json& j : doc["failed"]) {
        if (auto d = DeliveryFromJson(j)) outbox->failed_.push_back(std::move(*d));
      }
      for (const auto& [key, expiry] : doc["marks"].items()) {
        if (expiry.is_number_integer() && expiry.get<int64_t>() > now_unix) {
          outbox->marks_[key] = expiry.get<int64_t>();
        }
      }
      return outbox;
    }
  }
  std::string error;
  std::string aside = outbox->file_.SetAside(now_unix, &error);
  *warning = "notify: " + outbox->file_.path() + ": " + problem + "; " +
             (aside.empty() ? "could not set it aside: " + error : "set aside as " + aside) +
             "; webhook deliveries it held are lost";
  return outbox;
}

bool LocalOutbox::Save(std::string* error) {
  Json pending = Json::array();
  for (const auto& [id, d] : pending_) pending.push_back(DeliveryToJson(d));
  Json failed = Json::array();
  for (const Delivery& d : failed_) failed.push_back(DeliveryToJson(d));
  Json marks = Json::object();
  for (const auto& [key, expiry] : marks_) marks[key] = expiry;
  Json doc = {{"version", kFileVersion},
              {"pending", std::move(pending)},
              {"failed", std::move(failed)},
              {"marks", std::move(marks)}};
  return file_.Write(doc.dump(-1, ' ', false, Json::error_handler_t::replace), error);
}

void LocalOutbox::SaveAndReport(const Done& done) {
  std::string error;
  bool ok = Save(&error);
  if (done) done(ok, error);
}

void LocalOutbox::Add(std::vector<Delivery> deliveries, Done done) {
  size_t room = kMaxPending > pending_.size() ? kMaxPending - pending_.size() : 0;
  size_t dropped = deliveries.size() > room ? deliveries.size() - room : 0;
  for (Delivery& d : deliveries) {
    if (pending_.size() >= kMaxPending) break;
    pending_.emplace(d.id, std::move(d));
  }
  std::string error;
  bool ok = Save(&error);
  if (dropped > 0) {
    ok = false;
    error = std::to_string(dropped) + " deliveries refused: the outbox holds " +
            std::to_string(kMaxPending) + " already" + (error.empty() ? "" : "; " + error);
  }
  if (done) done(ok, error);
}

void LocalOutbox::Claim(int64_t now_ms, size_t max, int64_t lease_ms,
                        std::function<void(Claimed)> done) {
  Claimed claimed;
  claimed.pending = pending_.size();
  std::vector<const Delivery*> due;
  for (const auto& [id, d] : pending_) {
    if (d.next_ms > now_ms) continue;
    auto lease = leased_until_.find(id);
    if (lease != leased_until_.end() && lease->second > now_ms) continue;
    due.push_back(&d);
  }
  std::sort(due.begin(), due.end(), [](const Delivery* a, const Delivery* b) {
    return a->next_ms != b->next_ms ? a->next_ms < b->next_ms : a->id < b->id;
  });
  // One delivery per subscriber at a time, the earliest first: a healthy
  // subscriber gets events in order.
  std::set<std::string> seen;
  for (const Delivery* d : due) {
    if (claimed.due.size() >= max) break;
    std::string subscriber = SubscriberOf(*d);
    if (!seen.insert(subscriber).second) continue;
    auto busy = busy_until_.find(subscriber);
    if (busy != busy_until_.end() && busy->second > now_ms) continue;
    busy_until_[subscriber] = now_ms + lease_ms;
    leased_until_[d->id] = now_ms + lease_ms;
    claimed.due.push_back(*d);
  }
  done(std::move(claimed));
}

void LocalOutbox::Complete(const Delivery& delivery, Done done) {
  busy_until_.erase(SubscriberOf(delivery));
  pending_.erase(delivery.id);
  leased_until_.erase(delivery.id);
  SaveAndReport(done);
}

void LocalOutbox::Reschedule(const Delivery& delivery, Done done) {
  busy_until_.erase(SubscriberOf(delivery));
  leased_until_.erase(delivery.id);
  auto it = pending_.find(delivery.id);
  if (it != pending_.end()) it->second = delivery;
  SaveAndReport(done);
}

void LocalOutbox::Fail(const Delivery& delivery, Done done) {
  busy_until_.erase(SubscriberOf(delivery));
  pending_.erase(delivery.id);
  leased_until_.erase(delivery.id);
  failed_.insert(failed_.begin(), delivery);
  if (failed_.size() > kMaxFailed) failed_.resize(kMaxFailed);
  SaveAndReport(done);
}

void LocalOutbox::MarkOnce(const std::string& key, int64_t ttl_seconds,
                           std::function<void(bool ok, bool first)> done) {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::erase_if(marks_, [now](const auto& entry) { return entry.second <= now; });
  if (marks_.count(key) > 0) return done(true, false);
  marks_[key] = now + ttl_seconds;
  std::string error;
  bool ok = Save(&error);
  done(ok, true);
}

void LocalOutbox::List(size_t max, std::function<void(Listing)> done) {
  Listing listing;
  for (const auto& [id, d] : pending_) listing.pending.push_back(d);
  std::sort(listing.pending.begin(), listing.pending.end(),
            [](const Delivery& a, const Delivery& b) { return a.next_ms < b.next_ms; });
  if (listing.pending.size() > max) listing.pending.resize(max);
  listing.failed.assign(failed_.begin(), failed_.begin() + std::min(max, failed_.size()));
  done(std::move(listing));
}

}  // namespace tidegate::notify
