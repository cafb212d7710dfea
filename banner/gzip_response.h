// Which identity responses the banner gzips itself in `compressed =
// "compress"` mode (docs/banner.md, "Compression"), and the head fields of a
// response it gzips.
//
// The banner asks the origin for identity on behalf of a client that
// accepts gzip (banner/accept_encoding.h); so that the client loses nothing,
// every compressible identity response to such a request is gzipped here —
// the bannered page and the others (a 404 page, JSON, a script) alike.
//
// Compressible: text/* (but not text/event-stream, which must not wait in
// a coder), application/json, application/javascript, application/
// x-javascript, application/ecmascript, application/xml, and every
// `+json` / `+xml` type (image/svg+xml, application/ld+json, application/
// manifest+json…). Never images, fonts, archives, media, or a body that
// already has a Content-Encoding.
//
// Contract: pure functions, thread-safe, no allocation except in
// MarkGzipped (header values).
#pragma once

#include <cstddef>
#include <string_view>

#include "proxy/http_message.h"

namespace tidegate::banner {

// A body whose Content-Length is at most this is held and gzipped in one
// piece with an exact Content-Length; a longer one, and one of unknown
// length (chunked or close-delimited: it may be a feed or a page flushed
// early, which must not wait), streams through zlib.
inline constexpr size_t kGzipWholeBytes = 128 * 1024;
// Bodies announced shorter than this are not worth a gzip header and
// trailer (20 bytes) and pass as they are.
inline constexpr size_t kGzipMinBytes = 128;

enum class GzipPlan {
  kNone,    // send it as the origin did
  kWhole,   // hold it (a Content-Length up to kGzipWholeBytes) and gzip it in one piece
  kStream,  // gzip it piece by piece, chunked (close-delimited to HTTP/1.0)
};

bool IsCompressibleType(std::string_view content_type);

// The plan for an identity response to a request whose client accepts gzip
// and whose origin was asked for identity: kNone unless the status is 200
// or 4xx/5xx, there is a body, no Content-Encoding (or identity), no
// Content-Range, no `Cache-Control: no-transform`, a compressible
// Content-Type and not a Content-Length under kGzipMinBytes. kWhole for a
// Content-Length up to kGzipWholeBytes, kStream otherwise; but an HTTP/1.0
// client does not get a Content-Length page past kGzipWholeBytes gzipped
// (it would become close-delimited and hide a truncation).
GzipPlan PlanGzip(const proxy::ResponseHead& head, bool client_http10);

// The head of a response gzipped here: Content-Encoding: gzip, a strong
// ETag weakened, Content-MD5 and Accept-Ranges removed (they describe the
// origin's bytes), Vary gains Accept-Encoding (a `Vary: *` is left alone).
// Framing (Content-Length) is the caller's, through head.framing.
void MarkGzipped(proxy::HeaderList& headers);

}  // namespace tidegate::banner
