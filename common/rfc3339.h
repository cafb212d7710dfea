// RFC 3339 time stamps: the one parser and the formatters every folder uses
// (admin API, audit log, status page, maintenance page, access and error
// logs, ctl).
//
// Contract: pure functions, thread-safe, no I/O, no locale, no timezone lock
// (formatting is calendar arithmetic, not gmtime_r, so it may run once per
// access-log line).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/time_source.h"

namespace tidegate::common {

// Parses an RFC 3339 date-time: "2026-11-23T14:30:00Z",
// "2026-11-23T14:30:00.250+01:00", lower-case "t"/"z" accepted. A date alone,
// a missing offset, or an out-of-range field (month 13, 25:00, Feb 30) is
// rejected with std::nullopt. Leap seconds (":60") are rejected, and so
// are years before 1970 or after 2200.
std::optional<TimePoint> ParseRfc3339(std::string_view text);

// "2026-11-23T14:30:00Z" (UTC, whole seconds; sub-seconds are truncated).
std::string FormatRfc3339(TimePoint time);

// "2026-11-23T14:30:00.123Z" (UTC, milliseconds), for audit records.
std::string FormatRfc3339Millis(TimePoint time);

// Appends what FormatRfc3339Millis returns to *out, without a temporary
// string (the access and error logs write one per line).
void AppendRfc3339Millis(TimePoint time, std::string* out);

}  // namespace tidegate::common
