// Content negotiation for the answers tidegate writes itself (error pages,
// the queue page, the maintenance page): HTML for browsers, JSON for API
// clients.
//
// Contract: pure functions, thread-safe, no allocation.
#pragma once

#include <string>
#include <string_view>

namespace tidegate::common {

// True when an Accept header value prefers JSON: it names application/json
// with a q-value above zero, and text/html not at all, with a lower q-value,
// or with the same one but after it (a browser lists text/html first, at
// q=1). Media types compare case-insensitively; the first mention of each
// counts; wildcards (*/*, text/*) are not a preference for either.
bool WantsJson(std::string_view accept);

// The q-value of a list element's parameters ("q=0.5;level=1" → 500), in
// thousandths: 1000 when there is none; read leniently (at most three
// decimals, capped at 1000).
int Quality(std::string_view params);

// The parameters after a list element's first ';' (Accept, Accept-Encoding:
// "q=0.5;level=1"): false when they carry an explicit zero q-value ("q=0",
// "Q=0.", "q = 0.000"; RFC 9110 §12.4.2 "not acceptable"), true otherwise.
bool QualityAboveZero(std::string_view params);
// The same for a header that may be missing (HeaderList::Find): false when
// `accept_header` is null.
bool WantsJson(const std::string* accept_header);

}  // namespace tidegate::common
