// Times shown to shoppers ("Next update at 14:30 CET", "back on 24 Nov at
// 09:00"), in the shop's time zone ([site].time_zone, applied process-wide
// with TZ at start-up by app/main.cc) and language.
//
// Contract: thread-safe (localtime_r), no I/O after start-up.
#pragma once

#include <chrono>
#include <string>

#include "pages/language.h"

namespace tidegate::pages {

using WallTime = std::chrono::system_clock::time_point;

// "14:30" (both languages use the 24-hour clock); "14:30:18" with
// `seconds`.
std::string FormatClock(WallTime time, bool seconds = false);
// Same day as `now` → "14:30"; otherwise "24 Nov 14:30" / "24 nov. 14:30",
// with the year when it is not `now`'s ("1 Jan 2099 01:00": a promise far
// out must not read as next month's). `seconds`: "14:30:18" in each form.
std::string FormatClockOrDate(WallTime time, WallTime now, Language language, bool seconds = false);
// The zone's abbreviation in force at `time` ("CET", "CEST", "UTC"); a zone
// without letters ("-03") is written "UTC-03".
std::string ZoneAbbreviation(WallTime time);
// FormatClockOrDate followed by the zone: "14:30 CET", "24 Nov 14:30 CET"
// (a shopper abroad must not read the shop's clock as their own).
std::string FormatClockOrDateWithZone(WallTime time, WallTime now, Language language,
                                      bool seconds = false);
// "23 Nov 2026 14:30 CET" / "23 nov. 2026 14:30 CET": past incidents.
std::string FormatDateTimeWithZone(WallTime time, Language language);
// "2026-11-23T14:30:00+01:00": machine-readable, for <time datetime=…>.
std::string FormatIsoLocal(WallTime time);

}  // namespace tidegate::pages
