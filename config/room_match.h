// How a room's `match` patterns are read before RE2: shared by the loader's
// checks (config/cross_checks.cc) and the rooms' gate (queue/waiting_room.h),
// so that what the check calls certain is what the gate does.
//
// Contract: pure functions, thread-safe, no allocation beyond the result.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tidegate::config {

// The path prefix a room `match` pattern stands for when it is "^" followed
// by plain path characters only (letters, digits, '/', '_', '-'): the gate
// then compares that prefix case-insensitively instead of running RE2
// (CompiledRoom::match_prefixes). Nullopt when the pattern needs RE2.
std::optional<std::string> LiteralPrefixPattern(std::string_view pattern);

}  // namespace tidegate::config
