#include "common/rfc3339.h"

#include <chrono>
#include <cstdint>

namespace tidegate::common {
namespace {

// Reads exactly `n` digits at text[*pos]; false if any is not a digit.
bool ReadDigits(std::string_view text, size_t* pos, int n, int* out) {
  if (*pos + n > text.size()) return false;
  int value = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *pos += n;
  *out = value;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char a, char b = 0) {
  if (*pos >= text.size()) return false;
  char c = text[*pos];
  if (c != a && (b == 0 || c != b)) return false;
  ++*pos;
  return true;
}

bool IsLeap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

// Writes "YYYY-MM-DDTHH:MM:SS" (19 chars), then ".mmm" when `millis`, then
// "Z". Pure calendar arithmetic (no gmtime_r, which takes glibc's timezone
// lock): the access log writes one per request.
void Append(TimePoint time, bool millis, std::string* out) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(time);
  const auto day = floor<days>(ms);
  const year_month_day date(day);
  const hh_mm_ss<milliseconds> clock(ms - day);
  char buf[24];
  auto put = [&buf](int pos, unsigned value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      buf[pos + i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, static_cast<unsigned>(static_cast<int>(date.year())), 4);
  buf[4] = '-';
  put(5, static_cast<unsigned>(date.month()), 2);
  buf[7] = '-';
  put(8, static_cast<unsigned>(date.day()), 2);
  buf[10] = 'T';
  put(11, static_cast<unsigned>(clock.hours().count()), 2);
  buf[13] = ':';
  put(14, static_cast<unsigned>(clock.minutes().count()), 2);
  buf[16] = ':';
  put(17, static_cast<unsigned>(clock.seconds().count()), 2);
  size_t size = 19;
  if (millis) {
    buf[19] = '.';
    put(20, static_cast<unsigned>(clock.subseconds().count()), 3);
    size = 23;
  }
  buf[size++] = 'Z';
  out->append(buf, size);
}

}  // namespace

std::optional<TimePoint> ParseRfc3339(std::string_view text) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, &pos, 4, &year) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &month) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &day) || !Expect(text, &pos, 'T', 't') ||
      !ReadDigits(text, &pos, 2, &hour) || !Expect(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &minute) || !Expect(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &second)) {
    return std::nullopt;
  }
  // Years outside 1970..2200 are refused: nobody schedules maintenance
  // there, and system_clock's nanosecond range ends in 2262.
  if (year < 1970 || year > 2200 || month < 1 || month > 12 || day < 1 ||
      day > DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  std::chrono::nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    int64_t nanos = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 9; ++i) nanos *= 10;
    fraction = std::chrono::nanoseconds(nanos);
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!ReadDigits(text, &pos, 2, &oh) || !Expect(text, &pos, ':') ||
        !ReadDigits(text, &pos, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  auto days = std::chrono::sys_days(ymd);
  auto t = std::chrono::time_point_cast<std::chrono::nanoseconds>(days) + std::chrono::hours(hour) +
           std::chrono::minutes(minute) + std::chrono::seconds(second) + fraction -
           std::chrono::minutes(offset_minutes);
  return std::chrono::time_point_cast<Clock::duration>(t);
}

std::string FormatRfc3339(TimePoint time) {
  std::string out;
  Append(time, false, &out);
  return out;
}

std::string FormatRfc3339Millis(TimePoint time) {
  std::string out;
  Append(time, true, &out);
  return out;
}

void AppendRfc3339Millis(TimePoint time, std::string* out) { Append(time, true, out); }

}  // namespace tidegate::common
