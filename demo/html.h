// HTML helpers for the demo shop's pages: the common layout (escaping is
// pages::EscapeHtml, re-exported here for the shop's pages).
//
// Thread: pure functions, safe anywhere. No ownership transfer.
#ifndef TIDEGATE_DEMO_HTML_H_
#define TIDEGATE_DEMO_HTML_H_

#include <string>
#include <string_view>

#include "pages/html_escape.h"

namespace tidegate::demo {

using pages::EscapeHtml;

// Wraps `body_html` (already safe HTML) in the shop's layout: doctype, head
// with title and stylesheet, `<body class="shop">`, header with navigation and
// footer. Every page has exactly one `<body ...>` tag, where the proxy's
// banner is inserted later.
std::string RenderPage(std::string_view title, std::string_view body_html);

// Formats a price in cents as "12.34".
std::string FormatPrice(long long cents);

}  // namespace tidegate::demo

#endif  // TIDEGATE_DEMO_HTML_H_
