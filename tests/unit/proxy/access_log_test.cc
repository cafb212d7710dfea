#include "proxy/access_log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tidegate::proxy {
namespace {

using nlohmann::json;

std::string Escaped(std::string_view in) {
  std::string out;
  AppendJsonEscaped(in, &out);
  return out;
}

TEST(JsonEscapeTest, EscapesQuotesBackslashesAndControlBytes) {
  EXPECT_EQ(Escaped("plain /path?q=1"), "plain /path?q=1");
  EXPECT_EQ(Escaped("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(Escaped("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");
  EXPECT_EQ(Escaped(std::string_view("\x00\x01\x1f\x7f", 4)), "\\u0000\\u0001\\u001f\\u007f");
}

TEST(JsonEscapeTest, KeepsValidUtf8AndEscapesInvalidBytes) {
  EXPECT_EQ(Escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9b\x92"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9b\x92");
  EXPECT_EQ(Escaped("\xff"), "\\u00ff");
  EXPECT_EQ(Escaped("\xc3"), "\\u00c3");                                   // truncated
  EXPECT_EQ(Escaped("\xc3("), "\\u00c3(");                                 // bad continuation
  EXPECT_EQ(Escaped("\xc0\xaf"), "\\u00c0\\u00af");                        // overlong '/'
  EXPECT_EQ(Escaped("\xe0\x80\xaf"), "\\u00e0\\u0080\\u00af");             // overlong
  EXPECT_EQ(Escaped("\xed\xa0\x80"), "\\u00ed\\u00a0\\u0080");             // surrogate U+D800
  EXPECT_EQ(Escaped("\xf4\x90\x80\x80"), "\\u00f4\\u0090\\u0080\\u0080");  // > U+10FFFF
  EXPECT_EQ(Escaped("\x80"), "\\u0080");                                   // lone continuation
}

TEST(JsonEscapeTest, EveryByteStringParsesBack) {
  // All 256 single bytes and some pairs: the result is always a valid JSON
  // string, and valid UTF-8 input round-trips exactly.
  for (int a = 0; a < 256; ++a) {
    for (int b : {0, 0x41, 0x80, 0xbf, 0xc3, 0xff}) {
      std::string in{static_cast<char>(a), static_cast<char>(b)};
      std::string doc(1, '"');
      AppendJsonEscaped(in, &doc);
      doc.push_back('"');
      json parsed = json::parse(doc, nullptr, /*allow_exceptions=*/false);
      ASSERT_FALSE(parsed.is_discarded()) << doc;
      if (a < 0x80 && b < 0x80) {
        EXPECT_EQ(parsed.get<std::string>(), in);
      }
    }
  }
}

AccessRecord SampleRecord() {
  AccessRecord r;
  r.start = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795441200123));
  r.client_addr = "203.0.113.7:51234";
  r.method = "GET";
  r.target = "/search?q=\"shoes\"\\&x=\n";
  r.host = "shop.example";
  r.user_agent = "Mozilla/5.0 \xff\x01";
  r.referer = "";
  r.status = 200;
  r.request_bytes = 321;
  r.response_bytes = 12345;
  r.duration = std::chrono::microseconds(1500);
  r.upstream_duration = std::chrono::microseconds(1200);
  r.upstream_addr = "127.0.0.1:9000";
  r.answered_by = "origin";
  r.tls = true;
  r.worker = 3;
  return r;
}

TEST(AccessLineTest, OneValidJsonObjectPerLine) {
  std::string line;
  AppendAccessLine(SampleRecord(), &line);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  json j = json::parse(line);
  EXPECT_EQ(j["time"], "2026-11-23T13:40:00.123Z");
  EXPECT_EQ(j["client"], "203.0.113.7:51234");
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["target"], "/search?q=\"shoes\"\\&x=\n");
  EXPECT_EQ(j["host"], "shop.example");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["request_bytes"], 321);
  EXPECT_EQ(j["response_bytes"], 12345);
  EXPECT_EQ(j["duration_us"], 1500);
  EXPECT_EQ(j["upstream_addr"], "127.0.0.1:9000");
  EXPECT_EQ(j["upstream_duration_us"], 1200);
  EXPECT_EQ(j["answered_by"], "origin");
  EXPECT_EQ(j["tls"], true);
  EXPECT_EQ(j["worker"], 3);
  EXPECT_EQ(j["user_agent"], "Mozilla/5.0 \xc3\xbf\x01");  // \u00ff decodes to U+00FF
  EXPECT_EQ(j["referer"], "");
}

// Behind a front of [server].trusted_proxies the reported client is logged
// beside the connection's peer; otherwise the field is left out.
TEST(AccessLineTest, TheClientAFrontReportedIsLoggedBesideThePeer) {
  AccessRecord r = SampleRecord();
  std::string line;
  AppendAccessLine(r, &line);
  EXPECT_FALSE(json::parse(line).contains("forwarded_client")) << line;
  r.forwarded_client = "198.51.100.4";
  line.clear();
  AppendAccessLine(r, &line);
  json j = json::parse(line);
  EXPECT_EQ(j["client"], "203.0.113.7:51234");
  EXPECT_EQ(j["forwarded_client"], "198.51.100.4");
}

class AccessLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "tidegate_acclog_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/access.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::vector<json> ReadJsonLines(const std::string& path) {
    std::ifstream in(path);
    std::vector<json> out;
    for (std::string line; std::getline(in, line);) {
      json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
      EXPECT_FALSE(j.is_discarded()) << line;
      out.push_back(j);
    }
    return out;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(AccessLogTest, EmptyPathDisablesWithoutError) {
  std::string error = "stale";
  EXPECT_EQ(AccessLog::Open("", &error), nullptr);
  EXPECT_TRUE(error.empty());
}

TEST_F(AccessLogTest, OpenFailureNamesThePath) {
  std::string error;
  std::string bad = dir_ + "/missing/access.log";
  EXPECT_EQ(AccessLog::Open(bad, &error), nullptr);
  EXPECT_NE(error.find(bad), std::string::npos) << error;
}

TEST_F(AccessLogTest, DestructionFlushesEverythingQueued) {
  AccessLog::Options options;
  options.flush_interval = std::chrono::hours(1);  // only the destructor can flush
  std::string error;
  auto log = AccessLog::Open(path_, &error, options);
  ASSERT_NE(log, nullptr) << error;
  AccessLog::Sink* sink = log->NewSink();
  AccessRecord r = SampleRecord();
  for (int status : {200, 404, 502}) {
    r.status = status;
    sink->Write(r);
  }
  log.reset();
  auto lines = ReadJsonLines(path_);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["status"], 200);
  EXPECT_EQ(lines[1]["status"], 404);
  EXPECT_EQ(lines[2]["status"], 502);
}

TEST_F(AccessLogTest, ManyWorkersOneLinePerRecord) {
  constexpr int kWorkers = 4;
  constexpr int kPerWorker = 2000;
  std::string error;
  auto log = AccessLog::Open(path_, &error);
  ASSERT_NE(log, nullptr) << error;
  std::vector<AccessLog::Sink*> sinks;
  for (int w = 0; w < kWorkers; ++w) sinks.push_back(log->NewSink());
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([sink = sinks[w], w] {
      AccessRecord r = SampleRecord();
      r.worker = w;
      for (int i = 0; i < kPerWorker; ++i) {
        std::string target = "/item/" + std::to_string(i) + "?\"\n";
        r.target = target;
        sink->Write(r);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(log->dropped_total(), 0u);
  log.reset();

  auto lines = ReadJsonLines(path_);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kWorkers * kPerWorker));
  std::vector<int> next(kWorkers, 0);
  for (const json& j : lines) {
    int w = j["worker"].get<int>();
    ASSERT_GE(w, 0);
    ASSERT_LT(w, kWorkers);
    // A worker's lines stay in order.
    EXPECT_EQ(j["target"], "/item/" + std::to_string(next[w]) + "?\"\n");
    ++next[w];
  }
  for (int w = 0; w < kWorkers; ++w) EXPECT_EQ(next[w], kPerWorker);
}

TEST_F(AccessLogTest, BoundedQueueDropsAndCounts) {
  // The log is a FIFO nobody reads yet: the writer thread blocks once the
  // pipe is full, so the sink's bounded buffer must fill and drop.
  const std::string fifo = dir_ + "/access.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  int read_fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(read_fd, 0);
  AccessLog::Options options;
  options.max_queued_bytes = 16 * 1024;
  std::string error;
  auto log = AccessLog::Open(fifo, &error, options);
  ASSERT_NE(log, nullptr) << error;
  AccessLog::Sink* sink = log->NewSink();

  constexpr int kRecords = 2000;
  const std::string agent(1000, 'u');  // ~1.3 KB per line: ~2.6 MB in all
  AccessRecord r = SampleRecord();
  r.user_agent = agent;
  for (int i = 0; i < kRecords; ++i) sink->Write(r);
  const uint64_t dropped = sink->dropped();
  // Pipe (64 KB) + writer batch + sink buffer hold far fewer than 2000 lines.
  EXPECT_GT(dropped, static_cast<uint64_t>(kRecords / 2));
  EXPECT_EQ(log->dropped_total(), dropped);

  // Now read everything; destroying the log flushes the rest and closes the
  // pipe, which ends the reader.
  ASSERT_EQ(fcntl(read_fd, F_SETFL, 0), 0);  // blocking reads
  size_t newlines = 0;
  std::thread reader([&] {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(read_fd, buf, sizeof(buf));
      if (n <= 0) break;
      for (ssize_t i = 0; i < n; ++i) newlines += buf[i] == '\n';
    }
  });
  log.reset();
  reader.join();
  ::close(read_fd);
  EXPECT_EQ(newlines + dropped, static_cast<uint64_t>(kRecords));
}

TEST_F(AccessLogTest, ReopenFollowsRotation) {
  AccessLog::Options options;
  options.flush_interval = std::chrono::milliseconds(1);
  std::string error;
  auto log = AccessLog::Open(path_, &error, options);
  ASSERT_NE(log, nullptr) << error;
  std::filesystem::rename(path_, path_ + ".1");
  ASSERT_TRUE(log->Reopen(&error)) << error;
  AccessLog::Sink* sink = log->NewSink();
  sink->Write(SampleRecord());
  log.reset();
  EXPECT_EQ(ReadJsonLines(path_).size(), 1u);
  EXPECT_EQ(ReadJsonLines(path_ + ".1").size(), 0u);
}

}  // namespace
}  // namespace tidegate::proxy
