// RedisRoomStore against a real redis-server started by the test (skipped
// when /usr/bin/redis-server, or $REDIS_SERVER, is missing): the Lua scripts
// give exactly the answers of queue/room_logic.cc (the same calls through
// LocalRoomStore and RedisRoomStore, with the same fake clock), memory per
// room stays bounded, NOSCRIPT falls back to EVAL, errors are results.
#include <arpa/inet.h>
#include <event2/event.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "queue/local_room_store.h"
#include "queue/queue_order.h"
#include "queue/redis_room_store.h"
#include "queue/room_logic.h"
#include "redis/redis_connection.h"

namespace tidegate::queue {
namespace {

using std::chrono::milliseconds;

std::string RedisBinary() {
  const char* env = getenv("REDIS_SERVER");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/redis-server";
}

uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool CanConnect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}

class RedisRoomStoreTest : public ::testing::Test {
 protected:
  static constexpr int kWorkers = 2;

  void SetUp() override {
    if (access(RedisBinary().c_str(), X_OK) != 0) GTEST_SKIP() << "no redis-server";
    port_ = FreePort();
    pid_ = fork();
    if (pid_ == 0) {
      std::string port = std::to_string(port_);
      execl(RedisBinary().c_str(), "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", "/tmp", "--logfile", "/dev/null",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    ASSERT_GT(pid_, 0);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!CanConnect(port_)) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "redis-server did not start";
      std::this_thread::sleep_for(milliseconds(20));
    }
    base_ = event_base_new();
    options_.address.host = "127.0.0.1";
    options_.address.port = port_;
    options_.address.text = "127.0.0.1:" + std::to_string(port_);
    options_.timeout = milliseconds(2000);
    links_ = std::make_unique<RedisRoomLinks>(options_, kWorkers);
    caller_ = StoreCaller{0, base_};  // the test's loop is worker 0's
    raw_ = std::make_unique<redis::RedisConnection>(base_, options_, nullptr);
    raw_->Start();
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!raw_->connected() && std::chrono::steady_clock::now() < until) {
      event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK);
      std::this_thread::sleep_for(milliseconds(1));
    }
  }

  void TearDown() override {
    raw_.reset();
    if (links_) links_->CloseAll();
    links_.reset();
    if (base_ != nullptr) event_base_free(base_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Runs the loop until `*done` (bounded).
  void Wait(const bool* done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!*done && std::chrono::steady_clock::now() < deadline) {
      event_base_loop(base_, EVLOOP_ONCE);
    }
    ASSERT_TRUE(*done) << "no reply within 10 s";
  }

  template <typename T, typename Call>
  StoreResult<T> Sync(Call call) {
    StoreResult<T> out;
    bool done = false;
    call([&](const StoreResult<T>& r) {
      out = r;
      done = true;
    });
    Wait(&done);
    return out;
  }

  redis::RedisResult Raw(const std::vector<std::string>& args) {
    redis::RedisResult out;
    bool done = false;
    raw_->Command(args, [&](redis::RedisResult r) {
      out = std::move(r);
      done = true;
    });
    Wait(&done);
    return out;
  }

  std::unique_ptr<RedisRoomStore> MakeStore(const std::string& room, bool redis_time = false) {
    RedisRoomOptions o;
    o.use_redis_time = redis_time;
    return std::make_unique<RedisRoomStore>(room, o, links_.get());
  }

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  event_base* base_ = nullptr;
  redis::RedisConnection::Options options_;
  std::unique_ptr<RedisRoomLinks> links_;
  StoreCaller caller_;
  std::unique_ptr<redis::RedisConnection> raw_;
};

void ExpectSameCounters(const RoomCounters& a, const RoomCounters& b, int step) {
  EXPECT_EQ(a.tickets, b.tickets) << "step " << step;
  EXPECT_EQ(a.serving, b.serving) << "step " << step;
  EXPECT_EQ(a.active, b.active) << "step " << step;
  EXPECT_EQ(a.admitted_total, b.admitted_total) << "step " << step;
  EXPECT_EQ(a.admitted_per_minute, b.admitted_per_minute) << "step " << step;
  EXPECT_EQ(a.claim_ratio, b.claim_ratio) << "step " << step;
  EXPECT_EQ(a.updated_ms, b.updated_ms) << "step " << step;
}

// The same random sequence of calls through both stores: same answers.
TEST_F(RedisRoomStoreTest, SameAnswersAsLocalStore) {
  for (auto method : {config::QueueingMethod::kFifo, config::QueueingMethod::kRandom}) {
    LocalRoomStore local;
    auto redis = MakeStore(method == config::QueueingMethod::kFifo ? "parity-fifo" : "parity-r");
    RoomLimits limits;
    limits.method = method;
    limits.total_active_users = 25;
    limits.new_users_per_minute = 90;
    limits.session_ms = 45'000;
    limits.invite_window_ms = 20'000;  // claims that come too late lapse
    std::mt19937 random(method == config::QueueingMethod::kFifo ? 7 : 11);
    int reused = 0, again = 0, ended = 0, ended_again = 0, refused = 0, stale = 0, lapsed = 0;
    int64_t now = 1'700'000'000'000;
    struct Session {
      int64_t bucket;
      uint64_t id;
      int64_t expires;
      int64_t first_bucket;  // the first pass's: a client may send it again
    };
    std::vector<Session>
        buckets;  // sessions handed out (ended ones stay: ends and renewals repeat)
    uint64_t next_id = 1;
    auto add_session = [&](int64_t bucket) {
      // Large ids too: they travel as decimal strings, never as Lua numbers.
      uint64_t id = next_id++ % 3 == 0 ? 0xfedcba9876543210ULL + next_id : next_id;
      buckets.push_back({bucket, id, (bucket + 1) * kBucketMillis + limits.session_ms, bucket});
    };
    for (int step = 0; step < 1500; ++step) {
      now += random() % 2500;
      if (step == 700) limits.total_active_users = 8;  // a PATCH mid-way
      if (step == 1100) limits.refresh_ms = 25'000;    // slower polling: older cohorts judged
      int op = static_cast<int>(random() % 8);
      if (op <= 1) {
        bool direct = random() % 4 != 0;
        // Random: mostly with the last block's order (no ticket issued on a
        // number already passed: NextTicket), sometimes without.
        RoomLimits arrive = limits;
        uint64_t tickets = local.Snapshot().tickets;
        if (method == config::QueueingMethod::kRandom && tickets % kShuffleBlock != 0 &&
            step % 3 != 0) {
          arrive.last_block = OrderOfBlock((tickets - 1) / kShuffleBlock, [](uint64_t t) {
            return std::optional<uint64_t>(ShuffledNumber(t, "parity-seed"));
          });
        }
        ArriveOutcome a, b;
        local.Arrive(caller_, arrive, now, direct, [&](const auto& r) { a = r.value; });
        auto rb = Sync<ArriveOutcome>(
            [&](auto done) { redis->Arrive(caller_, arrive, now, direct, std::move(done)); });
        ASSERT_TRUE(rb.ok) << rb.error;
        b = rb.value;
        EXPECT_EQ(a.admitted, b.admitted) << "step " << step;
        EXPECT_EQ(a.ticket, b.ticket) << "step " << step;
        EXPECT_EQ(a.bucket, b.bucket) << "step " << step;
        ExpectSameCounters(a.counters, b.counters, step);
        if (a.admitted) add_session(a.bucket);
      } else if (op == 2) {
        RoomCounters c = local.Snapshot();
        uint64_t number = c.serving == 0 ? 1 : 1 + random() % (c.serving + 3);
        // The session id a wait cookie names (one per number; none for
        // some): a repeat claim with it enters that session again.
        uint64_t session = number % 3 == 0 ? 0 : 0xabc0000000000000ULL + number;
        // Who numbered the ticket: mostly the store, sometimes one of two
        // local fallbacks (claims keyed by number and issuer).
        uint64_t issuer = step % 5 == 0 ? 0xf00000000000000aULL : step % 7 == 0 ? 11 : 0;
        // Random: a lapsed claim issues a ticket as Arrive does (mostly
        // with the last block's order).
        RoomLimits claim = limits;
        if (method == config::QueueingMethod::kRandom && c.tickets % kShuffleBlock != 0 &&
            step % 3 != 0) {
          claim.last_block = OrderOfBlock((c.tickets - 1) / kShuffleBlock, [](uint64_t t) {
            return std::optional<uint64_t>(ShuffledNumber(t, "parity-seed"));
          });
        }
        ClaimOutcome a, b;
        local.Claim(caller_, claim, now, number, session, issuer,
                    [&](const auto& r) { a = r.value; });
        auto rb = Sync<ClaimOutcome>([&](auto done) {
          redis->Claim(caller_, claim, now, number, session, issuer, std::move(done));
        });
        ASSERT_TRUE(rb.ok) << rb.error;
        b = rb.value;
        EXPECT_EQ(a.admitted, b.admitted) << "step " << step;
        EXPECT_EQ(a.again, b.again) << "step " << step;
        EXPECT_EQ(a.reused, b.reused) << "step " << step;
        EXPECT_EQ(a.lapsed, b.lapsed) << "step " << step;
        EXPECT_EQ(a.ticket, b.ticket) << "step " << step;
        EXPECT_EQ(a.bucket, b.bucket) << "step " << step;
        ExpectSameCounters(a.counters, b.counters, step);
        if (a.reused) ++reused;
        if (a.lapsed) ++lapsed;
        if (a.again) ++again;
        if (a.admitted && !a.again) {
          add_session(a.bucket);
          if (session != 0) buckets.back().id = session;
          if (session != 0 && step % 2 == 0) {  // its answer lost: the same claim at once
            ClaimOutcome x;
            local.Claim(caller_, limits, now + 1, number, session, issuer,
                        [&](const auto& r) { x = r.value; });
            auto y = Sync<ClaimOutcome>([&](auto done) {
              redis->Claim(caller_, limits, now + 1, number, session, issuer, std::move(done));
            });
            ASSERT_TRUE(y.ok) << y.error;
            EXPECT_TRUE(x.again) << "step " << step;
            EXPECT_EQ(x.again, y.value.again) << "step " << step;
            EXPECT_EQ(x.admitted, y.value.admitted) << "step " << step;
            EXPECT_EQ(x.bucket, y.value.bucket) << "step " << step;
            ExpectSameCounters(x.counters, y.value.counters, step);
            if (x.again) ++again;
          }
        }
      } else if (op == 3 || op == 4) {
        // Random: mostly with the last block's order (empty numbers passed
        // over free), sometimes without (the walk stops before that block),
        // sometimes with a number no ticket of the block holds.
        RoomLimits tick = limits;
        uint64_t tickets = local.Snapshot().tickets;
        if (method == config::QueueingMethod::kRandom && tickets % kShuffleBlock != 0 &&
            step % 5 != 0) {
          tick.last_block = OrderOfBlock((tickets - 1) / kShuffleBlock, [](uint64_t t) {
            return std::optional<uint64_t>(ShuffledNumber(t, "parity-seed"));
          });
          if (step % 7 == 0)
            tick.last_block.ticket_at[step % kShuffleBlock] = BlockOrder::kNoTicket;
        }
        RoomCounters a;
        local.Tick(caller_, tick, now, [&](const auto& r) { a = r.value; });
        auto rb = Sync<RoomCounters>(
            [&](auto done) { redis->Tick(caller_, tick, now, std::move(done)); });
        ASSERT_TRUE(rb.ok) << rb.error;
        ExpectSameCounters(a, rb.value, step);
      } else if (op == 5 && !buckets.empty()) {
        size_t i = random() % buckets.size();
        Session& se = buckets[i];
        // A third of the renewals come with the session's first pass again
        // (a client that ignores the renewed cookie).
        int64_t sent = random() % 3 == 0 ? se.first_bucket : se.bucket;
        if (sent != se.bucket) ++stale;
        int64_t a = 0;
        local.RenewSession(caller_, limits, now, sent, se.id, [&](const auto& r) { a = r.value; });
        auto rb = Sync<int64_t>([&](auto done) {
          redis->RenewSession(caller_, limits, now, sent, se.id, std::move(done));
        });
        ASSERT_TRUE(rb.ok) << rb.error;
        EXPECT_EQ(a, rb.value) << "step " << step;
        if (a == kSessionRefused) {
          ++refused;
        } else {
          se.bucket = a;
          se.expires = (a + 1) * kBucketMillis + limits.session_ms;
        }
      } else if (op == 6 && !buckets.empty()) {
        size_t i = random() % buckets.size();
        const Session& se = buckets[i];
        int64_t sent = random() % 3 == 0 ? se.first_bucket : se.bucket;
        bool a = false;
        local.EndSession(caller_, limits, now, sent, se.id, se.expires,
                         [&](const auto& r) { a = r.value; });
        auto rb = Sync<bool>([&](auto done) {
          redis->EndSession(caller_, limits, now, sent, se.id, se.expires, std::move(done));
        });
        ASSERT_TRUE(rb.ok) << rb.error;
        EXPECT_EQ(a, rb.value) << "step " << step;
        EXPECT_EQ(local.SessionEnded(se.id, now), redis->SessionEnded(se.id, now))
            << "step " << step;
        if (a)
          ++ended;
        else
          ++ended_again;
      } else {
        int64_t a = 0;
        local.Admit(caller_, limits, now, [&](const auto& r) { a = r.value; });
        auto rb =
            Sync<int64_t>([&](auto done) { redis->Admit(caller_, limits, now, std::move(done)); });
        ASSERT_TRUE(rb.ok) << rb.error;
        EXPECT_EQ(a, rb.value) << "step " << step;
        add_session(a);
      }
      if (HasFailure()) return;
      ExpectSameCounters(local.Snapshot(), redis->Snapshot(), step);
    }
    EXPECT_GT(local.Snapshot().serving, 50u);  // the sequence really queued and invited
    // Every new branch was taken: reused tickets, lapsed invitations, repeat
    // claims entering their session again, ends, repeated ends, renewals of ended sessions.
    EXPECT_GT(reused, 0);
    EXPECT_GT(lapsed, 0);
    EXPECT_GT(again, 0);
    EXPECT_GT(ended, 0);
    EXPECT_GT(ended_again, 0);
    EXPECT_GT(refused, 0);
    EXPECT_GT(stale, 0);
  }
}

// The claim record's ring wraps the same way in Lua as in C++: old claims
// whose slots are reused by newly invited numbers are cleared by the
// invitation (SETRANGE over whole bytes, SETBIT at the edges), numbers below
// the low-water mark count as used, a number is claimed once.
TEST_F(RedisRoomStoreTest, ClaimWindowWrapsLikeTheLocalRecord) {
  auto redis = MakeStore("wrap");
  RoomLimits limits;
  limits.total_active_users = 100'000;
  limits.new_users_per_minute = 6000;  // a burst of 500
  int64_t now = 1'700'000'000'000;
  RoomState local;
  local.tickets = kClaimWindow + 1000;
  local.serving = kClaimWindow - 3;
  const std::string base = "tidegate:{room:wrap}:";
  ASSERT_TRUE(Raw({"HSET", base + "s", "tickets", std::to_string(local.tickets), "serving",
                   std::to_string(local.serving)})
                  .ok);
  for (uint64_t n = 1; n <= 20; ++n) {  // claims of a previous lap (slots 1..20)
    local.integrity.claimed.Set(n);
    ASSERT_TRUE(Raw({"SETBIT", base + "claimed", std::to_string(n), "1"}).ok);
  }
  RoomCounters a = TickStep(local, limits, now);
  auto b = Sync<RoomCounters>([&](auto done) { redis->Tick(caller_, limits, now, done); });
  ASSERT_TRUE(b.ok) << b.error;
  ASSERT_EQ(a.serving, b.value.serving);
  ASSERT_GT(a.serving, kClaimWindow + 20) << "the invitation laps slots 1..20";
  std::vector<uint64_t> numbers = {kClaimWindow - 3,  kClaimWindow - 1, kClaimWindow,
                                   kClaimWindow + 1,  kClaimWindow + 7, kClaimWindow + 20,
                                   kClaimWindow + 21, kClaimWindow + 1, 5,
                                   kClaimWindow - 3};
  for (size_t i = 0; i < numbers.size(); ++i) {
    ClaimOutcome x = ClaimStep(local, limits, now, numbers[i]);
    auto y = Sync<ClaimOutcome>(
        [&](auto done) { redis->Claim(caller_, limits, now, numbers[i], 0, 0, done); });
    ASSERT_TRUE(y.ok) << y.error;
    EXPECT_EQ(x.admitted, y.value.admitted) << "number " << numbers[i];
    EXPECT_EQ(x.reused, y.value.reused) << "number " << numbers[i];
    ExpectSameCounters(x.counters, y.value.counters, static_cast<int>(i));
  }
  EXPECT_TRUE(ClaimStep(local, limits, now, 5).reused) << "below the low-water mark";
  EXPECT_TRUE(ClaimStep(local, limits, now, kClaimWindow + 1).reused) << "claimed once";
  EXPECT_EQ(local.admitted_total, 7u);
}

TEST_F(RedisRoomStoreTest, MarkRecordsTicketsOnce) {
  auto redis = MakeStore("marks");
  RoomLimits limits;
  limits.mode = config::RoomMode::kQueueAll;
  int64_t now = 1'700'000'000'000;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        Sync<ArriveOutcome>([&](auto d) { redis->Arrive(caller_, limits, now, false, d); }).ok);
  }
  auto m1 = Sync<uint64_t>([&](auto d) { redis->Mark(caller_, "pre", now, d); });
  ASSERT_TRUE(m1.ok) << m1.error;
  EXPECT_EQ(m1.value, 3u);
  ASSERT_TRUE(
      Sync<ArriveOutcome>([&](auto d) { redis->Arrive(caller_, limits, now, false, d); }).ok);
  auto m2 = Sync<uint64_t>([&](auto d) { redis->Mark(caller_, "pre", now, d); });
  EXPECT_EQ(m2.value, 3u);
  auto m3 = Sync<uint64_t>([&](auto d) { redis->Mark(caller_, "start", now, d); });
  EXPECT_EQ(m3.value, 4u);
}

TEST_F(RedisRoomStoreTest, KeepRecordsTheFirstProposal) {
  auto redis = MakeStore("keep");
  auto read = Sync<uint64_t>([&](auto d) { redis->Keep(caller_, "k", 0, 1, d); });
  ASSERT_TRUE(read.ok) << read.error;
  EXPECT_EQ(read.value, 0u) << "0 only reads";
  uint64_t big = (uint64_t{1} << 48) | 0xfedcba987654ULL;
  EXPECT_EQ(Sync<uint64_t>([&](auto d) { redis->Keep(caller_, "k", big, 1, d); }).value, big);
  EXPECT_EQ(Sync<uint64_t>([&](auto d) { redis->Keep(caller_, "k", 7, 1, d); }).value, big);
  EXPECT_EQ(Sync<uint64_t>([&](auto d) { redis->Keep(caller_, "k", 0, 1, d); }).value, big);
}

// Two instances sharing Redis (two QueueOrders, another seed each, as after
// a key rotation on one of them): the same places, a method switch recorded
// by one is read by the other, and no ticket issued before it moves.
TEST_F(RedisRoomStoreTest, QueueOrderIsSharedByInstances) {
  auto store_a = MakeStore("order");
  auto store_b = MakeStore("order");
  QueueOrder a, b;
  RoomLimits limits;
  limits.mode = config::RoomMode::kQueueAll;
  int64_t now = 1'700'000'000'000;
  auto issue = [&](int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(
          Sync<ArriveOutcome>([&](auto d) { store_a->Arrive(caller_, limits, now, false, d); }).ok);
    }
  };
  // Polls like a worker: PlaceOf on every request until the store answered.
  auto place = [&](QueueOrder& o, RoomStore& s, bool shuffled, const std::string& seed,
                   uint64_t ticket) -> uint64_t {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto p = o.PlaceOf(s, caller_, shuffled, seed, ticket, now)) return *p;
      event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK);
      std::this_thread::sleep_for(milliseconds(1));
    }
    ADD_FAILURE() << "no place for ticket " << ticket;
    return 0;
  };
  const std::string seed_a(43, 'a'), seed_b(43, 'b');
  issue(30);
  std::vector<uint64_t> before(31);
  for (uint64_t t = 1; t <= 30; ++t) {
    before[t] = place(a, *store_a, true, seed_a, t);
    EXPECT_EQ(before[t], ShuffledNumber(t, seed_a));
    EXPECT_EQ(place(b, *store_b, true, seed_b, t), before[t]) << "ticket " << t;
  }
  // a switches to fifo (from ticket 65); b reads it within a probe.
  EXPECT_EQ(place(a, *store_a, false, seed_a, 3), before[3]);
  // As before each newcomer's Arrive: a records the change (a proposal,
  // then a mark of `tickets`), a round trip each.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (a.ShuffledAt(65) && std::chrono::steady_clock::now() < deadline) {
    a.Update(*store_a, caller_, false, seed_a, now);
    event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    std::this_thread::sleep_for(milliseconds(1));
  }
  ASSERT_FALSE(a.ShuffledAt(65)) << "the switch was not recorded";
  EXPECT_TRUE(a.ShuffledAt(64)) << "the switch's block stays shuffled";
  issue(50);  // 31..80
  EXPECT_EQ(place(a, *store_a, false, seed_a, 70), 70u);
  now += kOrderProbeMillis;
  EXPECT_EQ(place(b, *store_b, false, seed_b, 70), 70u);
  for (uint64_t t = 1; t <= 30; ++t) {
    EXPECT_EQ(place(b, *store_b, false, seed_b, t), before[t]) << "ticket " << t << " moved";
  }
  EXPECT_EQ(place(b, *store_b, false, seed_b, 40), ShuffledNumber(40, seed_a))
      << "the switch's block stays shuffled";
}

// The floors an instance carries (pure): maxima of the counters, the newest
// active count, decayed over the session duration from when it was seen.
TEST(RoomFloorsTest, ObserveKeepsMaximaAndTheNewestActiveCount) {
  RoomFloors f;
  RoomCounters c;
  c.tickets = 50;
  c.serving = 40;
  c.admitted_total = 45;
  c.active = 30;
  c.updated_ms = 2'000;
  f.Observe(c);
  RoomCounters older = c;  // a reply that arrived late, from before
  older.tickets = 48;
  older.serving = 39;
  older.admitted_total = 44;
  older.active = 35;
  older.updated_ms = 1'000;
  f.Observe(older);
  EXPECT_EQ(f.tickets, 50u);
  EXPECT_EQ(f.serving, 40u);
  EXPECT_EQ(f.admitted_total, 45u);
  EXPECT_EQ(f.active, 30) << "the newest reply's count";
  RoomCounters empty;  // a Redis that lost everything answers 0s
  empty.updated_ms = 3'000;
  f.Observe(empty);
  EXPECT_EQ(f.tickets, 50u) << "never back";
  EXPECT_EQ(f.serving, 40u);
  EXPECT_EQ(f.active, 0) << "the active count follows the newest reply";
}

TEST(RoomFloorsTest, ActiveFloorDecaysOverTheSessionDuration) {
  RoomFloors f;
  EXPECT_EQ(f.ActiveFloor(10'000, 60'000), 0) << "nothing seen";
  f.active = 30;
  f.active_ms = 100'000;
  EXPECT_EQ(f.ActiveFloor(100'000, 60'000), 30);
  EXPECT_EQ(f.ActiveFloor(99'000, 60'000), 30) << "a clock behind: no decay";
  EXPECT_EQ(f.ActiveFloor(130'000, 60'000), 15) << "half the duration: half";
  EXPECT_EQ(f.ActiveFloor(159'000, 60'000), 1) << "rounded up";
  EXPECT_EQ(f.ActiveFloor(160'000, 60'000), 0) << "every pass it counted has expired";
  EXPECT_EQ(f.ActiveFloor(100'000, 0), 0);
}

// Two instances on one Redis; Redis loses everything (FLUSHALL, as a
// restart without persistence): the first script afterwards raises the
// counters to what its instance saw, the waiters keep their positions, a
// newcomer queues behind them (no number given twice), the pass holders
// stay counted (and a pass from before renews without being counted twice),
// and the marks come back.
TEST_F(RedisRoomStoreTest, RedisThatLostTheRoomIsRaisedToWhatInstancesSaw) {
  auto a = MakeStore("floor");
  auto b = MakeStore("floor");
  RoomLimits limits;
  limits.total_active_users = 3;
  limits.new_users_per_minute = 6000;
  limits.session_ms = 60'000;
  int64_t now = 1'700'000'000'000;
  std::vector<int64_t> pass_buckets;
  for (int i = 0; i < 3; ++i) {
    auto r = Sync<ArriveOutcome>([&](auto d) { a->Arrive(caller_, limits, now, true, d); });
    ASSERT_TRUE(r.ok && r.value.admitted) << r.error;
    pass_buckets.push_back(r.value.bucket);
  }
  std::vector<uint64_t> tickets;
  for (int i = 0; i < 6; ++i) {
    RedisRoomStore& s = i % 2 == 0 ? *a : *b;
    auto r = Sync<ArriveOutcome>([&](auto d) { s.Arrive(caller_, limits, now, true, d); });
    ASSERT_TRUE(r.ok && !r.value.admitted) << r.error;
    tickets.push_back(r.value.ticket);
  }
  EXPECT_EQ(tickets.back(), 6u);
  ASSERT_EQ(Sync<uint64_t>([&](auto d) { a->Mark(caller_, "event:sale:prequeue", now, d); }).value,
            6u);
  ASSERT_EQ(Sync<uint64_t>([&](auto d) { b->Keep(caller_, "order|seed|0", 12345, now, d); }).value,
            12345u);
  now += kBucketMillis;  // the passes' bucket is an older one now
  for (RedisRoomStore* s : {a.get(), b.get()}) {
    auto t = Sync<RoomCounters>([&](auto d) { s->Tick(caller_, limits, now, d); });
    ASSERT_TRUE(t.ok) << t.error;
    EXPECT_EQ(t.value.serving, 0u) << "the room is full";
    EXPECT_EQ(t.value.active, 3);
  }
  EXPECT_EQ(a->restores() + b->restores(), 0u) << "nothing to restore in the normal case";
  EXPECT_EQ(a->mark_restores() + b->mark_restores(), 0u);

  ASSERT_TRUE(Raw({"FLUSHALL"}).ok);
  now += 300;
  // A newcomer on b: behind every waiter, not admitted (the room is full).
  auto late = Sync<ArriveOutcome>([&](auto d) { b->Arrive(caller_, limits, now, true, d); });
  ASSERT_TRUE(late.ok) << late.error;
  EXPECT_FALSE(late.value.admitted) << "the three pass holders are still counted";
  EXPECT_EQ(late.value.ticket, 7u) << "a number after every ticket seen";
  EXPECT_EQ(late.value.counters.serving, 0u) << "the waiters keep positions 1..6";
  EXPECT_EQ(late.value.counters.active, 3);
  EXPECT_EQ(late.value.counters.admitted_total, 3u);
  EXPECT_EQ(b->restores(), 1u);
  // a saw no more than b: nothing left to raise; its marks come back.
  auto t = Sync<RoomCounters>([&](auto d) { a->Tick(caller_, limits, now, d); });
  ASSERT_TRUE(t.ok) << t.error;
  EXPECT_EQ(t.value.tickets, 7u);
  EXPECT_EQ(a->restores(), 0u);
  EXPECT_EQ(
      Sync<uint64_t>([&](auto d) { a->Keep(caller_, "event:sale:prequeue", 0, now, d); }).value, 6u)
      << "proposed again by the instance that knew it";
  EXPECT_EQ(Sync<uint64_t>([&](auto d) { b->Keep(caller_, "order|seed|0", 0, now, d); }).value,
            12345u);
  EXPECT_GE(a->mark_restores() + b->mark_restores(), 1u);
  // A pass from before the loss renews in a later bucket: counted once.
  now += kBucketMillis;
  auto renewed =
      Sync<int64_t>([&](auto d) { a->RenewSession(caller_, limits, now, pass_buckets[0], 0, d); });
  ASSERT_TRUE(renewed.ok) << renewed.error;
  EXPECT_EQ(renewed.value, BucketOf(now));
  auto after = Sync<RoomCounters>([&](auto d) { b->Tick(caller_, limits, now, d); });
  EXPECT_EQ(after.value.active, 3) << "moved out of the carried bucket, not added";
  EXPECT_EQ(after.value.tickets, 7u);
}

// A failover to a replica that missed the last writes: lower counters, the
// rest kept. Raised back; a Redis ahead of the instance is left alone.
TEST_F(RedisRoomStoreTest, ReplicaBehindThePrimaryIsRaisedAndOneAheadIsLeftAlone) {
  auto a = MakeStore("behind");
  RoomLimits limits;
  limits.mode = config::RoomMode::kQueueAll;
  int64_t now = 1'700'000'000'000;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Sync<ArriveOutcome>([&](auto d) { a->Arrive(caller_, limits, now, false, d); }).ok);
  }
  auto t = Sync<RoomCounters>([&](auto d) { a->Tick(caller_, limits, now, d); });
  ASSERT_TRUE(t.ok) << t.error;
  const uint64_t serving = t.value.serving;
  ASSERT_GT(serving, 0u);
  const std::string key = "tidegate:{room:behind}:s";
  ASSERT_TRUE(Raw({"HSET", key, "tickets", "12", "serving", "1"}).ok);
  auto r = Sync<ArriveOutcome>([&](auto d) { a->Arrive(caller_, limits, now, false, d); });
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.value.ticket, 21u);
  EXPECT_EQ(r.value.counters.serving, serving);
  EXPECT_EQ(a->restores(), 1u);
  // Another instance went further than this one saw: nothing is lowered.
  ASSERT_TRUE(Raw({"HSET", key, "tickets", "500"}).ok);
  r = Sync<ArriveOutcome>([&](auto d) { a->Arrive(caller_, limits, now, false, d); });
  EXPECT_EQ(r.value.ticket, 501u);
  EXPECT_EQ(a->restores(), 1u);
}

// O(1) memory: a million... well, 20,000 queued visitors and a long run of
// sessions leave the room with seven keys and pruned bucket hashes.
TEST_F(RedisRoomStoreTest, MemoryPerRoomStaysBounded) {
  auto redis = MakeStore("bounded");
  RoomLimits limits;
  limits.total_active_users = 50;
  limits.new_users_per_minute = 600;
  limits.session_ms = 60'000;
  int64_t now = 1'700'000'000'000;
  for (int i = 0; i < 4000; ++i) {
    now += 150;  // ten minutes in all
    bool done = false;
    redis->Arrive(caller_, limits, now, true, [&](const auto&) { done = true; });
    Wait(&done);
    if (i % 2 == 0) {
      done = false;
      redis->Tick(caller_, limits, now, [&](const auto&) { done = true; });
      Wait(&done);
    }
  }
  auto keys = Raw({"KEYS", "tidegate:{room:bounded}:*"});
  ASSERT_TRUE(keys.ok) << keys.error;
  EXPECT_LE(keys.reply.elements.size(), 9u);
  for (const char* hash : {"sessions", "admissions", "claims", "invitations", "cohorts"}) {
    auto len = Raw({"HLEN", std::string("tidegate:{room:bounded}:") + hash});
    ASSERT_TRUE(len.ok);
    EXPECT_LE(len.reply.integer, 14) << hash;  // 6 session buckets, 12 rate buckets (+1)
  }
  EXPECT_GT(redis->Snapshot().tickets, 1000u);
}

TEST_F(RedisRoomStoreTest, ScriptFlushFallsBackToEval) {
  auto redis = MakeStore("flush");
  RoomLimits limits;
  int64_t now = 1'700'000'000'000;
  ASSERT_TRUE(Sync<int64_t>([&](auto d) { redis->Admit(caller_, limits, now, d); }).ok);
  ASSERT_TRUE(Raw({"SCRIPT", "FLUSH"}).ok);
  auto r = Sync<int64_t>([&](auto d) { redis->Admit(caller_, limits, now, d); });
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(redis->Snapshot().admitted_total, 2u);
}

TEST_F(RedisRoomStoreTest, RedisTimeIsTheClock) {
  auto redis = MakeStore("clock", /*redis_time=*/true);
  RoomLimits limits;
  auto r = Sync<RoomCounters>([&](auto d) { redis->Tick(caller_, limits, 42, d); });
  ASSERT_TRUE(r.ok) << r.error;
  int64_t wall =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  EXPECT_NEAR(static_cast<double>(r.value.updated_ms), static_cast<double>(wall), 5000);
}

TEST_F(RedisRoomStoreTest, ErrorsAreResults) {
  auto redis = MakeStore("errors");
  RoomLimits limits;
  int64_t now = 1'700'000'000'000;
  // A type error inside the script (the state key is not a hash).
  ASSERT_TRUE(Raw({"SET", "tidegate:{room:errors}:s", "x"}).ok);
  auto r = Sync<int64_t>([&](auto d) { redis->Admit(caller_, limits, now, d); });
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.error.empty());
  // A caller without a loop, or with a worker index beyond the slots: an
  // error at once, never a crash.
  for (StoreCaller bad :
       {StoreCaller{0, nullptr}, StoreCaller{kWorkers, base_}, StoreCaller{-1, base_}}) {
    std::optional<StoreResult<int64_t>> other;
    redis->Admit(bad, limits, now, [&](const auto& x) { other = x; });
    ASSERT_TRUE(other.has_value());
    EXPECT_FALSE(other->ok);
    EXPECT_NE(other->error.find("no connection for worker"), std::string::npos) << other->error;
  }
}

TEST_F(RedisRoomStoreTest, UnreachableRedisFailsWithinTheTimeout) {
  redis::RedisConnection::Options o = options_;
  o.address.port = FreePort();
  o.timeout = milliseconds(200);
  RedisRoomLinks links(o, 1);
  RedisRoomStore store("down", RedisRoomOptions{}, &links);
  RoomLimits limits;
  auto start = std::chrono::steady_clock::now();
  auto r = Sync<int64_t>([&](auto d) { store.Admit(caller_, limits, 1, d); });
  EXPECT_FALSE(r.ok);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  links.CloseAll();
}

// Two workers, each on its own thread and loop, call the same store at once:
// each uses its own slot's connection (no lock on the call path) and every
// reply arrives on the worker that asked.
TEST_F(RedisRoomStoreTest, EachWorkerUsesItsOwnConnection) {
  auto redis = MakeStore("workers");
  RoomLimits limits;
  limits.method = config::QueueingMethod::kPassthrough;
  constexpr int kCalls = 50;
  auto drive = [&](int worker, event_base* loop, int* ok, bool* wrong_thread) {
    std::thread::id self = std::this_thread::get_id();
    int answered = 0;
    for (int i = 0; i < kCalls; ++i) {
      redis->Admit(StoreCaller{worker, loop}, limits, 1'000 + i,
                   [&](const StoreResult<int64_t>& r) {
                     ++answered;
                     if (r.ok) ++*ok;
                     if (std::this_thread::get_id() != self) *wrong_thread = true;
                   });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (answered < kCalls && std::chrono::steady_clock::now() < deadline) {
      event_base_loop(loop, EVLOOP_ONCE);
    }
  };
  int ok0 = 0, ok1 = 0;
  bool wrong0 = false, wrong1 = false;
  event_base* other_loop = event_base_new();
  std::thread other([&] { drive(1, other_loop, &ok1, &wrong1); });
  drive(0, base_, &ok0, &wrong0);
  other.join();
  EXPECT_EQ(ok0, kCalls);
  EXPECT_EQ(ok1, kCalls);
  EXPECT_FALSE(wrong0);
  EXPECT_FALSE(wrong1);
  auto tick = Sync<RoomCounters>([&](auto d) { redis->Tick(caller_, limits, 2'000, d); });
  ASSERT_TRUE(tick.ok) << tick.error;
  EXPECT_EQ(tick.value.admitted_total, 2u * kCalls);
  links_->CloseAll();  // worker 1's connection lives on other_loop: close it first
  event_base_free(other_loop);
}

}  // namespace
}  // namespace tidegate::queue
