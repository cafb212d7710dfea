// queue/waiting_room: the room's bypass rules (the networks of bypass_ips go
// through common/cidr.h, like [maintenance].bypass_cidrs).
#include "queue/waiting_room.h"

#include <gtest/gtest.h>

#include <string>

#include "common/ascii.h"
#include "common/cidr.h"
#include "common/time_source.h"
#include "proxy/path_normalizer.h"
#include "proxy/path_pattern.h"
#include "proxy/published.h"
#include "state/runtime_state.h"

namespace tidegate::queue {
namespace {

class WaitingRoomBypassTest : public ::testing::Test {
 protected:
  void Build(const std::vector<std::string>& bypass_ips) {
    config::RoomConfig room;
    room.name = "shop";
    room.match = {"^/"};
    for (const std::string& text : bypass_ips) {
      std::string error;
      std::optional<config::CidrBlock> block = common::ParseCidr(text, &error);
      ASSERT_TRUE(block) << error;
      room.bypass_ips.push_back(*block);
    }
    config_.rooms = {room};
    std::string error;
    wr_ = WaitingRoom::Build(config_, &registry_, nullptr, time_, &error);
    ASSERT_TRUE(wr_) << error;
  }

  bool Bypassed(std::string_view client_ip) {
    proxy::RequestHead head;
    head.method = "GET";
    head.target = "/checkout";
    proxy::StreamInfo info;
    info.client_ip = client_ip;
    return wr_->Bypassed(*wr_->Find("shop"), head, info, "/checkout");
  }

  common::FakeTimeSource time_{common::TimePoint{}};  // the epoch, as before
  config::Config config_;
  RoomRegistry registry_;
  std::shared_ptr<const WaitingRoom> wr_;
};

TEST_F(WaitingRoomBypassTest, ClientAddressesInBypassIps) {
  Build({"10.0.0.0/8", "2001:db8::/32"});
  EXPECT_TRUE(Bypassed("10.1.2.3"));
  EXPECT_TRUE(Bypassed("2001:db8::7"));
  EXPECT_FALSE(Bypassed("192.0.2.7"));
  EXPECT_FALSE(Bypassed("2001:db9::7"));
  EXPECT_FALSE(Bypassed("not an address"));
}

// A dual-stack listener reports an IPv4 client as ::ffff:a.b.c.d; it was
// queued before common/cidr.h (the room's own matcher parsed it as IPv4 and
// failed), while the maintenance gate let the same client pass.
TEST_F(WaitingRoomBypassTest, IPv4MappedClientMatchesAnIPv4Block) {
  Build({"10.0.0.0/8"});
  EXPECT_TRUE(Bypassed("::ffff:10.1.2.3"));
  EXPECT_FALSE(Bypassed("::ffff:192.0.2.7"));
}

TEST_F(WaitingRoomBypassTest, BypassSecretsAreStrippedBeforeTheOrigin) {
  config::RoomConfig room;
  room.name = "shop";
  room.match = {"^/"};
  room.bypass_header = "X-Load-Test";
  room.bypass_cookie = "tg_staff";
  room.bypass_secret = "load-test-bypass-secret-0123456789";
  config::RoomConfig other = room;
  other.name = "other";
  other.bypass_header = "X-Other-Test";
  other.bypass_cookie = "tg_staff";  // the same name twice: stripped once
  config_.rooms = {room, other};
  std::string error;
  wr_ = WaitingRoom::Build(config_, &registry_, nullptr, time_, &error);
  ASSERT_TRUE(wr_) << error;

  proxy::RequestHead head;
  head.headers.Add("Host", "shop.test");
  head.headers.Add("x-load-test", "load-test-bypass-secret-0123456789");
  head.headers.Add("X-Other-Test", "x");
  head.headers.Add("Cookie", "a=1; tg_staff=load-test-bypass-secret-0123456789;  b=\"2\"");
  head.headers.Add("Cookie", "tg_staff=y");
  proxy::StreamInfo info;
  info.client_ip = "192.0.2.7";
  ASSERT_TRUE(wr_->Bypassed(*wr_->Find("shop"), head, info, "/"));
  wr_->StripBypassSecrets(&head.headers);
  ASSERT_EQ(head.headers.size(), 2u);
  EXPECT_EQ(head.headers.fields()[0].name, "Host");
  EXPECT_EQ(head.headers.fields()[1].value, "a=1;  b=\"2\"");
}

// Issue 11: room patterns follow the path policy of the maintenance features
// (proxy/path_pattern.h): matched case-insensitively on the normalised path.
// Every spelling of /checkout that tests/unit/maintenance/feature_matcher_test
// gates reaches the room; the room gate matches NormalizePath(target) the same
// way (queue/room_gate.cc).
class WaitingRoomMatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::RoomConfig room;
    room.name = "shop";
    room.match = {"^/checkout"};
    room.bypass_paths = {"^/checkout/status$"};
    config_.rooms = {room};
    std::string error;
    wr_ = WaitingRoom::Build(config_, &registry_, nullptr, time_, &error);
    ASSERT_TRUE(wr_) << error;
  }

  // As the room gate asks (queue/room_gate.cc): every spelling of the path.
  bool Matches(std::string_view target) const {
    std::string plain, decoded;
    return wr_->Match(SpellRoomPath(target, &plain, &decoded)) != nullptr;
  }

  bool PathBypassed(std::string_view target) const {
    proxy::RequestHead head;
    head.method = "GET";
    head.target = std::string(target);
    proxy::StreamInfo info;
    info.client_ip = "192.0.2.7";
    std::string plain, decoded;
    return wr_->Bypassed(*wr_->Find("shop"), head, info, SpellRoomPath(target, &plain, &decoded));
  }

  common::FakeTimeSource time_{common::TimePoint{}};
  config::Config config_;
  RoomRegistry registry_;
  std::shared_ptr<const WaitingRoom> wr_;
};

TEST_F(WaitingRoomMatchTest, EverySpellingOfThePathReachesTheRoom) {
  for (std::string_view target :
       {"/checkout", "/checkout/step2?x=1", "/Checkout", "/CHECKOUT", "/CheckOut", "//checkout",
        "///checkout", "/checkout;x=1", "/checkout;jsessionid=abc/step2", "/%63heckout",
        "/%43HECKOUT", "/a/../checkout", "/./checkout", "/../../checkout", "/a/b/../../checkout",
        "//evil.example/../checkout", "/Check%4Fut;p=1",
        // Separators an origin may decode: "/x%2F..%2Fcheckout" is
        // "/checkout" to it, so the room takes it too.
        "/x/..%2fcheckout", "/x%2F..%2Fcheckout", "/x/..%5ccheckout", "/x\\..\\checkout",
        "/X%2f..%5CCheckout?a=b", "%2Fcheckout", "\\checkout"}) {
    EXPECT_TRUE(Matches(target)) << target;
  }
  for (std::string_view target :
       {"/", "/cart", "/shop/checkout", "/check%2Fout", "/?next=/checkout",
        "/cart?x=%2F..%2Fcheckout", "/%252F..%252Fcheckout"}) {
    EXPECT_FALSE(Matches(target)) << target;
  }
}

// Spellings: none extra for a path without encoded or backslash separators
// (no second normalisation per request), the decoded one otherwise.
TEST(RoomPathTest, TheDecodedSpellingExistsOnlyWhenItDiffers) {
  std::string plain, decoded;
  RoomPath path = SpellRoomPath("/checkout/step2?next=%2F", &plain, &decoded);
  EXPECT_EQ(path.plain, "/checkout/step2");
  EXPECT_TRUE(path.slashes_decoded.empty());
  path = SpellRoomPath("/api%2Fpayments", &plain, &decoded);
  EXPECT_EQ(path.plain, "/api%2Fpayments");
  EXPECT_EQ(path.slashes_decoded, "/api/payments");
  path = SpellRoomPath("/static/..%5Csecret", &plain, &decoded);
  EXPECT_EQ(path.plain, "/static/..%5Csecret");
  EXPECT_EQ(path.slashes_decoded, "/secret");
}

// The plain-prefix patterns skip RE2 (LiteralPrefixPattern): the same
// answers as RE2 with the path policy's options, for those patterns and
// any path; patterns with any other character stay with RE2.
TEST(WaitingRoomPrefixTest, PlainPrefixesMatchAsRe2Does) {
  EXPECT_EQ(LiteralPrefixPattern("^/"), "/");
  EXPECT_EQ(LiteralPrefixPattern("^/Check-out_2/"), "/Check-out_2/");
  for (std::string_view pattern : {"/checkout", "^/checkout$", "^/check.out", "^/(a|b)", "^/a\\b",
                                   "^/a b", "^/é", "", "^/a+", "^/[a]"}) {
    EXPECT_FALSE(LiteralPrefixPattern(pattern)) << pattern;
  }
  for (std::string_view pattern : {"^/", "^/checkout", "^/CheckOut/", "^/a-b_c/9"}) {
    ASSERT_TRUE(LiteralPrefixPattern(pattern)) << pattern;
    std::string prefix = *LiteralPrefixPattern(pattern);
    RE2 re(std::string(pattern), proxy::PathPatternOptions());
    for (std::string_view path : {"/", "", "/checkout", "/CHECKOUT/x", "/checkou", "/a-b_c/9",
                                  "/A-B_C/9/z", "/checkout/", "x/checkout", "/cart"}) {
      bool fast = path.size() >= prefix.size() &&
                  common::EqualsIgnoreCase(path.substr(0, prefix.size()), prefix);
      EXPECT_EQ(fast, RE2::PartialMatch(path, re)) << pattern << " on " << path;
    }
  }
}

TEST_F(WaitingRoomMatchTest, BypassPathsFollowTheSamePolicy) {
  EXPECT_TRUE(PathBypassed("/checkout/status"));
  EXPECT_TRUE(PathBypassed("/Checkout/STATUS"));
  EXPECT_TRUE(PathBypassed("//checkout/./status;x=1"));
  EXPECT_FALSE(PathBypassed("/checkout/status/more"));
}

// A bypass path lets a request past only when every spelling of its path is
// a bypass path: "/checkout/status/..%2F..%2Fpay" starts like the bypass
// rule, but an origin that decodes %2F serves "/checkout/pay" for it.
TEST_F(WaitingRoomMatchTest, ABypassPathMustHoldForEverySpelling) {
  for (std::string_view target :
       {"/checkout/status/..%2Fpay", "/checkout/status%2F..%2F..%2Fcheckout",
        "/checkout/status\\..\\pay", "/checkout/status/..%5cpay"}) {
    EXPECT_TRUE(Matches(target)) << target;
    EXPECT_FALSE(PathBypassed(target)) << target;
  }
  // Fails closed: one spelling ("/checkout%2Fstatus" as is) is not the
  // status page, so the request waits like any other.
  EXPECT_FALSE(PathBypassed("/checkout%2Fstatus"));
  EXPECT_FALSE(PathBypassed("/checkout/x/..%2Fstatus"));
  // Encoded separators that every spelling keeps inside the bypass path.
  EXPECT_TRUE(PathBypassed("/checkout/status?from=%2Fcart"));
}

// WaitingRoom::MayQueue: the gate's cheap first look follows the effective
// mode per request — configuration, run-time overrides (published state) and
// scheduled events in progress.
class WaitingRoomMayQueueTest : public ::testing::Test {
 protected:
  void Build(config::RoomMode mode, std::vector<config::RoomEventConfig> events = {}) {
    config::RoomConfig room;
    room.name = "shop";
    room.match = {"^/"};
    room.mode = mode;
    room.events = std::move(events);
    config_.rooms = {room};
    std::string error;
    wr_ = WaitingRoom::Build(config_, &registry_, &state_, time_, &error);
    ASSERT_TRUE(wr_) << error;
  }

  void Override(std::optional<config::RoomMode> mode) {
    auto next = std::make_shared<state::RuntimeState>();
    if (mode) next->rooms["shop"].mode = mode;
    state_.Publish(std::move(next));
  }

  // MayQueue() must never say "no" where the full limits say "queue".
  bool MayQueue() {
    const CompiledRoom& room = *wr_->Find("shop");
    bool may = wr_->MayQueue(room);
    bool any = wr_->AnyMayQueue();
    EXPECT_EQ(may, any);
    if (!may) {
      EXPECT_FALSE(wr_->Active(room, wr_->Limits(room, StoreCaller{})));
    }
    return may;
  }

  common::FakeTimeSource time_{common::TimePoint(std::chrono::seconds(1'700'000'000))};
  proxy::Published<state::RuntimeState> state_{std::make_shared<state::RuntimeState>()};
  config::Config config_;
  RoomRegistry registry_;
  std::shared_ptr<const WaitingRoom> wr_;
};

TEST_F(WaitingRoomMayQueueTest, SwitchedOffAtRunTimeAndOnAgain) {
  Build(config::RoomMode::kAuto);
  EXPECT_TRUE(MayQueue());
  Override(config::RoomMode::kOff);
  EXPECT_FALSE(MayQueue());
  Override(config::RoomMode::kQueueAll);
  EXPECT_TRUE(MayQueue());
  Override(std::nullopt);  // the override cleared: the configuration again
  EXPECT_TRUE(MayQueue());
}

TEST_F(WaitingRoomMayQueueTest, ConfiguredOffTurnedOnByAnOverride) {
  Build(config::RoomMode::kOff);
  EXPECT_FALSE(MayQueue());
  Override(config::RoomMode::kAuto);
  EXPECT_TRUE(MayQueue());
  Override(std::nullopt);
  EXPECT_FALSE(MayQueue());
}

TEST_F(WaitingRoomMayQueueTest, DisabledRoomNeverQueues) {
  config::RoomConfig room;
  room.name = "shop";
  room.match = {"^/"};
  room.enabled = false;
  config_.rooms = {room};
  std::string error;
  wr_ = WaitingRoom::Build(config_, &registry_, &state_, time_, &error);
  ASSERT_TRUE(wr_) << error;
  Override(config::RoomMode::kQueueAll);
  EXPECT_FALSE(wr_->MayQueue(*wr_->Find("shop")));
  EXPECT_FALSE(wr_->AnyMayQueue());
}

// A room configured off runs during its scheduled events (pre-queue and
// live), and is off again after the end.
TEST_F(WaitingRoomMayQueueTest, ConfiguredOffRoomQueuesDuringItsEvent) {
  common::TimePoint now = time_.WallNow();
  config::RoomEventConfig event;
  event.name = "drop";
  event.prequeue_start = now + std::chrono::minutes(10);
  event.start = now + std::chrono::minutes(20);
  event.end = now + std::chrono::minutes(30);
  Build(config::RoomMode::kOff, {event});
  EXPECT_FALSE(MayQueue());
  time_.Advance(std::chrono::minutes(15));  // pre-queue
  EXPECT_TRUE(MayQueue());
  time_.Advance(std::chrono::minutes(10));  // live
  EXPECT_TRUE(MayQueue());
  time_.Advance(std::chrono::minutes(10));  // over
  EXPECT_FALSE(MayQueue());
}

}  // namespace
}  // namespace tidegate::queue
