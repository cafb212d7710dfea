// Whether a client accepts a gzip-coded response (RFC 9110 §12.5.3), for the
// banner's `compressed = "compress"` mode: only then does the banner ask the
// origin for identity and gzip the response itself.
//
// Rules: every Accept-Encoding field of the request is read, as one list.
// `gzip` or `x-gzip` with a q-value above 0 (or none) → yes; listed only with
// q=0 → no, whatever `*` says; otherwise `*` with a q-value above 0 → yes.
// No field (or an empty one) → no: such a client gets identity from any
// origin, and so it does from tidegate. A malformed q-value counts as 1
// (as lenient servers do); only an explicit zero refuses.
//
// Contract: pure function, thread-safe, no allocation.
#pragma once

#include <string_view>

#include "proxy/http_message.h"

namespace tidegate::banner {

bool AcceptsGzip(const proxy::HeaderList& request_headers);
// The same rules on one field value (tests, callers with a single value).
// Returns 1 = gzip accepted, 0 = refused (q=0), -1 = not mentioned; `star`
// is set to the answer for `*` in the same way.
int GzipInAcceptEncoding(std::string_view value, int* star);

}  // namespace tidegate::banner
