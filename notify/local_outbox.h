// The outbox of one instance (no Redis): the deliveries in memory and in
// "<[state].path>/notify_outbox.json", rewritten atomically
// (state/state_file.h) at every change, so that a restart — or a crash —
// resumes every delivery not yet made. Leases live in memory only: after a
// restart every pending delivery is due again at its next_ms (at least
// once: a delivery in flight when the process died is attempted again).
//
// Contract: as Outbox (control thread; blocking file writes there, never on
// a worker). Callbacks are called synchronously. A file that cannot be read
// back at Open() is set aside ("….corrupt-<unix time>") and the outbox
// starts empty (*warning says so). A write that fails is reported to the
// callback (ok = false) and the change is kept in memory; the next write
// carries it.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "notify/outbox.h"
#include "state/state_file.h"

namespace tidegate::notify {

class LocalOutbox : public Outbox {
 public:
  static constexpr size_t kMaxPending = 10000;
  static constexpr size_t kMaxFailed = 100;

  // Reads `<folder>/notify_outbox.json` (creating nothing yet). `now_unix`
  // drops expired marks.
  static std::unique_ptr<LocalOutbox> Open(const std::string& folder, int64_t now_unix,
                                           std::string* warning);

  const char* backend() const override { return "local"; }
  void Add(std::vector<Delivery> deliveries, Done done) override;
  void Claim(int64_t now_ms, size_t max, int64_t lease_ms,
             std::function<void(Claimed)> done) override;
  void Complete(const Delivery& delivery, Done done) override;
  void Reschedule(const Delivery& delivery, Done done) override;
  void Fail(const Delivery& delivery, Done done) override;
  void MarkOnce(const std::string& key, int64_t ttl_seconds,
                std::function<void(bool ok, bool first)> done) override;
  void List(size_t max, std::function<void(Listing)> done) override;

  const std::string& path() const { return file_.path(); }

 private:
  explicit LocalOutbox(std::string path) : file_(std::move(path)) {}
  bool Save(std::string* error);
  void SaveAndReport(const Done& done);

  state::StateFile file_;
  std::map<std::string, Delivery> pending_;      // by id
  std::map<std::string, int64_t> leased_until_;  // id → unix ms (memory only)
  std::map<std::string, int64_t> busy_until_;    // subscriber key → unix ms (memory only)
  std::vector<Delivery> failed_;                 // most recent first
  std::map<std::string, int64_t> marks_;         // key → expiry, unix seconds
};

}  // namespace tidegate::notify
