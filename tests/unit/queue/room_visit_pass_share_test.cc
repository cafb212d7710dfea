// queue/room_visit.h with the local store: one pass copied to clients on
// many networks lets at most PassNetworks::kMaxNetworks of them in; the
// others go on as newcomers with the pass_shared notice, counted. A pass
// renewed from a network records that network; a pass from before networks
// is counted, never refused for its format.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/time_source.h"
#include "queue/room_visit.h"

namespace tidegate::queue {
namespace {

using namespace std::chrono_literals;

class RoomVisitPassShareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::RoomConfig room;
    room.name = "shop";
    room.match = {"^/"};
    room.mode = config::RoomMode::kAuto;
    room.total_active_users = 1;  // full once the first shopper is in
    room.new_users_per_minute = 6000;
    config_.rooms = {room};
    config_.secrets.token_keys = {{"k1", "", "room-visit-test-key-0123456789abcdef0123"}};
    std::string error;
    wr_ = WaitingRoom::Build(config_, &registry_, nullptr, time_, &error);
    ASSERT_TRUE(wr_) << error;
    room_ = wr_->Find("shop");
    ASSERT_NE(room_, nullptr);
  }

  Visit Evaluate(const std::string& cookie, const std::string& ip) {
    proxy::HeaderList headers;
    if (!cookie.empty()) headers.Add("Cookie", cookie);
    RoomLimits limits = wr_->Limits(*room_, StoreCaller{});
    std::optional<Visit> v = EvaluateVisit(wr_, *room_, limits, headers, false, VisitKind::kRequest,
                                           StoreCaller{}, pending_, ip);
    EXPECT_TRUE(v) << "the local store decides at once";
    return v.value_or(Visit{});
  }

  static std::string PassSet(const Visit& v) {
    std::string found;
    for (const std::string& c : v.set_cookies) {
      if (c.rfind("tg_pass_shop=", 0) != 0) continue;
      std::string pair = c.substr(0, c.find(';'));
      found = pair.size() > 13 ? pair : "";
    }
    return found;
  }

  uint64_t Shared() const { return room_->runtime->abuse.Get(AbuseReason::kPassShared); }

  struct NoWaiter : VisitWaiter {
    void Decided(Visit) override {}
  } waiter_;
  PendingVisit pending_{waiter_};
  common::FakeTimeSource time_;
  config::Config config_;
  RoomRegistry registry_;
  std::shared_ptr<const WaitingRoom> wr_;
  const CompiledRoom* room_ = nullptr;
};

TEST_F(RoomVisitPassShareTest, ACopiedPassLetsAtMostKNetworksIn) {
  Visit in = Evaluate("", "10.0.0.1");
  ASSERT_EQ(in.outcome, Visit::Outcome::kForward);
  std::string pass = PassSet(in);
  ASSERT_FALSE(pass.empty());
  // The owner, on the hot path: no cookie, no count.
  Visit hot = Evaluate(pass, "10.0.0.1");
  EXPECT_TRUE(hot.admitted);
  EXPECT_TRUE(hot.set_cookies.empty());
  int admitted = 0;
  int refused = 0;
  for (int i = 2; i <= 9; ++i) {
    Visit v = Evaluate(pass, "10.0.1." + std::to_string(i));
    if (v.admitted) {
      ++admitted;
      EXPECT_EQ(v.pass_session, in.pass_session);
      continue;
    }
    ++refused;
    EXPECT_EQ(v.outcome, Visit::Outcome::kQueued) << "a newcomer in a full room";
    EXPECT_EQ(v.notice, RoomNotice::kPassShared);
    EXPECT_GT(v.position, 0u) << "a place at the back";
    ASSERT_FALSE(v.set_cookies.empty());
    EXPECT_NE(v.set_cookies[0].find("tg_pass_shop=;"), std::string::npos) << "the copy is cleared";
  }
  EXPECT_EQ(admitted, static_cast<int>(PassNetworks::kMaxNetworks) - 1) << "the owner is one";
  EXPECT_EQ(refused, 8 - admitted);
  EXPECT_EQ(Shared(), static_cast<uint64_t>(refused));
  EXPECT_TRUE(Evaluate(pass, "10.0.0.1").admitted) << "the owner keeps its pass";
  EXPECT_EQ(room_->runtime->store().Snapshot().active, 1);
}

TEST_F(RoomVisitPassShareTest, ARenewedPassIsBoundToTheNetworkThatRenewedIt) {
  Visit in = Evaluate("", "10.0.0.1");
  std::string pass = PassSet(in);
  ASSERT_FALSE(pass.empty());
  time_.Advance(10s);  // the next bucket: renewed from the phone's other network
  Visit renewed = Evaluate(pass, "10.0.0.2");
  ASSERT_TRUE(renewed.admitted);
  std::string moved = PassSet(renewed);
  ASSERT_FALSE(moved.empty());
  std::optional<PassToken> t = wr_->codec()->VerifyPass(moved.substr(13), "shop", wr_->NowMs());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->network, PassNetworkOf(room_->pass_network_key, "10.0.0.2"));
  EXPECT_EQ(t->session, in.pass_session);
  Visit hot = Evaluate(moved, "10.0.0.2");
  EXPECT_TRUE(hot.admitted);
  EXPECT_TRUE(hot.set_cookies.empty()) << "its own network: the hot path";
  // Roaming back and forth over both networks, for several minutes.
  for (int i = 0; i < 30; ++i) {
    time_.Advance(5s);
    Visit v = Evaluate(moved, i % 2 ? "10.0.0.1" : "10.0.0.2");
    ASSERT_TRUE(v.admitted) << i;
    if (!PassSet(v).empty()) moved = PassSet(v);
  }
  EXPECT_EQ(Shared(), 0u);
}

TEST_F(RoomVisitPassShareTest, APassFromBeforeNetworksIsCountedNeverRefusedForItsFormat) {
  Visit in = Evaluate("", "10.0.0.1");
  ASSERT_TRUE(in.admitted);
  PassToken old{"shop", wr_->NowMs(), in.pass_bucket, in.pass_expires_ms, in.pass_session};
  std::string pass = "tg_pass_shop=" + wr_->codec()->SignPass(old);
  int admitted = 0;
  for (int i = 1; i <= 8; ++i) admitted += Evaluate(pass, "10.0.2." + std::to_string(i)).admitted;
  EXPECT_EQ(admitted, static_cast<int>(PassNetworks::kMaxNetworks) - 1)
      << "the session's first network (10.0.0.1) is one of them";
  EXPECT_TRUE(Evaluate(pass, "").admitted) << "an unknown address is not checked";
}

}  // namespace
}  // namespace tidegate::queue
