// notify/local_outbox.h: the file-backed outbox survives a reopen (a
// restart), leases keep a delivery from being claimed twice, failures are
// kept, marks de-duplicate, and a corrupt file is set aside.
#include "notify/local_outbox.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tidegate::notify {
namespace {

class LocalOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tidegate-outbox-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    folder_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }

  std::unique_ptr<LocalOutbox> Open() {
    std::string warning;
    auto outbox = LocalOutbox::Open(folder_, 1000, &warning);
    last_warning_ = warning;
    return outbox;
  }
  static Delivery Make(const std::string& id, int64_t next_ms) {
    Delivery d;
    d.id = id;
    d.event_id = id;
    d.event_type = "incident.opened";
    d.url = "http://127.0.0.1:1/";
    d.body = "{}";
    d.created_ms = next_ms;
    d.next_ms = next_ms;
    return d;
  }
  static Outbox::Claimed Claim(Outbox& o, int64_t now, size_t max = 10) {
    Outbox::Claimed out;
    o.Claim(now, max, 30'000, [&](Outbox::Claimed c) { out = std::move(c); });
    return out;
  }
  static const Outbox::Done kIgnore;

  std::string folder_;
  std::string last_warning_;
};

const Outbox::Done LocalOutboxTest::kIgnore = [](bool ok, const std::string& e) {
  EXPECT_TRUE(ok) << e;
};

TEST_F(LocalOutboxTest, ClaimHonoursDueTimesAndLeases) {
  auto outbox = Open();
  outbox->Add({Make("a", 100), Make("b", 200), Make("c", 5000)}, kIgnore);
  Outbox::Claimed first = Claim(*outbox, 1000);
  ASSERT_EQ(first.due.size(), 2u);
  EXPECT_EQ(first.due[0].id, "a");
  EXPECT_EQ(first.pending, 3u);
  EXPECT_TRUE(Claim(*outbox, 2000).due.empty()) << "a and b are leased, c is not due";
  // The lease ends (the attempt never finished): due again.
  EXPECT_EQ(Claim(*outbox, 1000 + 30'001).due.size(), 3u);
}

TEST_F(LocalOutboxTest, OneDeliveryPerSubscriberAtATimeEarliestFirst) {
  auto outbox = Open();
  outbox->Add({Make("e2.s1", 101), Make("e1.s1", 100), Make("e3.s2", 102)}, kIgnore);
  Outbox::Claimed first = Claim(*outbox, 1000);
  ASSERT_EQ(first.due.size(), 2u);
  EXPECT_EQ(first.due[0].id, "e1.s1");
  EXPECT_EQ(first.due[1].id, "e3.s2");
  EXPECT_TRUE(Claim(*outbox, 1001).due.empty()) << "s1 is busy with e1";
  outbox->Complete(first.due[0], kIgnore);
  Outbox::Claimed second = Claim(*outbox, 1002);
  ASSERT_EQ(second.due.size(), 1u);
  EXPECT_EQ(second.due[0].id, "e2.s1");
}

TEST_F(LocalOutboxTest, SurvivesAReopenWithRetriesAndFailures) {
  {
    auto outbox = Open();
    outbox->Add({Make("a", 100), Make("b", 100), Make("c", 100)}, kIgnore);
    Outbox::Claimed claimed = Claim(*outbox, 1000);
    ASSERT_EQ(claimed.due.size(), 3u);
    outbox->Complete(claimed.due[0], kIgnore);
    Delivery retry = claimed.due[1];
    retry.attempts = 1;
    retry.next_ms = 9000;
    retry.last_error = "HTTP 503";
    outbox->Reschedule(retry, kIgnore);
    Delivery failed = claimed.due[2];
    failed.last_error = "timed out";
    outbox->Fail(failed, kIgnore);
  }
  auto reopened = Open();
  EXPECT_EQ(last_warning_, "");
  Outbox::Listing listing;
  reopened->List(100, [&](Outbox::Listing l) { listing = std::move(l); });
  ASSERT_EQ(listing.pending.size(), 1u);
  EXPECT_EQ(listing.pending[0].id, "b");
  EXPECT_EQ(listing.pending[0].attempts, 1u);
  EXPECT_EQ(listing.pending[0].last_error, "HTTP 503");
  ASSERT_EQ(listing.failed.size(), 1u);
  EXPECT_EQ(listing.failed[0].id, "c");
  EXPECT_TRUE(Claim(*reopened, 8999).due.empty());
  EXPECT_EQ(Claim(*reopened, 9000).due.size(), 1u);
}

TEST_F(LocalOutboxTest, MarkOnceIsOncePerKeyAcrossReopens) {
  bool first = false;
  {
    auto outbox = Open();
    outbox->MarkOnce("overdue:inc1@100", 3600, [&](bool ok, bool f) { first = ok && f; });
    EXPECT_TRUE(first);
    outbox->MarkOnce("overdue:inc1@100", 3600, [&](bool ok, bool f) { first = ok && f; });
    EXPECT_FALSE(first);
  }
  auto reopened = Open();
  reopened->MarkOnce("overdue:inc1@100", 3600, [&](bool ok, bool f) { first = ok && f; });
  EXPECT_FALSE(first) << "a restart does not send the same overdue event again";
  reopened->MarkOnce("overdue:inc1@200", 3600, [&](bool ok, bool f) { first = ok && f; });
  EXPECT_TRUE(first);
}

TEST_F(LocalOutboxTest, ACorruptFileIsSetAsideAndTheOutboxStartsEmpty) {
  std::ofstream(folder_ + "/notify_outbox.json") << "{not json";
  auto outbox = Open();
  EXPECT_NE(last_warning_.find("set aside"), std::string::npos) << last_warning_;
  EXPECT_EQ(Claim(*outbox, 1000).pending, 0u);
  bool found = false;
  for (const auto& entry : std::filesystem::directory_iterator(folder_)) {
    found |= entry.path().filename().string().rfind("notify_outbox.json.corrupt-", 0) == 0;
  }
  EXPECT_TRUE(found);
}

TEST_F(LocalOutboxTest, AFullOutboxRefusesMoreAndSaysSo) {
  auto outbox = Open();
  std::vector<Delivery> many;
  for (size_t i = 0; i < LocalOutbox::kMaxPending + 2; ++i) {
    many.push_back(Make("d" + std::to_string(i), 100));
  }
  bool ok = true;
  std::string error;
  outbox->Add(std::move(many), [&](bool o, const std::string& e) {
    ok = o;
    error = e;
  });
  EXPECT_FALSE(ok);
  EXPECT_NE(error.find("2 deliveries refused"), std::string::npos) << error;
}

}  // namespace
}  // namespace tidegate::notify
