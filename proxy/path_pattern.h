// The one path-matching policy of every merchant-written path pattern
// (maintenance [features] match.path, waiting-room [rooms] match and
// bypass_paths, [banner].match): the pattern is an RE2 regular expression, matched
// unanchored against proxy::NormalizePath(target) (the default options) and
// case-insensitively, so "/Checkout", "/CHECKOUT", "//checkout",
// "/%63heckout", "/a/../checkout" and "/checkout;x=1" all match "^/checkout".
// Case is handled by RE2 (not by lower-casing the path) so that a pattern
// written with capitals, or with an escape such as "%2F", still matches.
//
// Contract: pure function, thread-safe; callers may add options of their own
// (e.g. max_mem) to the returned value.
#pragma once

#include <re2/re2.h>

namespace tidegate::proxy {

RE2::Options PathPatternOptions();

}  // namespace tidegate::proxy
