// RedisRoomStore: a waiting room shared by every tidegate instance through
// one Redis server (`[state] backend = "redis"`). Each RoomStore method is
// one atomic Lua script (queue/redis_room_scripts.h) running the arithmetic
// of queue/room_logic.cc on the room's keys `<prefix>:{room:NAME}:…`, with
// Redis TIME as the clock (instances with skewed clocks agree). Scripts are
// sent with EVALSHA, falling back to EVAL on NOSCRIPT (a restarted Redis):
// redis/script_runner.h.
//
// Connections (hiredis 0.14 contexts are not thread-safe, and results must
// arrive on the calling worker's event loop): RedisRoomLinks keeps one
// redis::RedisConnection per worker, in the slot of the worker's index,
// created on the worker's event_base (StoreCaller) at its first store call.
// Commands sent while that first connection is being made wait for it
// (bounded by the timeout); after a failure they fail at once until the
// connection is back (the RedisConnection reconnects with backoff by
// itself).
//
// Contract:
// * Store methods: on the worker thread named by `caller`; `done` is called
//   exactly once on that thread — synchronously with an error when the
//   caller has no loop or no slot, or the connection is down, otherwise from
//   caller.loop (after at most one timeout) — unless the links are closed
//   first (then it is dropped, never called). `done` may be empty.
// * Snapshot(): the newest counters seen in any reply of this process;
//   never blocks on Redis (a mutex held for a copy).
// * Floors (RoomFloors below): every script carries what this process has
//   seen of the room (highest tickets, serving, admitted; the newest active
//   count; the name of one mark it knows, another each call), and raises Redis's counters to them
//   when Redis lost writes (restarted empty, FLUSHALL, a failover to a
//   replica that lacks the last writes): queued visitors keep their places,
//   newcomers get numbers after every ticket this process saw. Marks and
//   kept values this process knows are proposed again (one kRestoreMarks
//   script) when a reply says Redis lacks the probed one. No extra round trip and no
//   write in the normal case. Each restore counts in restores() and logs a
//   warning (at most one per 10 s).
// * Lifetime: RedisRoomLinks must outlive the stores using it, and
//   CloseAll() must run after every worker thread stopped and before their
//   event_bases are freed (app/main.cc calls it when Server::Run returned:
//   the workers are joined then, and their bases are freed only by
//   ~Server). The stores must outlive the links' pending commands (the
//   RoomRegistry owns both, and the links are closed first).
#pragma once

#include <event2/event.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "queue/room_integrity.h"
#include "queue/room_log.h"
#include "queue/room_store.h"
#include "redis/redis_connection.h"
#include "redis/script_runner.h"

namespace tidegate::queue {

// The connection of one worker: queues scripts while the first connection
// is made, then runs them with redis::ScriptRunner (EVALSHA, EVAL on
// NOSCRIPT). Thread: its loop's thread only. The scripts must outlive its
// pending commands.
class RedisRoomLink {
 public:
  RedisRoomLink(event_base* loop, redis::RedisConnection::Options options);
  ~RedisRoomLink();
  void Eval(const redis::ScriptRunner& script, const std::vector<std::string>& keys,
            std::vector<std::string> args, redis::RedisConnection::ReplyCallback done);
  bool connected() const { return connection_.connected(); }

 private:
  enum class State { kConnecting, kUp, kDown };
  struct Waiting {
    const redis::ScriptRunner* script = nullptr;
    std::vector<std::string> keys;
    std::vector<std::string> args;
    redis::RedisConnection::ReplyCallback done;
  };
  void OnStatus(bool up, const std::string& error);

  redis::RedisConnection connection_;
  State state_ = State::kConnecting;
  std::vector<Waiting> waiting_;
};

// One RedisRoomLink per worker, in a slot indexed by the worker's index
// (StoreCaller::worker). The number of slots is fixed when the links are
// built (the resolved [server].workers); a slot is created and touched only
// by its own worker thread, so the store call path takes no lock.
class RedisRoomLinks {
 public:
  RedisRoomLinks(redis::RedisConnection::Options options, int workers);
  ~RedisRoomLinks();
  RedisRoomLinks(const RedisRoomLinks&) = delete;
  RedisRoomLinks& operator=(const RedisRoomLinks&) = delete;

  // The link of `caller.worker`, connected on `caller.loop` the first time
  // that worker asks (and made anew if the worker's loop changed: tests
  // running loops one after the other). Thread: that worker's thread only.
  // nullptr when the index is out of range, the loop is null, or the links
  // are closed.
  RedisRoomLink* For(const StoreCaller& caller);
  // Closes every connection (pending callbacks are dropped). See the
  // lifetime rule above: no worker may be running.
  void CloseAll();

 private:
  struct Slot {
    event_base* loop = nullptr;
    std::unique_ptr<RedisRoomLink> link;
  };
  redis::RedisConnection::Options options_;
  std::vector<Slot> slots_;  // one per worker; never resized
  std::atomic<bool> closed_{false};
};

// What one process has seen of a room in Redis's replies: the floors every
// room script raises the stored counters to (queue/redis_room_scripts.h).
// Plain value; the store keeps one under its mutex.
struct RoomFloors {
  uint64_t tickets = 0;         // highest `tickets` in any reply
  uint64_t serving = 0;         // highest `serving`
  uint64_t admitted_total = 0;  // highest `admitted_total`
  int64_t active = 0;           // the newest reply's active count …
  int64_t active_ms = 0;        // … and its store clock (0 = none)

  // Takes one reply's counters in (counters never move back: maxima; the
  // active count of the newest reply).
  void Observe(const RoomCounters& c);
  // The active count to carry into a Redis that lost the room at `now_ms`:
  // the newest seen, decayed linearly over session_ms from when it was
  // seen (the passes it counted expire within that unless renewed, and a
  // renewal is counted again), rounded up; 0 when none or too old.
  int64_t ActiveFloor(int64_t now_ms, int64_t session_ms) const;
};

struct RedisRoomOptions {
  std::string key_prefix = "tidegate";  // keys: <prefix>:{room:NAME}:s, …
  bool use_redis_time = true;           // false: the callers' now_ms (tests)
  // Where its warnings go (queue/room_log.h); null: stderr.
  std::shared_ptr<const RoomLog> log;
};

class RedisRoomStore : public RoomStore {
 public:
  RedisRoomStore(const std::string& room, RedisRoomOptions options, RedisRoomLinks* links);

  void Arrive(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
              bool may_admit_directly, Done<ArriveOutcome> done) override;
  void Claim(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms, uint64_t number,
             uint64_t session, uint64_t issuer, Done<ClaimOutcome> done) override;
  void Admit(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
             Done<int64_t> done) override;
  void RenewSession(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                    int64_t old_bucket, uint64_t session, Done<int64_t> done) override;
  void EndSession(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
                  int64_t bucket, uint64_t session, int64_t pass_expires_ms,
                  Done<bool> done) override;
  // The sessions ended through this process or found ended by its renewals
  // (a local mirror of the shared `ended` set, same bound and expiry).
  bool SessionEnded(uint64_t session, int64_t now_ms) const override;
  void Tick(const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
            Done<RoomCounters> done) override;
  void Mark(const StoreCaller& caller, const std::string& name, int64_t now_ms,
            Done<uint64_t> done) override;
  void Keep(const StoreCaller& caller, const std::string& name, uint64_t proposed, int64_t now_ms,
            Done<uint64_t> done) override;
  RoomCounters Snapshot() const override;

  // Tickets issued locally while Redis failed (on_failure = local): the next
  // Tick raises the shared `tickets` to at least this (any thread).
  void RaiseTicketsFloor(uint64_t tickets);
  const std::vector<std::string>& keys() const { return keys_; }
  // What this process has seen (any thread).
  RoomFloors floors() const;
  // Replies in which Redis's counters had to be raised to this process's
  // floors (Redis had lost writes), and mark restores sent (any thread).
  uint64_t restores() const override { return restores_.load(std::memory_order_relaxed); }
  uint64_t mark_restores() const override { return mark_restores_.load(std::memory_order_relaxed); }

 private:
  // The method's result (a, b) and the counters from one reply.
  struct Parsed {
    double a = 0;
    double b = 0;
    RoomCounters counters;
    int restored = 0;  // the reply's restored bits (redis_room_scripts.h)
  };
  using Convert = std::function<void(const StoreResult<Parsed>&)>;
  void Run(int op, const StoreCaller& caller, const RoomLimits& limits, int64_t now_ms,
           std::vector<std::string> extra, Convert done);
  void RememberEnded(uint64_t session, int64_t until_ms, int64_t now_ms);
  void Remember(const RoomCounters& c);
  // A mark or kept value Redis answered; `recorded` false: nothing is
  // recorded under that name yet (Keep answered 0), not remembered.
  void RememberMark(const std::string& name, uint64_t value, bool recorded);
  // Acts on a reply's restored bits, on the caller's thread.
  void OnRestored(int restored, const StoreCaller& caller, const RoomCounters& c);
  // Proposes every known mark again (one script; at most one at a time).
  void RestoreMarks(const StoreCaller& caller, int64_t now_ms);

  std::string room_;
  RedisRoomOptions options_;
  RedisRoomLinks* links_;
  std::vector<std::string> keys_;
  std::vector<redis::ScriptRunner> scripts_;  // by op
  mutable std::mutex mutex_;
  RoomCounters last_;
  RoomFloors floors_;                      // under mutex_
  int64_t session_ms_ = 0;                 // under mutex_: the last limits' session_duration
  std::map<std::string, uint64_t> marks_;  // under mutex_; names are few
  size_t probe_ = 0;                       // under mutex_: the mark probed next
  std::atomic<uint64_t> restores_{0};
  std::atomic<uint64_t> mark_restores_{0};
  std::atomic<bool> restoring_marks_{false};
  std::atomic<int64_t> last_warning_ms_{0};
  std::atomic<uint64_t> tickets_floor_{0};
  mutable std::mutex ended_mutex_;
  EndedSessions ended_;  // under ended_mutex_
  std::atomic<size_t> ended_count_{0};
};

}  // namespace tidegate::queue
