// Pages for the banner's tests and benches (see demo/README.md):
//   /banner-test/page   an HTML page shaped by query parameters:
//     size=N        document of N bytes (generated HTML, default 2048, max 16 MB)
//     tag=upper     the body tag is `<BODY class="x">`; tag=none: no body tag
//     enc=gzip|deflate|br|auto   Content-Encoding of the body (auto = gzip when
//                   the request accepts gzip, identity otherwise); br sends
//                   made-up bytes labelled br (only the label matters)
//     chunked=1     chunked transfer coding instead of Content-Length
//     type=T        Content-Type (default text/html; charset=utf-8)
//     cc=V          Cache-Control: V        cd=V   Content-Disposition: V
//     csp=1         Content-Security-Policy: default-src 'self'; style-src 'self'
//     etag=1        ETag "v1", Content-MD5 and Accept-Ranges: bytes
//     status=N      status code (default 200)
//
// Thread: the shop's event-loop thread.
#ifndef TIDEGATE_DEMO_TEST_PAGES_H_
#define TIDEGATE_DEMO_TEST_PAGES_H_

#include <event2/http.h>

#include <string_view>

#include "demo/shop_context.h"

namespace tidegate::demo {

// Answers `req` and returns true when `path` is one of the pages above.
bool ServeBannerTestPage(evhttp_request* req, ShopContext& ctx, std::string_view path);

}  // namespace tidegate::demo

#endif  // TIDEGATE_DEMO_TEST_PAGES_H_
