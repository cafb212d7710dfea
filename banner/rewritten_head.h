// The head fields of a response whose body tidegate rewrote — the banner
// inserted (banner/banner_filter.cc) or the body gzipped here
// (banner/gzip_response.cc) — fixed in one pass over the fields:
//
//   - Content-MD5 and Accept-Ranges go (they describe the origin's bytes),
//     and so does every field named in `drop`;
//   - a strong ETag is weakened (`"x"` -> `W/"x"`): the bytes differ, the
//     meaning does not;
//   - Vary gains `vary_token` unless a Vary field already lists it or `*`
//     (appended to the first Vary field, or a new `Vary` field).
//
// Returns whether a Cache-Control field is present (the banner's caller
// makes the page private: proxy::MakeCachePrivate).
//
// Contract: pure function of `headers`, thread-safe; allocates only for
// the values it changes.
#pragma once

#include <initializer_list>
#include <string_view>

#include "proxy/http_message.h"

namespace tidegate::banner {

bool FixRewrittenHead(proxy::HeaderList& headers, std::string_view vary_token,
                      std::initializer_list<std::string_view> drop);

}  // namespace tidegate::banner
