// RoomRegistry::TickIdle: a room on Redis that no shopper visits is ticked
// from the control thread's own link, so that its degraded mark (health)
// follows the shared store without traffic; bounded by kIdleTickMillis and
// the retry delay; rooms no longer configured and local rooms are left
// alone. Redis here is an address nobody listens on (recovery against a
// real redis-server is in tests/integration/queue_redis_test.cc).
#include "queue/room_registry.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace tidegate::queue {
namespace {

using std::chrono::milliseconds;

// A loopback port nobody listens on (bound, read back, closed).
uint16_t ClosedPort() {
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

// Runs `loop` until `done()` or `within` passes.
bool RunUntil(event_base* loop, const std::function<bool()>& done, milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    event_base_loop(loop, EVLOOP_NONBLOCK);
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

// Runs `loop` for `span` (replies that should not come).
void RunFor(event_base* loop, milliseconds span) {
  RunUntil(
      loop, [] { return false; }, span);
}

class RoomRegistryIdleTest : public ::testing::Test {
 protected:
  void SetUp() override { loop_ = event_base_new(); }
  void TearDown() override {
    rooms_.CloseConnections();  // before the loop the links live on is freed
    event_base_free(loop_);
  }

  void ConfigureRedis() {
    config::StateConfig state;
    state.backend = config::StateBackend::kRedis;
    uint16_t port = ClosedPort();
    std::string text = "127.0.0.1:" + std::to_string(port);
    state.redis = config::Address{"127.0.0.1", port, "", text};
    state.on_failure = config::StoreFailureMode::kLocal;
    state.redis_timeout = config::Duration(200);
    rooms_.Configure(state, /*workers=*/2);
  }

  // "shop" is configured; any other room was removed by a reload.
  static std::optional<RoomLimits> LimitsOf(const std::string& name) {
    if (name == "shop") return RoomLimits{};
    return std::nullopt;
  }

  event_base* loop_ = nullptr;
  RoomRegistry rooms_;
};

TEST_F(RoomRegistryIdleTest, AnIdleRedisRoomNoticesTheStoreIsDownWithoutTraffic) {
  ConfigureRedis();
  std::shared_ptr<RoomRuntime> shop = rooms_.Get("shop");
  std::shared_ptr<RoomRuntime> removed = rooms_.Get("gone");
  EXPECT_TRUE(rooms_.DegradedRooms().empty());
  const int64_t t0 = 1'000'000;
  rooms_.TickIdle(loop_, LimitsOf, t0);
  ASSERT_TRUE(RunUntil(
      loop_, [&] { return shop->degraded(); }, milliseconds(5000)))
      << "the idle tick never reached the store";
  EXPECT_EQ(shop->store_errors.load(), 1u);
  EXPECT_EQ(rooms_.DegradedRooms(), std::vector<std::string>{"shop"});
  EXPECT_FALSE(removed->degraded()) << "a room no longer configured is not ticked";
  EXPECT_EQ(removed->store_errors.load(), 0u);

  // Within kIdleTickMillis of the last tick: no call at all.
  rooms_.TickIdle(loop_, LimitsOf, t0 + kIdleTickMillis / 2);
  RunFor(loop_, milliseconds(300));
  EXPECT_EQ(shop->store_errors.load(), 1u);
  // Once the retry delay has passed, one more try (and only one).
  rooms_.TickIdle(loop_, LimitsOf, t0 + kRetryMillis);
  rooms_.TickIdle(loop_, LimitsOf, t0 + kRetryMillis);
  ASSERT_TRUE(RunUntil(
      loop_, [&] { return shop->store_errors.load() >= 2; }, milliseconds(5000)));
  RunFor(loop_, milliseconds(300));
  EXPECT_EQ(shop->store_errors.load(), 2u);
  EXPECT_TRUE(shop->degraded());
}

TEST_F(RoomRegistryIdleTest, ARoomWithTrafficIsNotTickedAgain) {
  ConfigureRedis();
  std::shared_ptr<RoomRuntime> shop = rooms_.Get("shop");
  const int64_t t0 = 1'000'000;
  // A worker's tick (through the same failing store) just ran.
  shop->MaybeTick(StoreCaller{0, loop_}, RoomLimits{}, t0);
  ASSERT_TRUE(RunUntil(
      loop_, [&] { return shop->degraded(); }, milliseconds(5000)));
  rooms_.TickIdle(loop_, LimitsOf, t0 + kIdleTickMillis - 1);
  RunFor(loop_, milliseconds(300));
  EXPECT_EQ(shop->store_errors.load(), 1u);
}

// on_failure = local: a ticket the local fallback numbers carries this
// process's issuer id (the wait token's), and claims are keyed by number
// and issuer there too: the fallback's 1 and the store's 1 are two
// tickets, each admitted once (audit 13 F1).
TEST_F(RoomRegistryIdleTest, TheLocalFallbackNumbersTicketsAsThisProcess) {
  ConfigureRedis();
  std::shared_ptr<RoomRuntime> shop = rooms_.Get("shop");
  StoreCaller caller{0, loop_};
  RoomLimits limits;
  limits.new_users_per_minute = 600;
  const int64_t t0 = 1'000'000;
  std::optional<ArriveOutcome> arrived;
  shop->store().Arrive(caller, limits, t0, /*may_admit_directly=*/false,
                       [&](const StoreResult<ArriveOutcome>& r) {
                         if (r.ok) arrived = r.value;
                       });
  ASSERT_TRUE(RunUntil(
      loop_, [&] { return arrived.has_value(); }, milliseconds(5000)))
      << "no local fallback";
  EXPECT_FALSE(arrived->admitted);
  EXPECT_EQ(arrived->ticket, 1u);
  EXPECT_NE(LocalIssuerId(), 0u);
  EXPECT_EQ(arrived->issuer, LocalIssuerId());
  EXPECT_EQ(LocalIssuerId(), LocalIssuerId()) << "one id for the process's life";
  // Within the retry delay every call runs on the fallback, at once.
  uint64_t serving = 0;
  shop->store().Tick(caller, limits, t0 + 100,
                     [&](const StoreResult<RoomCounters>& r) { serving = r.value.serving; });
  ASSERT_EQ(serving, 1u);
  auto claim = [&](uint64_t issuer) {
    ClaimOutcome out;
    shop->store().Claim(caller, limits, t0 + 200, 1, 0, issuer,
                        [&](const StoreResult<ClaimOutcome>& r) { out = r.value; });
    return out;
  };
  EXPECT_TRUE(claim(LocalIssuerId()).admitted);
  EXPECT_TRUE(claim(0).admitted) << "the store's 1 is another ticket";
  EXPECT_TRUE(claim(LocalIssuerId()).reused);
  EXPECT_TRUE(claim(0).reused);
}

TEST_F(RoomRegistryIdleTest, LocalRoomsHaveNothingToDo) {
  config::StateConfig state;  // backend = "local"
  rooms_.Configure(state, 2);
  std::shared_ptr<RoomRuntime> shop = rooms_.Get("shop");
  rooms_.TickIdle(loop_, LimitsOf, 1'000'000);
  RunFor(loop_, milliseconds(50));
  EXPECT_FALSE(shop->degraded());
  EXPECT_EQ(shop->store_errors.load(), 0u);
  EXPECT_EQ(shop->store().Snapshot().tickets, 0u);
}

// The rooms' stores keep the failure mode they were made with: the first
// configuration's stays in force through reloads (audit 20 F1).
TEST(RoomRegistryFailureModeTest, TheFirstConfigurationsOnFailureStaysInForce) {
  RoomRegistry rooms;
  config::StateConfig state;
  state.on_failure = config::StoreFailureMode::kClosed;
  rooms.Configure(state, 2);
  EXPECT_EQ(rooms.on_failure(), config::StoreFailureMode::kClosed);
  state.on_failure = config::StoreFailureMode::kLocal;
  rooms.Configure(state, 2);
  EXPECT_EQ(rooms.on_failure(), config::StoreFailureMode::kClosed);
}

}  // namespace
}  // namespace tidegate::queue
