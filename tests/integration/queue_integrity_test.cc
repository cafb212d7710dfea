// Waiting-room integrity with real processes (issue 11): one ticket, one
// admission, and sessions that end for real. Each test runs against
// * local: one instance (2 workers) with the in-process room store, and
// * redis: three instances sharing one redis-server started by the test.
// Promises:
// * a fleet of 50 clients sharing one invited wait cookie, all asking at
//   once (spread over the instances), gets exactly one session: every copy
//   is let into that same session (as copies of a pass are), counted once,
//   and none of them once the session ended;
// * a shopper whose claim's answer is lost (the connection drops before it
//   arrives) keeps the place: the same wait cookie, again on any instance,
//   gets a pass for the session the lost answer carried (counted once, not
//   as abuse); once that session ended, the cookie gets nothing;
// * a client repeating the request that ends its session 10 times leaves
//   the active count right (the other shopper inside keeps counting), and
//   its pass is refused afterwards: at once on the instance that ended it,
//   within one session bucket (10 s) on the others.
// * an invitation not claimed within invitation_window lapses (audit 14
//   F5): not admitted, told so, a new place at the back, nothing reserved.
// * tickets nobody uses hold a place only until they had their time to be
//   claimed (audit 14 F4): a small room is not stalled by them.
// Skipped (redis) when redis-server is not installed.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/redis_server.h"
#include "tests/integration/harness/shopper.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;

enum class Backend { kLocal, kRedis };

std::string BackendName(Backend b) { return b == Backend::kLocal ? "local" : "redis"; }

class QueueIntegrityTest : public ::testing::TestWithParam<Backend> {
 protected:
  void TearDown() override {
    for (auto& tg : instances_) {
      EXPECT_TRUE(tg->process().Running()) << "tidegate died:\n" << tg->Stderr();
      EXPECT_EQ(tg->Stop(15s), 0) << tg->Stderr();
    }
  }

  // Starts the shop, Redis (backend redis) and the instances; `room_keys`
  // go into [rooms.shop]. False with skip_reason_ set when impossible.
  bool Launch(const std::string& room_keys) {
    Backend backend = GetParam();
    if (backend == Backend::kRedis) {
      if (!RedisServer::Available()) {
        skip_reason_ = RedisServer::Binary() + " is not installed";
        return false;
      }
      redis_ = StartRedisOrFail(dir_);
      if (!redis_) return false;
    }
    shop_ = StartDemoShopOrFail(dir_);
    if (!shop_) return false;
    std::ofstream(dir_.File("k1")) << "integrity-test-signing-key-0123456789abcdef\n";
    int count = backend == Backend::kLocal ? 1 : 3;
    for (int i = 0; i < count; ++i) {
      TidegateOptions options;
      options.name = "tidegate" + std::to_string(i);
      options.config = Config(room_keys);
      auto tg = StartTidegateOrFail(dir_, options);
      if (!tg) return false;
      ports_.push_back(tg->port());
      instances_.push_back(std::move(tg));
    }
    return true;
  }

  std::string Config(const std::string& room_keys) const {
    std::string c = "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = " +
                    std::string(GetParam() == Backend::kLocal ? "2" : "1") +
                    "\ndrain_timeout = \"5s\"\naccess_log = \"\"\n"
                    "\n[upstream]\nservers = [\"127.0.0.1:" +
                    std::to_string(shop_->port()) +
                    "\"]\n"
                    "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
                    "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n";
    if (GetParam() == Backend::kRedis) {
      c += "\n[state]\nbackend = \"redis\"\nredis = \"" + redis_->address() +
           "\"\nredis_timeout = \"2s\"\non_failure = \"closed\"\n";
    }
    return c + "\n[rooms.shop]\nmatch = [\"^/\"]\nrefresh_interval = \"1s\"\n" + room_keys;
  }

  uint16_t PortFor(size_t i) const { return ports_[i % ports_.size()]; }

  // tidegate_<family>{room="shop"} from instance i's /metrics, after two
  // visits 300 ms apart have made it tick (its counters are then fresh).
  std::optional<long> FreshMetric(size_t i, const std::string& family) {
    Shopper probe(PortFor(i));
    probe.Poll();
    std::this_thread::sleep_for(300ms);  // past one tick interval (250 ms)
    probe.Poll();
    auto conn = ConnectOrFail(instances_[i]->admin_port());
    if (!conn) return std::nullopt;
    conn->Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    HttpMessage m = ReadResponse(*conn, Within(5000ms));
    if (!m.ok || m.status != 200) return std::nullopt;
    std::string needle = "tidegate_" + family + "{room=\"shop\"} ";
    size_t at = m.body.find(needle);
    if (at == std::string::npos) return std::nullopt;
    return std::stol(m.body.substr(at + needle.size()));
  }

  // The metric read until it shows `expected` or 5 s passed (an instance's
  // room numbers are refreshed by its ticks, asynchronously with Redis: a
  // single read may predate the last change). Returns the last value read,
  // -1 when unreadable; a count that went wrong stays wrong and fails.
  long MetricSettlesAt(size_t i, const std::string& family, long expected) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
      long last = FreshMetric(i, family).value_or(-1);
      if (last == expected || std::chrono::steady_clock::now() > deadline) return last;
    }
  }

  TempDir dir_;
  std::string skip_reason_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<DemoShop> shop_;
  std::vector<std::unique_ptr<TidegateProcess>> instances_;
  std::vector<uint16_t> ports_;
};

#define LAUNCH_OR_RETURN(keys)                                                 \
  do {                                                                         \
    if (!Launch(keys)) {                                                       \
      if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;                 \
      FAIL() << "could not start the " << BackendName(GetParam()) << " setup"; \
    }                                                                          \
  } while (0)

constexpr char kTicketUsedText[] = "already been used to enter";
constexpr char kSessionEndedText[] = "Your previous visit has ended";

// 50 clients copy one invited wait cookie and ask at the same moment:
// one session, which every copy enters (counted once); after its end none.
TEST_P(QueueIntegrityTest, OneInvitedTicketStartsOneSession) {
  LAUNCH_OR_RETURN("mode = \"queue_all\"\ntotal_active_users = 100\nnew_users_per_minute = 6000\n");
  Shopper holder(PortFor(0));
  ASSERT_EQ(holder.Arrive(), ArriveResult::kQueued);
  ASSERT_FALSE(holder.wait().empty());
  // Invited (queued drops to 0) without the holder claiming it.
  // Every instance knows it (its counters come from its own ticks).
  auto deadline = steady_clock::now() + 10s;
  for (size_t i = 0; i < instances_.size(); ++i) {
    while (FreshMetric(i, "room_queued").value_or(1) != 0) {
      ASSERT_LT(steady_clock::now(), deadline) << "the ticket was never invited";
    }
  }
  constexpr int kFleet = 50;
  std::vector<std::unique_ptr<Shopper>> fleet;
  for (int i = 0; i < kFleet; ++i) {
    fleet.push_back(std::make_unique<Shopper>(PortFor(i)));
    fleet.back()->set_wait(holder.wait());
  }
  std::atomic<int> ready{0};
  std::atomic<int> admitted{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kFleet; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kFleet) std::this_thread::yield();  // all at once
      HttpMessage m = fleet[i]->Request("GET", "/", "Accept: text/html\r\n");
      if (m.ok && m.status < 300 && !IsQueuePage(m) && !fleet[i]->pass().empty()) {
        admitted.fetch_add(1);
      } else {
        other.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), kFleet) << "every copy enters the one session";
  EXPECT_EQ(other.load(), 0);
  for (size_t i = 0; i < instances_.size(); ++i) {
    EXPECT_EQ(MetricSettlesAt(i, "room_active", 1), 1) << "one session, instance " << i;
  }
  // One copy's order ends the session: the wait cookie then gets nothing
  // on any instance, and the other copies' passes are refused where the
  // session ended (elsewhere at their next renewal).
  ASSERT_TRUE(fleet[0]->Checkout());
  EXPECT_EQ(MetricSettlesAt(0, "room_active", 0), 0);
  for (int i = 0; i < 6; ++i) {
    Shopper late(PortFor(i));
    late.set_wait(holder.wait());
    HttpMessage m = late.Request("GET", "/", "Accept: text/html\r\n");
    EXPECT_TRUE(IsQueuePage(m)) << "replay " << i;
    EXPECT_NE(m.body.find(kTicketUsedText), std::string::npos) << "replay " << i;
    EXPECT_TRUE(late.pass().empty()) << "replay " << i;
  }
  for (int i = 1; i < kFleet; ++i) {
    if (PortFor(i) != PortFor(0)) continue;
    fleet[i]->set_wait("");
    HttpMessage m = fleet[i]->Request("GET", "/", "Accept: text/html\r\n");
    EXPECT_TRUE(IsQueuePage(m)) << "copy " << i << ": the same session, ended";
    EXPECT_NE(m.body.find(kSessionEndedText), std::string::npos) << "copy " << i;
  }
  for (size_t i = 0; i < instances_.size(); ++i) {
    EXPECT_EQ(MetricSettlesAt(i, "room_active", 0), 0) << "instance " << i;
  }
}

// The abuse counter tidegate_room_abuse_total{room="shop",reason="…"} of
// instance i (0 when absent; -1 when /metrics is unreadable).
long AbuseCount(TidegateProcess& tg, const std::string& reason) {
  auto conn = ConnectOrFail(tg.admin_port());
  if (!conn) return -1;
  conn->Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  HttpMessage m = ReadResponse(*conn, Within(5000ms));
  if (!m.ok || m.status != 200) return -1;
  std::string needle = "reason=\"" + reason + "\"";
  long total = 0;
  for (size_t at = m.body.find(needle); at != std::string::npos; at = m.body.find(needle, at + 1)) {
    size_t line = m.body.rfind('\n', at);
    line = line == std::string::npos ? 0 : line + 1;
    size_t end = m.body.find('\n', at);
    std::string l = m.body.substr(line, end - line);
    if (l.rfind("tidegate_room_abuse_total{", 0) != 0 || l.find("room=\"shop\"") == l.npos)
      continue;
    total += std::stol(l.substr(l.rfind(' ') + 1));
  }
  return total;
}

// The answer to an invited shopper's claim is lost (the request is sent,
// the connection dropped with the answer unread): the same wait cookie
// again, on any instance, enters the session the lost answer started
// (counted once, no abuse counted); after that session ended, it is refused.
TEST_P(QueueIntegrityTest, LostClaimAnswerKeepsThePlace) {
  LAUNCH_OR_RETURN(
      "mode = \"queue_all\"\ntotal_active_users = 100\nnew_users_per_minute = 6000\n"
      "session_duration = \"5m\"\n");
  Shopper shopper(PortFor(0));
  ASSERT_EQ(shopper.Arrive(), ArriveResult::kQueued);
  std::string wait = shopper.wait();
  ASSERT_FALSE(wait.empty());
  auto deadline = steady_clock::now() + 10s;
  for (size_t i = 0; i < instances_.size(); ++i) {
    while (FreshMetric(i, "room_queued").value_or(1) != 0) {
      ASSERT_LT(steady_clock::now(), deadline) << "the ticket was never invited";
    }
  }
  // The claim (the page's poll) whose answer never reaches the shopper.
  {
    auto conn = ConnectOrFail(PortFor(0));
    ASSERT_TRUE(conn);
    ASSERT_TRUE(
        conn->Send("GET /.tidegate/queue?room=shop HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Cookie: tg_wait_shop=" +
                   wait + "\r\n\r\n"));
    std::this_thread::sleep_for(500ms);  // answered (and unread)
    conn->Reset();
  }
  for (size_t i = 0; i < instances_.size(); ++i) {
    ASSERT_EQ(MetricSettlesAt(i, "room_active", 1), 1) << "the claim started a session";
  }
  long reused_before = 0;
  for (auto& tg : instances_) reused_before += AbuseCount(*tg, "ticket_reused");
  // The shopper polls again (on the next instance when there are several):
  // admitted, into the same session (still one active).
  shopper.set_port(PortFor(1));
  PollStatus again = shopper.Poll();
  ASSERT_TRUE(again.ok) << again.body;
  EXPECT_TRUE(again.admitted) << again.body;
  EXPECT_FALSE(shopper.pass().empty());
  // A reload with the same wait cookie (the poll's answer lost as well).
  Shopper reload(PortFor(2));
  reload.set_wait(wait);
  EXPECT_EQ(reload.Arrive(), ArriveResult::kAdmitted);
  for (size_t i = 0; i < instances_.size(); ++i) {
    EXPECT_EQ(MetricSettlesAt(i, "room_active", 1), 1) << "one session, instance " << i;
  }
  long reused_after = 0;
  for (auto& tg : instances_) reused_after += AbuseCount(*tg, "ticket_reused");
  EXPECT_EQ(reused_after, reused_before) << "a lost answer is not abuse";
  EXPECT_TRUE(shopper.Browse("/")) << "inside";
  // The order ends the session: the wait cookie no longer revives it.
  ASSERT_TRUE(shopper.Checkout());
  for (size_t i = 0; i < instances_.size(); ++i) {
    EXPECT_EQ(MetricSettlesAt(i, "room_active", 0), 0) << "instance " << i;
  }
  for (size_t i = 0; i < instances_.size() + 1; ++i) {
    Shopper late(PortFor(i));
    late.set_wait(wait);
    HttpMessage m = late.Request("GET", "/", "Accept: text/html\r\n");
    EXPECT_TRUE(IsQueuePage(m)) << "after the end, instance " << i;
    EXPECT_NE(m.body.find(kTicketUsedText), std::string::npos) << "instance " << i;
    EXPECT_TRUE(late.pass().empty()) << "instance " << i;
  }
  for (size_t i = 0; i < instances_.size(); ++i) {
    EXPECT_EQ(MetricSettlesAt(i, "room_active", 0), 0) << "instance " << i;
  }
}

// A shopper repeats its order (Tidegate-Session: end) 10 times with the
// same pass while another shopper holds the only other place.
TEST_P(QueueIntegrityTest, RepeatedSessionEndCountsOnceAndRefusesThePass) {
  LAUNCH_OR_RETURN(
      "total_active_users = 1\nnew_users_per_minute = 6000\nsession_duration = \"5m\"\n");
  Shopper a(PortFor(0));
  ASSERT_EQ(a.Arrive(), ArriveResult::kAdmitted);
  std::string pass = a.pass();
  ASSERT_FALSE(pass.empty());
  ASSERT_TRUE(a.Checkout()) << "the first order reaches the shop and ends the session";
  EXPECT_TRUE(a.pass().empty()) << "the pass cookie is cleared";
  EXPECT_EQ(MetricSettlesAt(0, "room_active", 0), 0);
  Shopper b(PortFor(1));
  ASSERT_EQ(b.Arrive(), ArriveResult::kAdmitted) << "the freed place is taken";
  int refused_at_once = 0;
  for (int i = 1; i < 10; ++i) {
    Shopper again(PortFor(i));  // a bot replaying the old cookie, on every instance
    again.set_pass(pass);
    HttpMessage m = again.Request("POST", "/checkout",
                                  "Accept: text/html\r\nCookie: cart=1:1\r\n"
                                  "Content-Type: application/x-www-form-urlencoded\r\n",
                                  "shipping_method=standard&payment_method=card");
    ASSERT_TRUE(m.ok);
    if (PortFor(i) == PortFor(0)) {
      EXPECT_TRUE(IsQueuePage(m)) << "refused at once where it was ended (repeat " << i << ")";
      EXPECT_NE(m.body.find(kSessionEndedText), std::string::npos) << m.body.substr(0, 400);
      ++refused_at_once;
    }
    for (size_t k = 0; k < instances_.size(); ++k) {
      EXPECT_EQ(MetricSettlesAt(k, "room_active", 1), 1)
          << "repeat " << i << ", instance " << k << ": B is still counted";
    }
  }
  EXPECT_GT(refused_at_once, 0);
  // Once the pass's bucket is over (renewal), every instance refuses it.
  if (instances_.size() > 1) std::this_thread::sleep_for(11s);
  for (size_t k = 0; k < instances_.size(); ++k) {
    Shopper again(PortFor(k));
    again.set_pass(pass);
    HttpMessage m = again.Request("GET", "/", "Accept: text/html\r\n");
    EXPECT_TRUE(IsQueuePage(m)) << "instance " << k;
    EXPECT_TRUE(again.pass().empty()) << "no pass for the ended session, instance " << k;
  }
  EXPECT_TRUE(b.Browse("/")) << "B is still inside";
  EXPECT_EQ(MetricSettlesAt(0, "room_active", 1), 1);
}

// Audit 14 F5, the place bank: tickets taken early, invited, never claimed,
// and cashed in later ahead of the shoppers invited since. With
// invitation_window = "10s" (refresh_interval 1s): a shopper who polls
// within the window gets in; a banked ticket presented later is not let in,
// the page and the JSON say why (invitation_lapsed), it holds a new place at
// the back (which gets in like any other) and takes no place meanwhile; the
// spent cookie mints nothing more (ticket_used).
TEST_P(QueueIntegrityTest, AnInvitationNotClaimedInTimeLapses) {
  LAUNCH_OR_RETURN(
      "mode = \"queue_all\"\ntotal_active_users = 5\nnew_users_per_minute = 6000\n"
      "session_duration = \"5m\"\ninvitation_window = \"10s\"\n");
  Shopper page_bank(PortFor(0));
  Shopper json_bank(PortFor(1));
  Shopper honest(PortFor(2));
  ASSERT_EQ(page_bank.Arrive(), ArriveResult::kQueued);
  ASSERT_EQ(json_bank.Arrive(), ArriveResult::kQueued);
  ASSERT_EQ(honest.Arrive(), ArriveResult::kQueued);
  std::string banked_page = page_bank.wait();
  std::string banked_json = json_bank.wait();
  auto deadline = steady_clock::now() + 10s;
  for (size_t i = 0; i < instances_.size(); ++i) {
    while (FreshMetric(i, "room_queued").value_or(1) != 0) {
      ASSERT_LT(steady_clock::now(), deadline) << "the tickets were never invited";
    }
  }
  auto invited = steady_clock::now();
  // A late poll inside the window (a throttled background tab): admitted.
  std::this_thread::sleep_for(5s);
  PollStatus in_time = honest.Poll();
  ASSERT_TRUE(in_time.ok) << in_time.body;
  EXPECT_TRUE(in_time.admitted) << in_time.body;
  // The window ends at most 10 s after the end of the invitation's bucket.
  std::this_thread::sleep_until(invited + 21s);
  Shopper page_late(PortFor(1));
  page_late.set_wait(banked_page);
  HttpMessage page = page_late.Request("GET", "/", "Accept: text/html\r\n");
  EXPECT_TRUE(IsQueuePage(page)) << page.status;
  EXPECT_NE(page.body.find("you did not come back in time"), std::string::npos)
      << page.body.substr(0, 600);
  EXPECT_TRUE(page_late.pass().empty());
  EXPECT_FALSE(page_late.wait().empty());
  EXPECT_NE(page_late.wait(), banked_page) << "a new place";
  Shopper json_late(PortFor(2));
  json_late.set_wait(banked_json);
  PollStatus lapsed = json_late.Poll();
  ASSERT_TRUE(lapsed.ok) << lapsed.body;
  EXPECT_FALSE(lapsed.admitted) << lapsed.body;
  EXPECT_TRUE(lapsed.in_queue) << lapsed.body;
  EXPECT_NE(lapsed.body.find("\"notice\":\"invitation_lapsed\""), std::string::npos) << lapsed.body;
  EXPECT_GE(lapsed.position, 1u) << lapsed.body;
  EXPECT_NE(json_late.wait(), banked_json) << "a new place";
  for (size_t i = 0; i < instances_.size(); ++i) {
    EXPECT_EQ(MetricSettlesAt(i, "room_active", 1), 1) << "no place taken, instance " << i;
  }
  long counted = 0;
  for (auto& tg : instances_) counted += AbuseCount(*tg, "invitation_lapsed");
  EXPECT_EQ(counted, 2);
  // The spent cookie again: nothing more (no second new place).
  Shopper replay(PortFor(0));
  replay.set_wait(banked_json);
  HttpMessage again = replay.Request("GET", "/", "Accept: text/html\r\n");
  EXPECT_TRUE(IsQueuePage(again));
  EXPECT_NE(again.body.find(kTicketUsedText), std::string::npos) << again.body.substr(0, 600);
  EXPECT_TRUE(replay.wait().empty()) << "no new place";
  // The new place is invited like any other and gets in.
  deadline = steady_clock::now() + 10s;
  PollStatus later;
  while (!(later = json_late.Poll()).admitted && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_TRUE(later.admitted) << later.body;
}

// Audit 14 F4 (scripts/t9_ghost_stall.sh): a small room (5 places, 60/min,
// refresh_interval 1s) and 40 tickets nobody uses, then 5 shoppers polling
// every second. An invitation that had its time (the rest of its bucket and
// a refresh interval) no longer holds a place, so the shoppers are all in
// within 75 s (before: 5 places every ~20 s, 158 s in the audit).
TEST_P(QueueIntegrityTest, UnusedTicketsDoNotStallASmallRoom) {
  LAUNCH_OR_RETURN(
      "mode = \"queue_all\"\ntotal_active_users = 5\nnew_users_per_minute = 60\n"
      "session_duration = \"5m\"\n");
  for (int g = 0; g < 40; ++g) {
    Shopper ghost(PortFor(g));
    ASSERT_EQ(ghost.Arrive(), ArriveResult::kQueued) << "ghost " << g;
  }
  std::vector<std::unique_ptr<Shopper>> shoppers;
  for (int i = 0; i < 5; ++i) {
    shoppers.push_back(std::make_unique<Shopper>(PortFor(i)));
    ASSERT_EQ(shoppers.back()->Arrive(), ArriveResult::kQueued) << "shopper " << i;
  }
  auto start = steady_clock::now();
  std::vector<bool> in(shoppers.size(), false);
  size_t admitted = 0;
  while (admitted < shoppers.size() && steady_clock::now() - start < 120s) {
    for (size_t i = 0; i < shoppers.size(); ++i) {
      if (in[i]) continue;
      if (shoppers[i]->Poll().admitted) {
        in[i] = true;
        ++admitted;
      }
    }
    std::this_thread::sleep_for(1s);
  }
  auto waited = std::chrono::duration_cast<std::chrono::seconds>(steady_clock::now() - start);
  EXPECT_EQ(admitted, shoppers.size()) << "after " << waited.count() << " s";
  EXPECT_LT(waited, 75s) << "the last shopper waited " << waited.count() << " s";
}

INSTANTIATE_TEST_SUITE_P(Backends, QueueIntegrityTest,
                         ::testing::Values(Backend::kLocal, Backend::kRedis),
                         [](const auto& info) { return BackendName(info.param); });

}  // namespace
}  // namespace tidegate::itest
