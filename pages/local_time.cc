#include "pages/local_time.h"

#include <stdio.h>
#include <time.h>

namespace tidegate::pages {
namespace {

struct tm Local(WallTime time) {
  time_t seconds = std::chrono::system_clock::to_time_t(time);
  struct tm out {};
  localtime_r(&seconds, &out);
  return out;
}

const char* MonthName(int month, Language language) {
  static constexpr const char* kEnglish[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static constexpr const char* kFrench[] = {"janv.", "févr.", "mars",  "avr.", "mai",  "juin",
                                            "juil.", "août",  "sept.", "oct.", "nov.", "déc."};
  return language == Language::kFrench ? kFrench[month] : kEnglish[month];
}

}  // namespace

std::string FormatClock(WallTime time, bool seconds) {
  struct tm t = Local(time);
  char buf[16];
  if (seconds) {
    snprintf(buf, sizeof(buf), "%02d:%02d:%02d", t.tm_hour, t.tm_min, t.tm_sec);
  } else {
    snprintf(buf, sizeof(buf), "%02d:%02d", t.tm_hour, t.tm_min);
  }
  return buf;
}

std::string ZoneAbbreviation(WallTime time) {
  struct tm t = Local(time);
  std::string zone = t.tm_zone != nullptr ? t.tm_zone : "";
  if (zone.empty()) {
    long offset = t.tm_gmtoff;
    char sign = offset < 0 ? '-' : '+';
    if (offset < 0) offset = -offset;
    char buf[40];
    if (offset % 3600 == 0) {
      snprintf(buf, sizeof(buf), "%c%02ld", sign, offset / 3600);
    } else {
      snprintf(buf, sizeof(buf), "%c%02ld:%02ld", sign, offset / 3600, offset / 60 % 60);
    }
    zone = buf;
  }
  if (zone.front() == '+' || zone.front() == '-') zone = "UTC" + zone;
  return zone;
}

std::string FormatClockOrDateWithZone(WallTime time, WallTime now, Language language,
                                      bool seconds) {
  return FormatClockOrDate(time, now, language, seconds) + " " + ZoneAbbreviation(time);
}

std::string FormatDateTimeWithZone(WallTime time, Language language) {
  struct tm t = Local(time);
  char buf[48];
  snprintf(buf, sizeof(buf), "%d %s %d %02d:%02d", t.tm_mday, MonthName(t.tm_mon, language),
           t.tm_year + 1900, t.tm_hour, t.tm_min);
  return std::string(buf) + " " + ZoneAbbreviation(time);
}

std::string FormatClockOrDate(WallTime time, WallTime now, Language language, bool seconds) {
  struct tm t = Local(time);
  struct tm n = Local(now);
  std::string clock = FormatClock(time, seconds);
  if (t.tm_year == n.tm_year && t.tm_yday == n.tm_yday) return clock;
  const char* month = MonthName(t.tm_mon, language);
  char buf[48];
  if (t.tm_year != n.tm_year) {
    snprintf(buf, sizeof(buf), "%d %s %d ", t.tm_mday, month, t.tm_year + 1900);
  } else {
    snprintf(buf, sizeof(buf), "%d %s ", t.tm_mday, month);
  }
  return buf + clock;
}

std::string FormatIsoLocal(WallTime time) {
  struct tm t = Local(time);
  char buf[64];  // room for any int the compiler cannot rule out
  long offset = t.tm_gmtoff;
  char sign = offset < 0 ? '-' : '+';
  if (offset < 0) offset = -offset;
  snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", t.tm_year + 1900,
           t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, sign, offset / 3600,
           (offset / 60) % 60);
  return buf;
}

}  // namespace tidegate::pages
