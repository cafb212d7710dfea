// Internal to config/: parsers for the value syntaxes of tidegate's
// configuration. Pure functions, thread-safe, no I/O, no name resolution.
//
// Each returns the value, or std::nullopt with a merchant-readable reason in
// *error (the caller adds file, line, column and key).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace tidegate::config {

// A whole number followed, without a space, by one unit: "ms", "s", "m", "h".
// "250ms", "30s", "5m", "1h". Rejected: bare numbers ("5"), signs ("-1s"),
// spaces ("5 m"), fractions ("1.5s"), compounds ("1m30s"), other units.
std::optional<Duration> ParseDuration(std::string_view text, std::string* error);

// A delay an operator types for a time to come (`tidegate ctl --next-update
// 2d`, the admin API's "next_update"): a ParseDuration() value, or a whole
// number of days "Nd" (configuration durations stay without days).
std::optional<Duration> ParseDelay(std::string_view text, std::string* error);

// The way back, in the largest whole unit: "250ms", "30s", "5m", "1h"; zero
// is "0s". ParseDuration(FormatDuration(d)) == d.
std::string FormatDuration(Duration d);

// A byte count: a whole number, optionally followed by a unit "B", "KB", "MB",
// "GB" (or "KiB", "MiB", "GiB"; case-insensitive). Units are binary, as in
// nginx: "16MB" = 16 * 1024 * 1024 bytes.
std::optional<uint64_t> ParseSize(std::string_view text, std::string* error);

struct AddressRules {
  bool allow_unix = false;        // "unix:/absolute/path"
  bool allow_port_zero = false;   // [admin].listen only: the kernel picks, the log says which
  bool allow_host_names = false;  // origins only: resolved off the workers' threads
};

// "IPv4:port", "[IPv6]:port" or, when allowed, "unix:/path" or
// "host.name:port". Ports are 1-65535, except where allow_port_zero lets
// the kernel pick one (the admin listener: its start-up log line names the
// port it got, for test harnesses); shoppers could not find a proxy
// listener on a port the kernel picks. Config loading never resolves a name:
// origins' names are resolved by proxy/ on the control thread and a resolver
// thread (proxy/upstream_monitor.h), never on a worker.
std::optional<Address> ParseAddress(std::string_view text, const AddressRules& rules,
                                    std::string* error);

// A host as a request's Host header carries it, without the port:
// "shop.example", "10.0.0.1" or, with allow_ip6_literal, "[2001:db8::1]"
// (rules compare the Host header without its port, brackets kept). Returns
// it lower-cased without one trailing dot ("Shop.Example." ->
// "shop.example"), or std::nullopt with the reason in *error for a value no
// valid Host header can equal: a port ("host takes no port: ..."), an empty
// label ("shop..example", ".shop"), unbalanced brackets, a bare IPv6 address,
// characters outside letters, digits, '-', '_' and '.', more than 253 bytes.
std::optional<std::string> ParseHostWithoutPort(std::string_view text, bool allow_ip6_literal,
                                                std::string* error);

// True when `text` is 1..64 characters of [A-Za-z0-9_-]: the names of rooms,
// features, key ids and admin tokens end up in cookie names, Redis keys and
// URL paths.
bool IsValidName(std::string_view text);

// An HTTP token (RFC 9110 tchar), for methods and header names.
bool IsHttpToken(std::string_view text);

// A calendar time with a UTC offset (a TOML offset date-time) as a
// system_clock time. Years outside 1970..2200 are refused ("year must be
// between 1970 and 2200"): system_clock counts nanoseconds in 64 bits and
// overflows past 2262, and no maintenance window or event lies that far.
struct OffsetDateTime {
  int year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0, nanosecond = 0;
  int offset_minutes = 0;
};
std::optional<std::chrono::system_clock::time_point> ToTimePoint(const OffsetDateTime& t,
                                                                 std::string* error);

}  // namespace tidegate::config
