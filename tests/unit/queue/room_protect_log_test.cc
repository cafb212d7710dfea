// RoomProtectLog: one line per change of direction, only on the deciding
// instance, at most one per 10 s (the rest counted into the next line).
#include "queue/room_protect_log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace tidegate::queue {
namespace {

std::string ReadAll(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  return out;
}

ProtectStatus Status(int direction, int64_t moved_ms, ProtectMove change) {
  ProtectStatus s;
  s.enabled = true;
  s.ceilings = {150, 3600};
  s.effective = {40, 300};
  s.state.direction = direction;
  s.state.moved_ms = moved_ms;
  s.state.last_change = change;
  s.state.move = change;
  s.state.reason = "p90 812 ms > target 150 ms";
  return s;
}

TEST(RoomProtectLogTest, LogsEachChangeOfDirectionOnceWithLimitsAndReason) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  RoomProtectLog log("shop", f);
  EXPECT_TRUE(log.Note(Status(-1, 1'000, ProtectMove::kCutLatency), true, 1'000));
  EXPECT_FALSE(log.Note(Status(-1, 1'000, ProtectMove::kCutLatency), true, 1'250))
      << "the same change is logged once";
  std::string text = ReadAll(f);
  EXPECT_EQ(text, "tidegate: room 'shop': auto-protection closes the door (" +
                      std::string(ProtectMoveName(ProtectMove::kCutLatency)) +
                      "): active limit 40 (ceiling 150), 300 new/min (ceiling 3600); p90 812 ms "
                      "> target 150 ms\n");
  std::fclose(f);
}

TEST(RoomProtectLogTest, RateLimitedAndCountsWhatItSkipped) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  RoomProtectLog log("shop", f);
  EXPECT_TRUE(log.Note(Status(-1, 1'000, ProtectMove::kCutLatency), true, 1'000));
  EXPECT_FALSE(log.Note(Status(1, 3'000, ProtectMove::kGrow), true, 3'000));
  EXPECT_FALSE(log.Note(Status(-1, 5'000, ProtectMove::kCutErrors), true, 5'000));
  EXPECT_TRUE(log.Note(Status(1, 11'500, ProtectMove::kGrow), true, 11'500));
  std::string text = ReadAll(f);
  EXPECT_NE(text.find("opens the door"), std::string::npos) << text;
  EXPECT_NE(text.find("[2 more changes not logged]"), std::string::npos) << text;
  std::fclose(f);
}

TEST(RoomProtectLogTest, FollowersAndDisabledRoomsStayQuiet) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  RoomProtectLog log("shop", f);
  EXPECT_FALSE(log.Note(Status(-1, 1'000, ProtectMove::kCutLatency), false, 1'000))
      << "the leader logs it, not every instance";
  ProtectStatus off = Status(-1, 2'000, ProtectMove::kCutLatency);
  off.enabled = false;
  EXPECT_FALSE(log.Note(off, true, 2'000));
  EXPECT_FALSE(log.Note(Status(0, 0, ProtectMove::kNone), true, 3'000)) << "no change yet";
  EXPECT_EQ(ReadAll(f), "");
  std::fclose(f);
}

}  // namespace
}  // namespace tidegate::queue
