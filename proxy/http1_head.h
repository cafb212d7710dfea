// Head-level checks and derived fields of the HTTP/1.x codec adapter
// (proxy/http1_codec.h). Called once per message, when llhttp reports
// the end of the head, on the thread that runs the parser.
//
// Both functions take a head whose fields were collected exactly as sent
// (names checked as tokens, values with leading whitespace removed), trim
// trailing whitespace from values, enforce the framing rules of
// ../shared/spec/reliability-cases.md and fill the derived fields
// (framing, content_length, keep_alive, expect_continue, host). On failure
// they return the status to answer (requests: 400/413/505; responses: 502)
// and leave the head half-filled; the caller discards it.
#pragma once

#include "proxy/http1_codec.h"
#include "proxy/http_message.h"

namespace tidegate::proxy::http1 {

// `http_major` is the major version the parser read; head.version_minor the
// minor one. Request rules:
// * version HTTP/1.0 or HTTP/1.1, else 505;
// * Transfer-Encoding: exactly one field whose value is exactly "chunked"
//   (any case), never with Content-Length, never on HTTP/1.0 — else 400
//   (unknown codings get 400 too, not 501: simpler and just as safe);
// * Content-Length: one field, 1*DIGIT <= 2^63-1; two fields are 400 even
//   when equal; a declared length above limits.max_body_bytes is 413;
// * Host: exactly one on HTTP/1.1, at most one on HTTP/1.0, non-empty,
//   authority characters only, no userinfo — else 400;
// * target: CONNECT is 400 (no tunnels); "*" only with OPTIONS; origin-form
//   starts with '/' and holds visible ASCII except '#'; absolute-form
//   http(s)://authority/... is accepted only when authority equals Host
//   (case-insensitive) and is rewritten to origin-form; anything else 400.
ParseError FinishRequestHead(int http_major, const ParseLimits& limits, RequestHead& head);

// Response rules: HTTP/1.0 or 1.1; status 100–599 except 101 (no upgrades);
// reason without control bytes; the same Transfer-Encoding/Content-Length
// strictness as requests (every violation is 502). Framing per RFC 9112
// §6.3: `no_body` (HEAD request), 1xx, 204 and 304 have none; else chunked,
// Content-Length, or until close (then keep_alive is false). Sets has_date
// and has_set_cookie when a Date or Set-Cookie field is present (found in
// the same pass).
ParseError FinishResponseHead(int http_major, bool no_body, ResponseHead& head);

// The request-target grammar http_parser 2.9 (non-strict) applied while it
// parsed a request line: origin-form or '*' (then any URL bytes), or
// ALPHA+ "://" authority-bytes [ "/" path | "?" query | "#" fragment ], where
// URL bytes are 0x21-0x7e except '#' and '?' (which switch part), HTAB, FF
// and 0x80-0xff. llhttp accepts more (e.g. "ftp://" alone); the adapter
// refuses what http_parser refused, as early, so the answer stays the same.
bool IsHttpParserUrl(std::string_view target);

// True when a response with this status never has a body (1xx, 204, 304).
bool StatusHasNoBody(int status);

}  // namespace tidegate::proxy::http1
