#include "queue/redis_room_store.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iterator>

#include "queue/redis_room_scripts.h"
#include "queue/room_logic.h"

namespace tidegate::queue {
namespace {

enum Op {
  kArriveOp,
  kClaimOp,
  kAdmitOp,
  kRenewOp,
  kEndOp,
  kTickOp,
  kMarkOp,
  kKeepOp,
  kRestoreMarksOp,
  kOpCount
};

constexpr size_t kReplyFields = 10;
constexpr int kRestoredCounters = 1;  // the reply's restored bits
constexpr int kMarksMissing = 2;
constexpr int64_t kRestoreWarningMillis = 10'000;

redis::ScriptRunner MakeScript(std::string_view body) {
  return redis::ScriptRunner(std::string(scripts::kPrelude) + std::string(body));
}

bool ParseNumber(const redis::RedisReply& r, double* out) {
  if (r.type != redis::RedisReply::Type::kString && r.type != redis::RedisReply::Type::kStatus) {
    if (r.type != redis::RedisReply::Type::kInteger) return false;
    *out = static_cast<double>(r.integer);
    return true;
  }
  char* end = nullptr;
  *out = std::strtod(r.str.c_str(), &end);
  return end != r.str.c_str() && *end == '\0';
}

uint64_t U64(double v) { return v <= 0 ? 0 : static_cast<uint64_t>(v); }

}  // namespace

// ---- RedisRoomLink ----

RedisRoomLink::RedisRoomLink(event_base* loop, redis::RedisConnection::Options options)
    : connection_(loop, std::move(options),
                  [this](bool up, const std::string& error) { OnStatus(up, error); }) {
  connection_.Start();
}

RedisRoomLink::~RedisRoomLink() = default;

void RedisRoomLink::OnStatus(bool up, const std::string& error) {
  state_ = up ? State::kUp : State::kDown;
  std::vector<Waiting> waiting;
  waiting.swap(waiting_);
  for (Waiting& w : waiting) {
    if (up) {
      w.script->Run(connection_, w.keys, w.args, std::move(w.done));
    } else {
      redis::RedisResult result;
      result.error = "redis: " + error;
      if (w.done) w.done(std::move(result));
    }
  }
}

void RedisRoomLink::Eval(const redis::ScriptRunner& script, const std::vector<std::string>& keys,
                         std::vector<std::string> args,
                         redis::RedisConnection::ReplyCallback done) {
  if (state_ == State::kConnecting && !connection_.connected()) {
    waiting_.push_back({&script, keys, std::move(args), std::move(done)});
    return;
  }
  script.Run(connection_, keys, args, std::move(done));
}

// ---- RedisRoomLinks ----

RedisRoomLinks::RedisRoomLinks(redis::RedisConnection::Options options, int workers)
    : options_(std::move(options)), slots_(workers > 0 ? workers : 0) {}

RedisRoomLinks::~RedisRoomLinks() { CloseAll(); }

RedisRoomLink* RedisRoomLinks::For(const StoreCaller& caller) {
  if (caller.loop == nullptr || caller.worker < 0 ||
      static_cast<size_t>(caller.worker) >= slots_.size() ||
      closed_.load(std::memory_order_acquire)) {
    return nullptr;
  }
  Slot& slot = slots_[caller.worker];
  if (slot.loop != caller.loop || !slot.link) {
    // The worker's first call (or, in tests, a new loop for index 0).
    slot.link.reset();
    slot.loop = caller.loop;
    slot.link = std::make_unique<RedisRoomLink>(caller.loop, options_);
  }
  return slot.link.get();
}

void RedisRoomLinks::CloseAll() {
  closed_.store(true, std::memory_order_release);
  for (Slot& slot : slots_) {
    slot.link.reset();
    slot.loop = nullptr;
  }
}

RedisRoomStore::RedisRoomStore(const std::string& room, RedisRoomOptions options,
                               RedisRoomLinks* links)
    : room_(room), options_(std::move(options)), links_(links) {
  std::string base = options_.key_prefix + ":{room:" + room + "}:";
  for (const char* suffix : {"s", "sessions", "admissions", "claims", "invitations", "marks",
                             "cohorts", "claimed", "ended", "renewed", "claimed_by"}) {
    keys_.push_back(base + suffix);
  }
  // In Op order.
  scripts_.reserve(kOpCount);
  for (std::string_view body :
       {scripts::kArrive, scripts::kClaim, scripts::kAdmit, scripts::kRenew, scripts::kEnd,
        scripts::kTick, scripts::kMark, scripts::kKeep, scripts::kRestoreMarks}) {
    scripts_.push_back(MakeScript(body));
  }
}

// ---- RoomFloors ----

void RoomFloors::Observe(const RoomCounters& c) {
  tickets = std::max(tickets, c.tickets);
  serving = std::max(serving, c.serving);
  admitted_total = std::max(admitted_total, c.admitted_total);
  if (c.updated_ms >= active_ms) {
    active = c.active;
    active_ms = c.updated_ms;
  }
}

int64_t RoomFloors::ActiveFloor(int64_t now_ms, int64_t session_ms) const {
  if (active <= 0 || active_ms <= 0 || session_ms <= 0) return 0;
  int64_t age = std::max<int64_t>(0, now_ms - active_ms);
  if (age >= session_ms) return 0;
  // active × (session_ms − age) / session_ms, rounded up (no overflow:
  // counts are small, durations below 2^40 ms).
  double left = static_cast<double>(session_ms - age) / static_cast<double>(session_ms);
  return static_cast<int64_t>(std::ceil(static_cast<double>(active) * left - 1e-9));
}

// ---- RedisRoomStore ----

void RedisRoomStore::Remember(const RoomCounters& c) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (c.updated_ms >= last_.updated_ms) last_ = c;
  floors_.Observe(c);
}

RoomFloors RedisRoomStore::floors() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return floors_;
}

void RedisRoomStore::RememberMark(const std::string& name, uint64_t value, bool recorded) {
  if (!recorded) return;
  std::lock_guard<std::mutex> lock(mutex_);
  marks_[name] = value;  // a recorded value never changes
}

void RedisRoomStore::OnRestored(int restored, const StoreCaller& caller, const RoomCounters& c) {
  if ((restored & kRestoredCounters) != 0) {
    restores_.fetch_add(1, std::memory_order_relaxed);
    int64_t last = last_warning_ms_.load(std::memory_order_relaxed);
    if (last == 0 || c.updated_ms - last >= kRestoreWarningMillis) {
      last_warning_ms_.store(c.updated_ms, std::memory_order_relaxed);
      static const RoomLog kStderr;
      (options_.log ? *options_.log : kStderr)
          .Write(proxy::LogLevel::kWarn, "room.store_restored",
                 "room '" + room_ +
                     "': Redis had lost the room's counters; raised them to what this instance "
                     "had seen (tickets " +
                     std::to_string(c.tickets) + ", serving " + std::to_string(c.serving) + ")");
    }
  }
  if ((restored & kMarksMissing) != 0) RestoreMarks(caller, c.updated_ms);
}

void RedisRoomStore::RestoreMarks(const StoreCaller& caller, int64_t now_ms) {
  if (restoring_marks_.exchange(true, std::memory_order_relaxed)) return;  // one at a time
  std::vector<std::string> pairs;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [name, value] : marks_) {
      pairs.push_back(name);
      pairs.push_back(std::to_string(value));
    }
  }
  mark_restores_.fetch_add(1, std::memory_order_relaxed);
  RoomLimits limits;  // unused by the script beyond the prelude
  Run(kRestoreMarksOp, caller, limits, now_ms, std::move(pairs),
      [this](const StoreResult<Parsed>&) {
        // A failure is retried when a later reply still finds marks missing.
        restoring_marks_.store(false, std::memory_order_relaxed);
      });
}

RoomCounters RedisRoomStore::Snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_;
}

void RedisRoomStore::RaiseTicketsFloor(uint64_t tickets) {
  uint64_t old = tickets_floor_.load(std::memory_order_relaxed);
  while (tickets > old &&
         !tickets_floor_.compare_exchange_weak(old, tickets, std::memory_order_relaxed)) {
  }
}

void RedisRoomStore::Run(int op, const StoreCaller& caller, const RoomLimits& limits,
                         int64_t now_ms, std::vector<std::string> extra, Convert done) {
  RedisRoomLink* link = links_ == nullptr ? nullptr : links_->For(caller);
  if (link == nullptr) {
    StoreResult<Parsed> r;
    r.ok = false;
    r.error = "redis: no connection for worker " + std::to_string(caller.worker) +
              (caller.loop == nullptr ? " (no event loop)" : "");
    done(r);
    return;
  }
  bool queueing =
      limits.mode != config::RoomMode::kOff && (limits.method == config::QueueingMethod::kFifo ||
                                                limits.method == config::QueueingMethod::kRandom);
  // Mark, Keep and RestoreMarks run without the room's limits: their
  // replies' active count is not the room's (not remembered), and their
  // floors use the session duration of the last call that had the limits.
  bool with_limits = op != kMarkOp && op != kKeepOp && op != kRestoreMarksOp;
  int64_t session_ms = limits.session_ms;
  std::string floor_args[5];
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (with_limits) {
      session_ms_ = limits.session_ms;
    } else if (session_ms_ > 0) {
      session_ms = session_ms_;
    }
    floor_args[0] = std::to_string(floors_.tickets);
    floor_args[1] = std::to_string(floors_.serving);
    floor_args[2] = std::to_string(floors_.admitted_total);
    floor_args[3] = std::to_string(floors_.ActiveFloor(now_ms, session_ms));
    if (!marks_.empty()) {
      probe_ = (probe_ + 1) % marks_.size();
      floor_args[4] = std::next(marks_.begin(), static_cast<std::ptrdiff_t>(probe_))->first;
    }
  }
  std::vector<std::string> args = {options_.use_redis_time ? "0" : std::to_string(now_ms),
                                   queueing ? "1" : "0",
                                   limits.method == config::QueueingMethod::kRandom ? "1" : "0",
                                   std::to_string(limits.total_active_users),
                                   std::to_string(limits.new_users_per_minute),
                                   std::to_string(session_ms),
                                   std::to_string(limits.refresh_ms)};
  for (std::string& f : floor_args) args.push_back(std::move(f));
  for (std::string& e : extra) args.push_back(std::move(e));
  bool remember = with_limits;
  link->Eval(scripts_[op], keys_, std::move(args),
             [this, remember, caller, done = std::move(done)](redis::RedisResult result) {
               StoreResult<Parsed> r;
               if (!result.ok) {
                 r.ok = false;
                 r.error = result.error;
                 done(r);
                 return;
               }
               const auto& e = result.reply.elements;
               double v[kReplyFields];
               bool good =
                   result.reply.type == redis::RedisReply::Type::kArray && e.size() == kReplyFields;
               for (size_t i = 0; good && i < kReplyFields; ++i) good = ParseNumber(e[i], &v[i]);
               if (!good) {
                 r.ok = false;
                 r.error = "redis: unexpected reply to the room script";
                 done(r);
                 return;
               }
               r.value.a = v[0];
               r.value.b = v[1];
               RoomCounters& c = r.value.counters;
               c.tickets = U64(v[2]);
               c.serving = U64(v[3]);
               c.active = static_cast<int64_t>(v[4]);
               c.admitted_total = U64(v[5]);
               c.admitted_per_minute = v[6];
               c.claim_ratio = v[7];
               c.updated_ms = static_cast<int64_t>(v[8]);
               r.value.restored = static_cast<int>(v[9]);
               if (remember) {
                 Remember(c);
               } else {
                 // Counters never move back, whoever's script read them.
                 std::lock_guard<std::mutex> lock(mutex_);
                 floors_.tickets = std::max(floors_.tickets, c.tickets);
                 floors_.serving = std::max(floors_.serving, c.serving);
                 floors_.admitted_total = std::max(floors_.admitted_total, c.admitted_total);
               }
               if (r.value.restored != 0) OnRestored(r.value.restored, caller, c);
               done(r);
             });
}

namespace {

// A block's ticket_at as the scripts read it: one character per number, '0'
// + the ticket's offset, '.' for kNoTicket (redis_room_scripts.h, kTick).
std::string TicketAtArgument(const BlockOrder& order) {
  std::string out;
  out.reserve(order.ticket_at.size());
  for (uint8_t t : order.ticket_at) {
    out.push_back(t == BlockOrder::kNoTicket ? '.' : static_cast<char>('0' + t));
  }
  return out;
}

// Maps a parsed reply to the method's result, or carries the error.
template <typename T, typename Parsed, typename F>
auto Deliver(RoomStore::Done<T> done, F convert) {
  return [done = std::move(done), convert](const StoreResult<Parsed>& p) {
    if (!done) return;
    StoreResult<T> out;
    out.ok = p.ok;
    out.error = p.error;
    if (p.ok) out.value = convert(p.value);
    done(out);
  };
}

}  // namespace

void RedisRoomStore::Arrive(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                            bool may_admit_directly, Done<ArriveOutcome> done) {
  // Only a plain permutation lets the script skip passed numbers (NextTicket).
  const BlockOrder& order = limits.last_block;
  bool plain = order.Closed();
  Run(kArriveOp, caller, limits, now_ms,
      {may_admit_directly ? "1" : "0", plain ? std::to_string(order.block) : "-1",
       plain ? TicketAtArgument(order) : std::string()},
      Deliver<ArriveOutcome, Parsed>(std::move(done), [](const Parsed& p) {
        ArriveOutcome o;
        o.admitted = p.a == 1;
        if (o.admitted) {
          o.bucket = static_cast<int64_t>(p.b);
        } else {
          o.ticket = U64(p.b);
        }
        o.counters = p.counters;
        return o;
      }));
}

void RedisRoomStore::Claim(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                           uint64_t number, uint64_t session, uint64_t issuer,
                           Done<ClaimOutcome> done) {
  // A lapsed claim issues a ticket as Arrive does (NextTicket).
  const BlockOrder& order = limits.last_block;
  bool plain = order.Closed();
  Run(kClaimOp, caller, limits, now_ms,
      {std::to_string(number), std::to_string(session), std::to_string(limits.invite_window_ms),
       plain ? std::to_string(order.block) : "-1", plain ? TicketAtArgument(order) : std::string(),
       std::to_string(issuer)},
      Deliver<ClaimOutcome, Parsed>(std::move(done), [](const Parsed& p) {
        ClaimOutcome o;
        o.admitted = p.a == 1 || p.a == 3;
        o.again = p.a == 3;
        o.reused = p.a == 2;
        o.lapsed = p.a == 4;
        if (o.lapsed) {
          o.ticket = U64(p.b);
        } else {
          o.bucket = static_cast<int64_t>(p.b);
        }
        o.counters = p.counters;
        return o;
      }));
}

void RedisRoomStore::Admit(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                           Done<int64_t> done) {
  Run(kAdmitOp, caller, limits, now_ms, {""},
      Deliver<int64_t, Parsed>(std::move(done),
                               [](const Parsed& p) { return static_cast<int64_t>(p.a); }));
}

void RedisRoomStore::RenewSession(const StoreCaller& caller, const RoomLimits& limits,
                                  int64_t now_ms, int64_t old_bucket, uint64_t session,
                                  Done<int64_t> done) {
  Run(kRenewOp, caller, limits, now_ms, {std::to_string(old_bucket), std::to_string(session)},
      Deliver<int64_t, Parsed>(std::move(done), [this, session, limits](const Parsed& p) {
        auto bucket = static_cast<int64_t>(p.a);
        if (bucket == kSessionRefused) {  // ended elsewhere: refuse it here at once from now on
          int64_t now = p.counters.updated_ms;
          RememberEnded(session, EndedRecordUntil(limits, now, 0), now);
        }
        return bucket;
      }));
}

void RedisRoomStore::EndSession(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                                int64_t bucket, uint64_t session, int64_t pass_expires_ms,
                                Done<bool> done) {
  // Refused by this process at once, before Redis answers.
  if (session != 0) {
    RememberEnded(session, EndedRecordUntil(limits, now_ms, pass_expires_ms), now_ms);
  }
  Run(kEndOp, caller, limits, now_ms,
      {std::to_string(bucket), std::to_string(session), std::to_string(pass_expires_ms)},
      Deliver<bool, Parsed>(std::move(done), [](const Parsed& p) { return p.a == 1; }));
}

void RedisRoomStore::RememberEnded(uint64_t session, int64_t until_ms, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(ended_mutex_);
  ended_.Insert(session, until_ms, now_ms);
  ended_count_.store(ended_.size(), std::memory_order_relaxed);
}

bool RedisRoomStore::SessionEnded(uint64_t session, int64_t now_ms) const {
  if (session == 0 || ended_count_.load(std::memory_order_relaxed) == 0) return false;
  std::lock_guard<std::mutex> lock(ended_mutex_);
  return ended_.Contains(session, now_ms);
}

void RedisRoomStore::Tick(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                          Done<RoomCounters> done) {
  const BlockOrder& order = limits.last_block;
  Run(kTickOp, caller, limits, now_ms,
      {std::to_string(tickets_floor_.load(std::memory_order_relaxed)),
       order.known ? std::to_string(order.block) : "-1",
       order.known ? TicketAtArgument(order) : std::string(),
       std::to_string(limits.invite_window_ms)},
      Deliver<RoomCounters, Parsed>(std::move(done), [](const Parsed& p) { return p.counters; }));
}

void RedisRoomStore::Mark(const StoreCaller& caller, const std::string& name, int64_t now_ms,
                          Done<uint64_t> done) {
  RoomLimits limits;  // unused by the script beyond the prelude
  Run(kMarkOp, caller, limits, now_ms, {name},
      Deliver<uint64_t, Parsed>(std::move(done), [this, name](const Parsed& p) {
        RememberMark(name, U64(p.a), /*recorded=*/true);  // a mark may be 0 tickets
        return U64(p.a);
      }));
}

void RedisRoomStore::Keep(const StoreCaller& caller, const std::string& name, uint64_t proposed,
                          int64_t now_ms, Done<uint64_t> done) {
  RoomLimits limits;  // unused by the script beyond the prelude
  Run(kKeepOp, caller, limits, now_ms, {name, std::to_string(proposed)},
      Deliver<uint64_t, Parsed>(std::move(done), [this, name](const Parsed& p) {
        RememberMark(name, U64(p.a), /*recorded=*/p.a != 0);  // 0: nothing kept yet
        return U64(p.a);
      }));
}

}  // namespace tidegate::queue
