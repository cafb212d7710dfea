// Canonical form of a request path, so that rules matching on paths (built-in
// routes, maintenance features, waiting rooms) cannot be side-stepped with
// `//x`, `/a/../x`, `/%78` or `/x;param`.
//
// Contract: pure functions, thread-safe, no allocation beyond the result.
// The result is only used for matching; the request is forwarded unchanged.
#pragma once

#include <string>
#include <string_view>

namespace tidegate::proxy {

struct PathNormalizeOptions {
  // Drop ";params" from every segment ("/checkout;jsessionid=1" → "/checkout").
  bool strip_segment_params = true;
  // ASCII lower-case the result (for case-insensitive matching).
  bool lower_case = false;
  // Read "%2F", "%2f", "%5C", "%5c" and a raw '\' as '/' before the
  // segments are split (so "/api%2Fpayments", "/api\payments" and
  // "/x%2F..%2Fapi" normalise like "/api/payments" and "/api"): many origins
  // (and the frameworks behind them) decode these into separators.
  // [maintenance].decode_slashes.
  bool decode_slashes = false;
};

// Normalises the path of a request-target:
// * the query ("?…") and fragment ("#…") are cut off;
// * percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded,
//   other percent-encodings are kept with upper-case hex digits (so "%2f"
//   never turns into a separator); a malformed "%" escape is kept as "%25";
// * repeated slashes collapse to one;
// * "." and ".." segments are resolved (RFC 3986 §5.2.4); ".." never climbs
//   above the root;
// * the result always starts with "/".
// A target that does not start with "/" (e.g. "*") is returned as "/" + it
// after the same treatment, so it can never match a rule for "/x" by accident.
// A target already in canonical form (the usual case) is returned as is
// after one scan, without the general algorithm's allocations.
std::string NormalizePath(std::string_view target, const PathNormalizeOptions& options = {});
// The same as a view: of `target` itself when its path is already canonical
// (the usual case: no allocation, whatever its length), else of *storage,
// which receives the normalised path. Valid while both live unchanged.
std::string_view NormalizePathView(std::string_view target, std::string* storage,
                                   const PathNormalizeOptions& options = {});

namespace detail {
// The general algorithm, without the canonical-form shortcut (tests compare
// both).
std::string NormalizePathGeneral(std::string_view target, const PathNormalizeOptions& options);
}  // namespace detail

}  // namespace tidegate::proxy
