// Request paths that origins read in different ways, refused before any gate
// judges them (audit 15). A gate (maintenance, waiting room, bypass paths)
// matches the normalised path (proxy/path_normalizer.h) while the origin
// routes on its own reading of the target; wherever the readings can
// disagree, a spelling of a gated path could be judged as another one and
// still reach the gated handler:
// * a dot segment ("." or ".."), in any spelling: "%2e", after a separator
//   spelt "%2F", "%5C" or "\", before ";params" ("..;x" is ".." to servlet
//   containers), or with an encoded "?" or "#" before it. Origins disagree
//   on what ".." removes ("/checkout//.." is "/checkout/" to RFC 3986,
//   WHATWG and servlet readings, "/" once slashes are merged; "checkout%00"
//   is "checkout" to C-string readers) and browsers never send one: their
//   URL parser resolves dot segments first;
// * an encoded NUL ("%00"): C-string readers cut the path there;
// * a "%" not followed by two hex digits ("%u0063" is "c" to IIS and Jetty,
//   nothing to the gates).
// nginx refuses the last two with 400 too.
//
// Contract: pure function, thread-safe, no allocation; looks at the path
// only (up to the first '?' or '#'); one pass.
#pragma once

#include <string_view>

namespace tidegate::proxy {

// Null when `target`'s path reads the same to every origin as far as these
// rules go; else the reason for a 400 ("dot segment in request path", …).
const char* AmbiguousPathReason(std::string_view target);

}  // namespace tidegate::proxy
