// queue/room_visit.h with the local store (issue 11): a replayed invited
// wait cookie enters the session its first claim started (its answer may
// have been lost), never a second one, and once that session ended gets
// the queue page with the "ticket used" notice; a pass whose session was ended is refused on the
// admitted path even though queue/pass_cache.h remembers it, and the visitor goes on as a newcomer;
// both refusals are counted in the room's abuse counters.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/time_source.h"
#include "queue/queue_reply.h"
#include "queue/room_visit.h"

namespace tidegate::queue {
namespace {

using namespace std::chrono_literals;

class RoomVisitIntegrityTest : public ::testing::Test {
 protected:
  void Build(config::RoomMode mode, uint32_t total, uint32_t per_minute = 6000) {
    config::RoomConfig room;
    room.name = "shop";
    room.match = {"^/"};
    room.mode = mode;
    room.total_active_users = total;
    room.new_users_per_minute = per_minute;
    config_.rooms = {room};
    config_.secrets.token_keys = {{"k1", "", "room-visit-test-key-0123456789abcdef0123"}};
    std::string error;
    wr_ = WaitingRoom::Build(config_, &registry_, nullptr, time_, &error);
    ASSERT_TRUE(wr_) << error;
    room_ = wr_->Find("shop");
    ASSERT_NE(room_, nullptr);
  }

  Visit Evaluate(const std::string& cookie, VisitKind kind = VisitKind::kRequest) {
    proxy::HeaderList headers;
    if (!cookie.empty()) headers.Add("Cookie", cookie);
    RoomLimits limits = wr_->Limits(*room_, StoreCaller{});
    std::optional<Visit> v =
        EvaluateVisit(wr_, *room_, limits, headers, false, kind, StoreCaller{}, pending_);
    EXPECT_TRUE(v) << "the local store decides at once";
    return v.value_or(Visit{});
  }

  // "tg_pass_shop=…" / "tg_wait_shop=…" from the visit's Set-Cookie values
  // ("" when not set or cleared).
  static std::string CookieSet(const Visit& v, const std::string& name) {
    std::string found;
    for (const std::string& c : v.set_cookies) {
      if (c.rfind(name + "=", 0) != 0) continue;
      std::string pair = c.substr(0, c.find(';'));
      found = pair.size() > name.size() + 1 ? pair : "";
    }
    return found;
  }

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

TEST_F(RoomVisitIntegrityTest, AReplayedInvitedTicketEntersOneSessionNeverASecondOne) {
  Build(config::RoomMode::kQueueAll, 10);
  Visit first = Evaluate("");
  ASSERT_EQ(first.outcome, Visit::Outcome::kQueued);
  std::string wait = CookieSet(first, "tg_wait_shop");
  ASSERT_FALSE(wait.empty());
  time_.Advance(300ms);  // the next visit ticks: the ticket is invited
  Evaluate("", VisitKind::kPoll);
  time_.Advance(300ms);
  Visit claimed = Evaluate(wait);
  ASSERT_EQ(claimed.outcome, Visit::Outcome::kForward);
  EXPECT_TRUE(claimed.admitted_now);
  EXPECT_FALSE(CookieSet(claimed, "tg_pass_shop").empty());
  ASSERT_NE(claimed.pass_session, 0u);
  // The answer was lost (or the cookie copied): the same session again.
  for (int i = 0; i < 3; ++i) {
    for (VisitKind kind : {VisitKind::kRequest, VisitKind::kPoll}) {
      Visit again = Evaluate(wait, kind);
      EXPECT_EQ(again.outcome, Visit::Outcome::kForward);
      EXPECT_TRUE(again.admitted);
      EXPECT_FALSE(again.admitted_now) << "not a new admission";
      EXPECT_EQ(again.pass_session, claimed.pass_session) << "the same session";
      EXPECT_EQ(again.pass_bucket, claimed.pass_bucket);
      EXPECT_FALSE(CookieSet(again, "tg_pass_shop").empty()) << "its pass";
      EXPECT_TRUE(CookieSet(again, "tg_wait_shop").empty()) << "the wait cookie is cleared";
    }
  }
  EXPECT_EQ(room_->runtime->abuse.Get(AbuseReason::kTicketReused), 0u);
  EXPECT_EQ(room_->runtime->store().Snapshot().active, 1);
  // The session ends: the wait cookie no longer gets a pass.
  RoomLimits limits = wr_->Limits(*room_, StoreCaller{});
  room_->runtime->store().EndSession(StoreCaller{}, limits, wr_->NowMs(), claimed.pass_bucket,
                                     claimed.pass_session, claimed.pass_expires_ms, nullptr);
  for (int i = 0; i < 3; ++i) {
    for (VisitKind kind : {VisitKind::kRequest, VisitKind::kPoll}) {
      Visit again = Evaluate(wait, kind);
      EXPECT_EQ(again.outcome, Visit::Outcome::kQueued);
      EXPECT_FALSE(again.admitted);
      EXPECT_EQ(again.notice, RoomNotice::kTicketUsed);
      EXPECT_EQ(again.position, 0u);
      EXPECT_TRUE(CookieSet(again, "tg_pass_shop").empty()) << "no pass";
      EXPECT_EQ(again.set_cookies.size(), 1u) << "the wait cookie is cleared";
    }
  }
  Visit again = Evaluate(wait);
  Reply json = QueuedReply(*room_, again, pages::Language::kEnglish, true, "/", wr_->NowMs());
  EXPECT_NE(json.body.find("\"notice\":\"ticket_used\""), std::string::npos) << json.body;
  EXPECT_NE(json.body.find("\"position\":null"), std::string::npos) << json.body;
  Reply page = QueuedReply(*room_, again, pages::Language::kEnglish, false, "/", wr_->NowMs());
  EXPECT_NE(page.Text().find("already been used to enter the shop"), std::string::npos);
  EXPECT_EQ(room_->runtime->abuse.Get(AbuseReason::kTicketReused), 7u);
  EXPECT_EQ(room_->runtime->store().Snapshot().active, 0);
}

TEST_F(RoomVisitIntegrityTest, AnEndedSessionsPassIsRefusedEvenWhenRemembered) {
  Build(config::RoomMode::kAuto, 1);
  Visit in = Evaluate("");
  ASSERT_EQ(in.outcome, Visit::Outcome::kForward);
  std::string pass = CookieSet(in, "tg_pass_shop");
  ASSERT_FALSE(pass.empty());
  ASSERT_NE(in.pass_session, 0u);
  // Verified once more: now remembered by the pass cache (the hot path).
  Visit hot = Evaluate(pass);
  ASSERT_TRUE(hot.admitted);
  EXPECT_TRUE(hot.set_cookies.empty());
  EXPECT_EQ(hot.pass_session, in.pass_session);

  RoomStore& store = room_->runtime->store();
  RoomLimits limits = wr_->Limits(*room_, StoreCaller{});
  int ended = 0;
  for (int i = 0; i < 10; ++i) {  // the ending response repeated
    store.EndSession(StoreCaller{}, limits, wr_->NowMs(), in.pass_bucket, in.pass_session,
                     in.pass_expires_ms, [&](const StoreResult<bool>& r) { ended += r.value; });
  }
  EXPECT_EQ(ended, 1);
  EXPECT_EQ(store.Snapshot().active, 0);

  // Another shopper takes the freed place; the old pass is refused and its
  // holder is queued like a newcomer, with the kind notice.
  ASSERT_EQ(Evaluate("").outcome, Visit::Outcome::kForward);
  Visit refused = Evaluate(pass);
  EXPECT_EQ(refused.outcome, Visit::Outcome::kQueued);
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.notice, RoomNotice::kSessionEnded);
  EXPECT_GT(refused.position, 0u) << "a new place in line";
  ASSERT_FALSE(refused.set_cookies.empty());
  EXPECT_NE(refused.set_cookies[0].find("tg_pass_shop=;"), std::string::npos)
      << "the old pass is cleared first: " << refused.set_cookies[0];
  EXPECT_FALSE(CookieSet(refused, "tg_wait_shop").empty()) << "a ticket";
  Reply json = QueuedReply(*room_, refused, pages::Language::kFrench, true, "/", wr_->NowMs());
  EXPECT_NE(json.body.find("\"notice\":\"session_ended\""), std::string::npos) << json.body;
  EXPECT_NE(json.body.find("\"position\":1"), std::string::npos) << "its new place " << json.body;
  EXPECT_EQ(room_->runtime->abuse.Get(AbuseReason::kSessionEnded), 1u);
  EXPECT_EQ(store.Snapshot().active, 1) << "the other shopper only";
}

// A wait longer than the wait cookie's 6 hours keeps its place while the
// visitor keeps polling: a poll 10 minutes or more after the cookie was set
// gets it again for 6 more hours (the same ticket); without that, the
// original cookie alone has expired and the visitor is no longer in line.
TEST_F(RoomVisitIntegrityTest, AWaitingVisitorsCookieIsRenewedByPolling) {
  Build(config::RoomMode::kQueueAll, 10, 1);
  std::string wait;
  for (int i = 0; i < 5; ++i) {
    Visit v = Evaluate("");
    ASSERT_EQ(v.outcome, Visit::Outcome::kQueued);
    wait = CookieSet(v, "tg_wait_shop");
  }
  ASSERT_FALSE(wait.empty());
  time_.Advance(5min);
  Visit early = Evaluate(wait, VisitKind::kPoll);
  ASSERT_EQ(early.outcome, Visit::Outcome::kQueued);
  EXPECT_EQ(CookieSet(early, "tg_wait_shop"), "") << "not renewed within 10 minutes";
  time_.Advance(6min);
  Visit renewed = Evaluate(wait, VisitKind::kPoll);
  ASSERT_EQ(renewed.outcome, Visit::Outcome::kQueued);
  std::string again = CookieSet(renewed, "tg_wait_shop");
  ASSERT_FALSE(again.empty());
  // The ticket is valid 6 hours; the browser keeps the cookie a day longer
  // (30 h) so that a late return is told the place was lost.
  bool kept_longer = false;
  for (const std::string& c : renewed.set_cookies)
    kept_longer |= c.find("Max-Age=108000") != std::string::npos;
  EXPECT_TRUE(kept_longer);
  EXPECT_GT(renewed.progress, 0) << "the wait so far still counts";

  time_.Advance(5h + 55min);  // past the first cookie's 6 hours
  EXPECT_EQ(Evaluate(wait, VisitKind::kPoll).outcome, Visit::Outcome::kNotQueued);
  Visit later = Evaluate(again, VisitKind::kPoll);
  EXPECT_EQ(later.outcome, Visit::Outcome::kQueued);
  EXPECT_LE(later.position, renewed.position);
}

// A lost place (docs/waiting-room.md, "A lost place"): an authentic wait
// cookie whose ticket lapsed gets a new place at the end with the
// kPlaceExpired notice — never its old place (its ticket was invited), a
// pass, or anything a request without a cookie would not get. A forged
// cookie, another room's, one lapsed more than a day ago, and a poll get no
// notice; a valid cookie is unchanged.
TEST_F(RoomVisitIntegrityTest, ALapsedTicketIsToldAndIsWorthNoMoreThanNoTicket) {
  Build(config::RoomMode::kQueueAll, 10, 1);
  ASSERT_EQ(Evaluate("").outcome, Visit::Outcome::kQueued);  // ticket 1
  time_.Advance(61s);
  Evaluate("", VisitKind::kPoll);  // ticks: ticket 1 is invited (one a minute)
  ASSERT_EQ(room_->runtime->store().Snapshot().serving, 1u);
  Visit second = Evaluate("");
  ASSERT_EQ(second.outcome, Visit::Outcome::kQueued);
  std::string valid = CookieSet(second, "tg_wait_shop");
  ASSERT_FALSE(valid.empty());

  int64_t now = wr_->NowMs();
  const TokenCodec& codec = *wr_->codec();
  auto wait_cookie = [&](const std::string& room, int64_t expires_ms) {
    return "tg_wait_shop=" + codec.SignWait({room, 1, expires_ms - 6 * 3'600'000, expires_ms});
  };
  std::string lapsed = wait_cookie("shop", now - 3'600'000);  // ticket 1, lapsed an hour ago

  Visit told = Evaluate(lapsed);
  EXPECT_EQ(told.outcome, Visit::Outcome::kQueued);
  EXPECT_FALSE(told.admitted);
  EXPECT_EQ(told.notice, RoomNotice::kPlaceExpired);
  EXPECT_GT(told.position, second.position) << "a new place, after the last one";
  EXPECT_TRUE(CookieSet(told, "tg_pass_shop").empty()) << "no pass";
  std::string fresh = CookieSet(told, "tg_wait_shop");
  ASSERT_FALSE(fresh.empty()) << "a new ticket replaces the lapsed cookie";
  EXPECT_NE(fresh, lapsed);
  Reply json = QueuedReply(*room_, told, pages::Language::kEnglish, true, "/", wr_->NowMs());
  EXPECT_NE(json.body.find("\"notice\":\"place_expired\""), std::string::npos) << json.body;
  EXPECT_NE(json.body.find("\"position\":" + std::to_string(told.position)), std::string::npos)
      << json.body;
  Reply page = QueuedReply(*room_, told, pages::Language::kFrench, false, "/", wr_->NowMs());
  EXPECT_NE(page.Text().find("a expir\u00e9 pendant votre absence"), std::string::npos);
  Visit again = Evaluate(fresh);
  EXPECT_EQ(again.notice, RoomNotice::kNone) << "the new ticket is an ordinary one";
  EXPECT_EQ(again.position, told.position);

  std::string forged = lapsed;
  forged[forged.size() - 2] = forged[forged.size() - 2] == 'A' ? 'B' : 'A';
  for (const std::string& cookie :
       {forged, wait_cookie("other", now - 3'600'000), wait_cookie("shop", now - 25 * 3'600'000)}) {
    Visit v = Evaluate(cookie);
    EXPECT_EQ(v.outcome, Visit::Outcome::kQueued) << cookie;
    EXPECT_EQ(v.notice, RoomNotice::kNone) << cookie;
    EXPECT_FALSE(CookieSet(v, "tg_wait_shop").empty()) << "a newcomer's ticket";
  }
  Visit polled = Evaluate(lapsed, VisitKind::kPoll);
  EXPECT_EQ(polled.outcome, Visit::Outcome::kNotQueued) << "a poll never issues a ticket";
  EXPECT_EQ(polled.notice, RoomNotice::kNone);
  Visit still = Evaluate(valid);
  EXPECT_EQ(still.outcome, Visit::Outcome::kQueued);
  EXPECT_EQ(still.notice, RoomNotice::kNone);
  EXPECT_EQ(still.position, second.position);
  EXPECT_TRUE(still.set_cookies.empty()) << "a valid cookie is left as it is";
  EXPECT_EQ(room_->runtime->store().Snapshot().active, 0) << "nobody was let in";
  EXPECT_EQ(room_->runtime->abuse.Get(AbuseReason::kPlaceExpired), 1u) << "the one notice";
}

// A lapsed cookie's holder let in at once (a room with space) needs no
// notice, and the lapsed cookie is cleared.
TEST_F(RoomVisitIntegrityTest, ALapsedTicketsHolderAdmittedAtOnceLosesTheCookie) {
  Build(config::RoomMode::kAuto, 10);
  int64_t now = wr_->NowMs();
  std::string lapsed =
      "tg_wait_shop=" + wr_->codec()->SignWait({"shop", 7, now - 7 * 3'600'000, now - 60'000});
  Visit in = Evaluate(lapsed);
  ASSERT_EQ(in.outcome, Visit::Outcome::kForward);
  EXPECT_TRUE(in.admitted_now);
  EXPECT_EQ(in.notice, RoomNotice::kNone);
  bool cleared = false;
  for (const std::string& c : in.set_cookies) cleared |= c.rfind("tg_wait_shop=;", 0) == 0;
  EXPECT_TRUE(cleared);
  EXPECT_EQ(room_->runtime->abuse.Get(AbuseReason::kPlaceExpired), 0u);
}

}  // namespace
}  // namespace tidegate::queue
