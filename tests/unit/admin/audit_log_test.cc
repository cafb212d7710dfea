#include "admin/audit_log.h"
#include "common/rfc3339.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tidegate::admin {
namespace {

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/tidegate_audit_XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    path_ = dir_ + "/audit.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  AuditRecord Record(int i) {
    AuditRecord r;
    r.time = common::ParseRfc3339("2026-11-23T14:00:00Z").value() + std::chrono::seconds(i);
    r.token_name = "ops";
    r.client = "127.0.0.1:4242";
    r.method = "PUT";
    r.route = "/v1/banner";
    r.before = nullptr;
    r.after = {{"message", "banner " + std::to_string(i) + " with \"quotes\"\nand a newline"}};
    return r;
  }

  std::string dir_, path_;
};

TEST_F(AuditLogTest, LinesParseBackNewestLast) {
  std::string error;
  auto log = AuditLog::Open(path_, &error);
  ASSERT_TRUE(log) << error;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Append(Record(i), &error)) << error;

  // Every line of the file is one complete JSON object.
  std::ifstream in(path_);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["token"], "ops");
    EXPECT_EQ(j["route"], "/v1/banner");
    EXPECT_EQ(j["time"], common::FormatRfc3339Millis(Record(lines).time));
    ++lines;
  }
  EXPECT_EQ(lines, 5);

  std::vector<nlohmann::json> records;
  ASSERT_TRUE(log->ReadLast(3, &records, &error)) << error;
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0]["after"]["message"], Record(2).after["message"]);
  EXPECT_EQ(records[2]["after"]["message"], Record(4).after["message"]);
  EXPECT_TRUE(records[2]["before"].is_null());
  ASSERT_TRUE(log->ReadLast(100, &records, &error));
  EXPECT_EQ(records.size(), 5u);
}

TEST_F(AuditLogTest, ReadsAcrossBlocksAndSkipsATornLine) {
  std::string error;
  auto log = AuditLog::Open(path_, &error);
  ASSERT_TRUE(log) << error;
  AuditRecord big = Record(0);
  big.after = {{"message", std::string(3000, 'x')}};
  for (int i = 0; i < 100; ++i) {  // ~300 KB: several 64 KB blocks
    big.route = "/v1/features/f" + std::to_string(i) + "/maintenance";
    ASSERT_TRUE(log->Append(big, &error));
  }
  {
    std::ofstream torn(path_, std::ios::app);
    torn << "{\"time\": \"2026-";  // a crash mid-write
  }
  std::vector<nlohmann::json> records;
  ASSERT_TRUE(log->ReadLast(40, &records, &error)) << error;
  ASSERT_EQ(records.size(), 40u);
  EXPECT_EQ(records.front()["route"], "/v1/features/f60/maintenance");
  EXPECT_EQ(records.back()["route"], "/v1/features/f99/maintenance");
}

TEST_F(AuditLogTest, ReopenAppends) {
  std::string error;
  {
    auto log = AuditLog::Open(path_, &error);
    ASSERT_TRUE(log->Append(Record(1), &error));
  }
  auto log = AuditLog::Open(path_, &error);
  ASSERT_TRUE(log->Append(Record(2), &error));
  std::vector<nlohmann::json> records;
  ASSERT_TRUE(log->ReadLast(10, &records, &error));
  EXPECT_EQ(records.size(), 2u);
}

TEST_F(AuditLogTest, OpenFailsClearly) {
  std::string error;
  EXPECT_FALSE(AuditLog::Open(dir_ + "/missing/dir/audit.log", &error));
  EXPECT_NE(error.find("audit log"), std::string::npos);
}

}  // namespace
}  // namespace tidegate::admin
