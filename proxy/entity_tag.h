// Conditional requests on the proxy's own pages (RFC 9110 §13.1.2): does
// an If-None-Match field list the page's entity-tag?
//
// Contract: pure functions, any thread. Weak comparison (a W/ prefix on
// either side is ignored), as If-None-Match requires; "*" matches any
// current representation. An element that is not an entity-tag (no
// quotes, an unterminated quote) matches nothing, and the rest of the list
// is still read.
#pragma once

#include <string_view>

#include "proxy/http_message.h"

namespace tidegate::proxy {

// True when the list `field_value` names `etag` (a quoted entity-tag such as
// "\"tg-1a2b\"" or "W/\"x\"").
bool IfNoneMatchListsTag(std::string_view field_value, std::string_view etag);

// The same over every If-None-Match field of `headers` (a list may be split
// over several fields). False when there is none.
bool IfNoneMatchHits(const HeaderList& headers, std::string_view etag);

}  // namespace tidegate::proxy
