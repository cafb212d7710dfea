#include "proxy/error_log.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace tidegate::proxy {
namespace {

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// True when `line` starts with "YYYY-MM-DDTHH:MM:SS.mmmZ ".
bool HasTimestamp(const std::string& line) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ ";
  if (line.size() < kShape.size()) return false;
  for (size_t i = 0; i < kShape.size(); ++i) {
    bool ok = kShape[i] == 'd' ? (line[i] >= '0' && line[i] <= '9') : line[i] == kShape[i];
    if (!ok) return false;
  }
  return true;
}

// The line without its timestamp.
std::string Body(const std::string& line) { return line.size() > 25 ? line.substr(25) : ""; }

class ErrorLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "tidegate_errlog_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/error.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::shared_ptr<ErrorLog> OpenWithFakeClock(LogLevel level = LogLevel::kInfo) {
    std::string error;
    auto log = ErrorLog::Open(path_, level, &error, time_);
    EXPECT_NE(log, nullptr) << error;
    return log;
  }

  std::string dir_;
  std::string path_;
  common::FakeTimeSource time_;
};

TEST(LogLevelTest, ParsesKnownNamesOnly) {
  LogLevel level = LogLevel::kError;
  EXPECT_TRUE(ParseLogLevel("debug", &level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_TRUE(ParseLogLevel("info", &level));
  EXPECT_EQ(level, LogLevel::kInfo);
  EXPECT_TRUE(ParseLogLevel("warn", &level));
  EXPECT_EQ(level, LogLevel::kWarn);
  EXPECT_TRUE(ParseLogLevel("error", &level));
  EXPECT_EQ(level, LogLevel::kError);
  EXPECT_FALSE(ParseLogLevel("verbose", &level));
  EXPECT_FALSE(ParseLogLevel("INFO", &level));
  EXPECT_FALSE(ParseLogLevel("", &level));
  EXPECT_EQ(LogLevelName(LogLevel::kWarn), "warn");
}

TEST_F(ErrorLogTest, LineFormat) {
  auto log = OpenWithFakeClock();
  log->Write(LogLevel::kWarn, "upstream.connect", "127.0.0.1:9000: connection refused");
  auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(HasTimestamp(lines[0])) << lines[0];
  EXPECT_EQ(Body(lines[0]), "warn upstream.connect: 127.0.0.1:9000: connection refused");
}

TEST_F(ErrorLogTest, LevelsBelowMinimumAreNotWritten) {
  auto log = OpenWithFakeClock(LogLevel::kWarn);
  EXPECT_FALSE(log->Enabled(LogLevel::kInfo));
  EXPECT_TRUE(log->Enabled(LogLevel::kError));
  log->Write(LogLevel::kDebug, "k", "debug");
  log->Write(LogLevel::kInfo, "k", "info");
  log->Write(LogLevel::kWarn, "k", "warn");
  log->Write(LogLevel::kError, "k", "error");
  auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(" warn k: warn"), std::string::npos);
  EXPECT_NE(lines[1].find(" error k: error"), std::string::npos);
}

TEST_F(ErrorLogTest, ControlBytesCannotForgeLines) {
  auto log = OpenWithFakeClock();
  log->Write(LogLevel::kError, "k", "a\nfake error line\r\x01");
  auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("k: a\\x0afake error line\\x0d\\x01"), std::string::npos) << lines[0];
}

TEST_F(ErrorLogTest, RateLimitedPerKeyWithSuppressedCount) {
  auto log = OpenWithFakeClock();
  for (int i = 0; i < 20; ++i) log->Write(LogLevel::kWarn, "upstream.connect", "refused");
  // Another key has its own budget.
  log->Write(LogLevel::kWarn, "store.redis", "down");
  auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), static_cast<size_t>(ErrorLog::kLinesPerKeyPerSecond) + 1);
  EXPECT_EQ(log->suppressed_total(), 20u - ErrorLog::kLinesPerKeyPerSecond);
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find("suppressed"), std::string::npos) << line;
  }

  // Still inside the same second: still suppressed.
  time_.Advance(std::chrono::milliseconds(999));
  log->Write(LogLevel::kWarn, "upstream.connect", "refused");
  EXPECT_EQ(ReadLines(path_).size(), lines.size());

  // Next window: the first line carries the count, the next one does not.
  time_.Advance(std::chrono::milliseconds(1));
  log->Write(LogLevel::kWarn, "upstream.connect", "refused again");
  log->Write(LogLevel::kWarn, "upstream.connect", "refused once more");
  lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), ErrorLog::kLinesPerKeyPerSecond + 3u);
  const int suppressed = 20 - ErrorLog::kLinesPerKeyPerSecond + 1;
  EXPECT_TRUE(lines[lines.size() - 2].ends_with(
      "upstream.connect: refused again (" + std::to_string(suppressed) + " similar suppressed)"))
      << lines[lines.size() - 2];
  EXPECT_TRUE(lines.back().ends_with("upstream.connect: refused once more")) << lines.back();
}

TEST_F(ErrorLogTest, FlushSuppressedReportsABurstThatStopped) {
  auto log = OpenWithFakeClock();
  for (int i = 0; i < 8; ++i) log->Write(LogLevel::kError, "store.redis", "timeout");
  log->Write(LogLevel::kWarn, "quiet.key", "once");
  log->FlushSuppressed();  // window still open: nothing yet
  EXPECT_EQ(ReadLines(path_).size(), static_cast<size_t>(ErrorLog::kLinesPerKeyPerSecond) + 1);

  time_.Advance(std::chrono::seconds(1));
  log->FlushSuppressed();
  auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), ErrorLog::kLinesPerKeyPerSecond + 2u);
  EXPECT_TRUE(HasTimestamp(lines.back())) << lines.back();
  EXPECT_EQ(Body(lines.back()), "error store.redis: (" +
                                    std::to_string(8 - ErrorLog::kLinesPerKeyPerSecond) +
                                    " similar suppressed)");

  // Reported once only; the next line of that key carries no count.
  log->FlushSuppressed();
  log->Write(LogLevel::kError, "store.redis", "timeout");
  lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), ErrorLog::kLinesPerKeyPerSecond + 3u);
  EXPECT_EQ(Body(lines.back()), "error store.redis: timeout");
}

TEST_F(ErrorLogTest, MinLevelCanChangeAtRunTime) {
  auto log = OpenWithFakeClock(LogLevel::kError);
  log->Write(LogLevel::kInfo, "a", "hidden");
  log->SetMinLevel(LogLevel::kDebug);
  EXPECT_TRUE(log->Enabled(LogLevel::kDebug));
  log->Write(LogLevel::kDebug, "a", "shown");
  auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Body(lines[0]), "debug a: shown");
}

TEST_F(ErrorLogTest, ReopenFollowsRotation) {
  auto log = OpenWithFakeClock();
  log->Write(LogLevel::kError, "a", "before");
  std::filesystem::rename(path_, path_ + ".1");
  log->Write(LogLevel::kError, "b", "still old file");
  std::string error;
  ASSERT_TRUE(log->Reopen(&error)) << error;
  log->Write(LogLevel::kError, "c", "after");
  EXPECT_EQ(ReadLines(path_ + ".1").size(), 2u);
  auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].ends_with("c: after"));
}

TEST_F(ErrorLogTest, ReopenFailureKeepsOldFile) {
  auto log = OpenWithFakeClock();
  std::filesystem::remove_all(dir_);  // the folder is gone: open fails
  std::string error;
  EXPECT_FALSE(log->Reopen(&error));
  EXPECT_NE(error.find(path_), std::string::npos) << error;
  log->Write(LogLevel::kError, "a", "no crash");  // goes to the unlinked old file
}

TEST_F(ErrorLogTest, OpenFailureNamesThePath) {
  std::string error;
  std::string bad = dir_ + "/no/such/dir/error.log";
  EXPECT_EQ(ErrorLog::Open(bad, LogLevel::kInfo, &error), nullptr);
  EXPECT_NE(error.find(bad), std::string::npos) << error;
}

TEST_F(ErrorLogTest, ConcurrentWritersNeverInterleave) {
  std::string error;
  auto log = ErrorLog::Open(path_, LogLevel::kInfo, &error);
  ASSERT_NE(log, nullptr) << error;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      // Distinct keys per line so rate limiting does not apply.
      for (int i = 0; i < 200; ++i) {
        std::string key(1, 't');
        key += static_cast<char>('0' + t);
        key += '.';
        key += std::to_string(i);
        log->Write(LogLevel::kInfo, key, std::string(100, static_cast<char>('a' + t)));
      }
    });
  }
  for (auto& th : threads) th.join();
  auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 800u);
  for (const std::string& line : lines) {
    ASSERT_TRUE(HasTimestamp(line)) << line;
    // "info tD.N: " then 100 times the letter of thread D: no mixing.
    std::string body = Body(line);
    ASSERT_EQ(body.rfind("info t", 0), 0u) << line;
    int t = body[6] - '0';
    ASSERT_TRUE(t >= 0 && t < 4) << line;
    size_t colon = body.find(": ");
    ASSERT_NE(colon, std::string::npos) << line;
    EXPECT_EQ(body.substr(colon + 2), std::string(100, static_cast<char>('a' + t))) << line;
  }
}

}  // namespace
}  // namespace tidegate::proxy
