// queue/room_log.h: once given the server's error log, the rooms' lines
// (auto-protection's included) are written there, stamped with the time,
// level and key, rather than to stderr unstamped (audit 16 LOW-7).
#include "queue/room_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "common/time_source.h"
#include "queue/room_protect_log.h"

namespace tidegate::queue {
namespace {

class RoomLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tidegate-room-log-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    folder_ = pattern;
    std::string error;
    error_log_ = proxy::ErrorLog::Open(folder_ + "/error.log", proxy::LogLevel::kInfo, &error);
    ASSERT_TRUE(error_log_) << error;
  }
  void TearDown() override {
    error_log_.reset();
    std::filesystem::remove_all(folder_);
  }
  std::string Text() const {
    std::ifstream in(folder_ + "/error.log");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  std::string folder_;
  std::shared_ptr<proxy::ErrorLog> error_log_;
};

TEST_F(RoomLogTest, WritesThroughTheErrorLogWithTimeLevelAndKey) {
  auto log = std::make_shared<RoomLog>();
  log->Use(error_log_.get());
  log->Write(proxy::LogLevel::kWarn, "room.store", "room 'shop': shared store failed (x)");
  std::string text = Text();
  ASSERT_GT(text.size(), 25u);
  EXPECT_EQ(text[10], 'T');
  EXPECT_EQ(text.substr(23), "Z warn room.store: room 'shop': shared store failed (x)\n");
}

TEST_F(RoomLogTest, AutoProtectionsLineGoesThroughTheRoomLog) {
  auto log = std::make_shared<RoomLog>();
  log->Use(error_log_.get());
  RoomProtectLog protect("shop", std::shared_ptr<const RoomLog>(log));
  ProtectStatus s;
  s.enabled = true;
  s.ceilings = {150, 3600};
  s.effective = {40, 300};
  s.state.direction = 1;
  s.state.moved_ms = 1'000;
  s.state.last_change = ProtectMove::kGrow;
  EXPECT_TRUE(protect.Note(s, true, 1'000));
  std::string text = Text();
  EXPECT_NE(text.find("Z warn room.protect: room 'shop': auto-protection opens the door ("),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("tidegate: "), std::string::npos) << text;
}

}  // namespace
}  // namespace tidegate::queue
