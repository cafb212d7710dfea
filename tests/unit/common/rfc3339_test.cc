// RFC 3339 parsing and formatting (common/rfc3339.h).
#include "common/rfc3339.h"

#include <gtest/gtest.h>

namespace tidegate::common {
namespace {

TimePoint T(const char* text) { return ParseRfc3339(text).value(); }

TEST(Rfc3339Test, ParsesAndFormats) {
  EXPECT_EQ(FormatRfc3339(T("2026-11-23T14:30:00Z")), "2026-11-23T14:30:00Z");
  EXPECT_EQ(FormatRfc3339(T("2026-11-23T15:30:00+01:00")), "2026-11-23T14:30:00Z");
  EXPECT_EQ(FormatRfc3339(T("2026-11-23t09:00:00-05:30")), "2026-11-23T14:30:00Z");
  EXPECT_EQ(FormatRfc3339Millis(T("2026-11-23T14:30:00.25Z")), "2026-11-23T14:30:00.250Z");
  EXPECT_EQ(FormatRfc3339(T("2024-02-29T00:00:00Z")), "2024-02-29T00:00:00Z");
  for (const char* bad :
       {"", "2026-11-23", "2026-11-23T14:30:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-11-23T24:00:00Z", "2026-11-23T14:30:60Z", "2026-11-23T14:30:00.Z",
        "2026-11-23T14:30:00+0100", "2026-11-23 14:30:00Z", "2026-11-23T14:30:00Zjunk", "tomorrow",
        "1700000000", "9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad)) << bad;
  }
}

TEST(Rfc3339Test, MillisAreTruncatedAndAppended) {
  TimePoint t = T("2026-11-23T14:30:05.999Z") + std::chrono::microseconds(900);
  EXPECT_EQ(FormatRfc3339(t), "2026-11-23T14:30:05Z");
  EXPECT_EQ(FormatRfc3339Millis(t), "2026-11-23T14:30:05.999Z");
  std::string line = "time=";
  AppendRfc3339Millis(T("2000-01-01T00:00:00Z"), &line);
  EXPECT_EQ(line, "time=2000-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(TimePoint{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(T("2200-12-31T23:59:59Z")), "2200-12-31T23:59:59Z");
}

TEST(Rfc3339Test, RoundTripsEveryDayOfALeapYear) {
  TimePoint t = T("2028-01-01T12:34:56Z");
  for (int day = 0; day < 366; ++day) {
    std::string text = FormatRfc3339(t);
    ASSERT_EQ(ParseRfc3339(text), t) << text;
    t += std::chrono::hours(24);
  }
  EXPECT_EQ(FormatRfc3339(t), "2029-01-01T12:34:56Z");
}

TEST(Rfc3339Test, FormatsUtcWithMilliseconds) {
  std::string out;
  // 2026-11-23T13:40:00.123Z
  AppendRfc3339Millis(TimePoint(std::chrono::milliseconds(1795441200123)), &out);
  EXPECT_EQ(out, "2026-11-23T13:40:00.123Z");
  auto format = [](int64_t ms) {
    std::string s;
    AppendRfc3339Millis(TimePoint(std::chrono::milliseconds(ms)), &s);
    return s;
  };
  EXPECT_EQ(format(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format(1709251199999), "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(format(4102444799007), "2099-12-31T23:59:59.007Z");
}

}  // namespace
}  // namespace tidegate::common
