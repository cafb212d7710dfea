// Helpers for tests and benches (see demo/README.md):
//   /echo             any method: text/plain copy of the request line, headers
//                     (CRLF-separated, as received) and body
//   /bytes?n=N        N bytes of HTML with Content-Length
//   /chunked?n=N      N bytes of HTML with chunked encoding (&piece=P bytes per chunk)
//   /slow?ms=N        a small HTML page after N ms (a timer; the loop never blocks)
//   /status?code=N    an empty-ish response with status N (200..599)
//   /bench/1k.html, /bench/24k.html   fixed HTML pages of exactly 1024 / 24576 bytes
//
// Thread: handlers run on the shop's event-loop thread.
// Ownership: each handler completes `req` now or hands it to ctx.pending.
#ifndef TIDEGATE_DEMO_TEST_ROUTES_H_
#define TIDEGATE_DEMO_TEST_ROUTES_H_

#include <event2/http.h>

#include <cstdint>
#include <string>

#include "demo/shop_context.h"

namespace tidegate::demo {

// Limits on the helpers' parameters.
constexpr long long kMaxGeneratedBytes = 1LL << 32;  // 4 GiB
constexpr long long kMaxSlowMs = 10 * 60 * 1000;     // 10 minutes

// Appends bytes [offset, offset + length) of the generated HTML document of
// `total` bytes: "<!doctype html>…<body>\n", filler lines, "</body></html>\n".
// A document too short for both ends is the truncated concatenation of them.
void AppendGeneratedHtml(std::string* out, uint64_t total, uint64_t offset, size_t length);

// The whole generated document of `total` bytes (for fixed bench pages).
std::string GeneratedHtml(size_t total);

void ServeEcho(evhttp_request* req, ShopContext& ctx);
void ServeBytes(evhttp_request* req, ShopContext& ctx);
void ServeChunked(evhttp_request* req, ShopContext& ctx);
void ServeSlow(evhttp_request* req, ShopContext& ctx);
void ServeStatus(evhttp_request* req, ShopContext& ctx);
void ServeBenchPage(evhttp_request* req, const std::string& page);

}  // namespace tidegate::demo

#endif  // TIDEGATE_DEMO_TEST_ROUTES_H_
