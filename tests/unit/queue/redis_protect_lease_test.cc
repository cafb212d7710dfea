// RedisProtectLease and SharedProtection against a real redis-server started
// by the test (skipped when /usr/bin/redis-server, or $REDIS_SERVER, is
// missing): one writer per room, fencing of a lapsed leader, takeover after
// the lease, followers read the leader's decision; two RoomProtections
// ("instances") apply one decision, and a new leader continues from it.
// The clock is the test's (ARGV now).
#include "queue/redis_protect_lease.h"
#include "queue/shared_protection.h"

#include <event2/event.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "tests/unit/redis/redis_server.h"

namespace tidegate::queue {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kT0 = 1'800'000'000'000;  // the test's clock, ms

class RedisProtectLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.available()) GTEST_SKIP() << "no redis-server";
    ASSERT_TRUE(server_.Start()) << "redis-server did not start";
    base_ = event_base_new();
    redis::RedisConnection::Options options;
    options.address = server_.address();
    options.timeout = milliseconds(2000);
    links_ = std::make_unique<RedisRoomLinks>(options, 1);
    RedisRoomOptions room_options;
    room_options.use_redis_time = false;
    a_ = std::make_unique<RedisProtectLease>("shop", room_options, links_.get(), "a", 3'000);
    b_ = std::make_unique<RedisProtectLease>("shop", room_options, links_.get(), "b", 3'000);
  }

  void TearDown() override {
    a_.reset();
    b_.reset();
    if (links_) links_->CloseAll();
    links_.reset();
    if (base_ != nullptr) event_base_free(base_);
  }

  ProtectSyncReply Sync(RedisProtectLease& lease, int64_t now, bool may_lead,
                        const std::string* publish = nullptr) {
    bool done = false;
    StoreResult<ProtectSyncReply> out;
    lease.Sync(StoreCaller{0, base_}, now, may_lead, publish,
               [&](const StoreResult<ProtectSyncReply>& r) {
                 out = r;
                 done = true;
               });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done && std::chrono::steady_clock::now() < deadline) {
      event_base_loop(base_, EVLOOP_ONCE);
    }
    EXPECT_TRUE(done) << "no reply within 10 s";
    EXPECT_TRUE(out.ok) << out.error;
    return out.value;
  }

  redis::test_support::RedisServer server_;  // killed after the links are closed
  event_base* base_ = nullptr;
  std::unique_ptr<RedisRoomLinks> links_;
  std::unique_ptr<RedisProtectLease> a_;
  std::unique_ptr<RedisProtectLease> b_;
};

TEST_F(RedisProtectLeaseTest, FirstInstanceThatMayLeadTakesTheLeaseOthersFollow) {
  ProtectSyncReply idle = Sync(*b_, kT0, /*may_lead=*/false);
  EXPECT_FALSE(idle.leader) << "an instance without origin traffic never leads";
  EXPECT_EQ(idle.leader_id, "");
  EXPECT_EQ(idle.decision, "");

  ProtectSyncReply a = Sync(*a_, kT0 + 10, true);
  EXPECT_TRUE(a.leader);
  EXPECT_EQ(a.leader_id, "a");
  EXPECT_EQ(a.lease_until_ms, kT0 + 10 + 3'000);

  ProtectSyncReply b = Sync(*b_, kT0 + 20, true);
  EXPECT_FALSE(b.leader) << "the lease is held";
  EXPECT_EQ(b.leader_id, "a");
  EXPECT_EQ(b.now_ms, kT0 + 20);
}

TEST_F(RedisProtectLeaseTest, FollowersReadTheLeadersDecisionAndCannotWriteTheirOwn) {
  Sync(*a_, kT0, true);
  std::string d = R"({"limit":40,"rate":120,"reason":"p90 812 ms > target 500 ms"})";
  ProtectSyncReply a = Sync(*a_, kT0 + 1'000, true, &d);
  EXPECT_EQ(a.decision, d);

  std::string mine = R"({"limit":9999})";
  ProtectSyncReply b = Sync(*b_, kT0 + 1'100, true, &mine);
  EXPECT_FALSE(b.leader);
  EXPECT_EQ(b.decision, d) << "a follower's publish is ignored";
  EXPECT_EQ(b.published_ms, kT0 + 1'000);
}

TEST_F(RedisProtectLeaseTest, ALapsedLeaseIsTakenOverAndTheOldLeaderIsFenced) {
  Sync(*a_, kT0, true);
  std::string first = "first";
  Sync(*a_, kT0 + 1'000, true, &first);  // renews until kT0 + 4000

  ProtectSyncReply early = Sync(*b_, kT0 + 3'999, true);
  EXPECT_FALSE(early.leader) << "the lease runs until kT0 + 4000";

  ProtectSyncReply b = Sync(*b_, kT0 + 4'000, true);
  EXPECT_TRUE(b.leader) << "a silent leader loses the lease when it lapses";
  EXPECT_EQ(b.decision, "first") << "the new leader starts from the decision in force";

  std::string stale = "stale leader";
  ProtectSyncReply a = Sync(*a_, kT0 + 4'100, true, &stale);
  EXPECT_FALSE(a.leader);
  EXPECT_EQ(a.leader_id, "b");
  EXPECT_EQ(a.decision, "first") << "the old leader's late write is refused";

  std::string next = "second";
  ProtectSyncReply b2 = Sync(*b_, kT0 + 5'000, true, &next);
  EXPECT_TRUE(b2.leader);
  EXPECT_EQ(b2.decision, "second");
  EXPECT_EQ(b2.published_ms, kT0 + 5'000);
}

TEST_F(RedisProtectLeaseTest, ParserRefusesRepliesOfTheWrongShape) {
  redis::RedisReply r;
  ProtectSyncReply out;
  EXPECT_FALSE(ParseProtectSyncReply(r, &out));
  r.type = redis::RedisReply::Type::kArray;
  r.elements.resize(6);
  for (auto& e : r.elements) {
    e.type = redis::RedisReply::Type::kString;
    e.str = "x";
  }
  EXPECT_FALSE(ParseProtectSyncReply(r, &out)) << "numbers that are not numbers";
}

config::RoomConfig::Protect ProtectOn() {
  config::RoomConfig::Protect p;
  p.enabled = true;
  p.target_latency = config::Duration(300);
  p.max_error_rate = 0.05;
  return p;
}

RoomLimits Ceilings() {
  RoomLimits l;
  l.total_active_users = 1000;
  l.new_users_per_minute = 6000;
  return l;
}

RoomCounters Inside(int64_t active) {
  RoomCounters c;
  c.active = active;
  return c;
}

void RecordErrors(RoomProtection& p, int64_t from_ms, int n) {
  proxy::UpstreamOutcome o;
  o.status = 503;
  o.time_to_headers = std::chrono::milliseconds(5);
  for (int i = 0; i < n; ++i) p.Record(from_ms + i, o);
}

class SharedProtectionTest : public RedisProtectLeaseTest {
 protected:
  // One tick of an instance: its controller decides (when it may), then
  // the sync; the loop runs until the sync answered (bounded).
  void Tick(SharedProtection& shared, RoomProtection& p, int64_t now) {
    p.OnTick(Inside(40), now);
    shared.AfterTick(p, StoreCaller{0, base_}, now);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (shared.status().synced_ms != now && shared.status().last_error.empty() &&
           std::chrono::steady_clock::now() < deadline) {
      event_base_loop(base_, EVLOOP_ONCE);
    }
    ASSERT_EQ(shared.status().synced_ms, now) << shared.status().last_error;
  }

  std::unique_ptr<RedisProtectLease> Lease(const std::string& id) {
    RedisRoomOptions options;
    options.use_redis_time = false;
    return std::make_unique<RedisProtectLease>("shop", options, links_.get(), id, 3'000);
  }
};

TEST_F(SharedProtectionTest, TwoInstancesApplyOneDecisionAndANewLeaderContinuesIt) {
  RoomProtection pa, pb;
  pa.Configure(ProtectOn());
  pb.Configure(ProtectOn());
  pa.Apply(Ceilings());
  pb.Apply(Ceilings());
  SharedProtection sa(Lease("a")), sb(Lease("b"));

  // a sees origin traffic and takes the lease; b sees none and follows.
  RecordErrors(pa, kT0 + 500, 3);
  Tick(sa, pa, kT0 + 1'000);
  Tick(sb, pb, kT0 + 1'000);
  EXPECT_TRUE(sa.status().leader);
  EXPECT_FALSE(sb.status().leader);
  EXPECT_EQ(sb.status().leader_id, "a");
  EXPECT_FALSE(pb.decides()) << "a follower's controller does not decide";

  // a's errors: a cut, published; b adopts it and applies the same limits.
  RecordErrors(pa, kT0 + 1'600, 50);
  Tick(sa, pa, kT0 + 2'100);
  Tick(sb, pb, kT0 + 2'100);
  RoomLimits a = pa.Apply(Ceilings());
  RoomLimits b = pb.Apply(Ceilings());
  EXPECT_LT(a.total_active_users, 1000u) << "the leader cut";
  EXPECT_EQ(b.total_active_users, a.total_active_users);
  EXPECT_EQ(b.new_users_per_minute, a.new_users_per_minute);
  EXPECT_EQ(pb.status(kT0 + 2'100).state.move, ProtectMove::kCutErrors);
  double decided_limit = pa.status(kT0 + 2'100).state.limit;

  // a goes silent; after its lease b (now with traffic) takes over and its
  // controller continues from the adopted decision instead of restarting.
  RecordErrors(pb, kT0 + 5'100, 1);
  Tick(sb, pb, kT0 + 5'200);
  EXPECT_TRUE(sb.status().leader) << "a's lease ran until kT0 + 5100";
  EXPECT_TRUE(pb.decides());
  EXPECT_DOUBLE_EQ(pb.status(kT0 + 5'200).state.limit, decided_limit);

  // a comes back: it follows b now.
  RecordErrors(pa, kT0 + 6'000, 3);
  Tick(sa, pa, kT0 + 6'300);
  EXPECT_FALSE(sa.status().leader);
  EXPECT_EQ(sa.status().leader_id, "b");
  EXPECT_FALSE(pa.decides());
}

TEST_F(SharedProtectionTest, RedisGoneEachInstanceDecidesAlone) {
  RoomProtection p;
  p.Configure(ProtectOn());
  p.Apply(Ceilings());
  SharedProtection shared(Lease("a"));
  p.set_decides(false);
  links_->CloseAll();  // no connection any more: the sync fails at once
  p.OnTick(Inside(40), kT0);
  shared.AfterTick(p, StoreCaller{0, base_}, kT0);
  EXPECT_FALSE(shared.status().last_error.empty());
  EXPECT_TRUE(p.decides()) << "without the shared decision, decide alone";
}

// The operators' run-time switch (PATCH /v1/rooms {"protect": …}).
TEST(RoomProtectionSwitchTest, OffRestoresTheCeilingsOnStartsFresh) {
  RoomProtection p;
  p.Configure(ProtectOn());
  p.Apply(Ceilings());
  p.OnTick(Inside(40), kT0);
  RecordErrors(p, kT0 + 600, 50);
  p.OnTick(Inside(40), kT0 + 1'100);
  ASSERT_LT(p.Apply(Ceilings()).total_active_users, 1000u);
  p.Switch(false);
  EXPECT_FALSE(p.enabled());
  EXPECT_EQ(p.Apply(Ceilings()).total_active_users, 1000u) << "off: the limits in force";
  p.Switch(true);
  EXPECT_TRUE(p.enabled());
  EXPECT_EQ(p.status(kT0 + 1'200).state.move, ProtectMove::kNone) << "a fresh slow start";
  EXPECT_EQ(p.Apply(Ceilings()).total_active_users, 1000u) << "no decision yet";
}

}  // namespace
}  // namespace tidegate::queue
