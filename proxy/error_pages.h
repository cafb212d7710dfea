// The proxy's own small response bodies: error pages for statuses the proxy
// answers itself (400/404/408/413/414/431/501/502/503/504…).
//
// Contract: pure functions, thread-safe. HTML pages are in the shopper's
// language (English or French, pages/language.h; the caller picks it from
// Accept-Language and [site].default_language) and link the shop's status
// page ([site].status_page_url, else /.tidegate/status). The JSON variant,
// for clients that asked for JSON (Accept contains "application/json"), is
// in English and names the status page the same way.
#pragma once

#include <string>
#include <string_view>

#include "common/http_negotiation.h"
#include "pages/incident_text.h"
#include "pages/language.h"
#include "proxy/http_message.h"  // ReasonPhrase

namespace tidegate::proxy {

struct ErrorPage {
  std::string content_type;  // "text/html; charset=utf-8" or "application/json"
  std::string body;
};

// True when an Accept header value prefers JSON (common/http_negotiation.h,
// the one negotiation every local answer uses).
using common::WantsJson;

struct ErrorPageOptions {
  // A short plain-text explanation (escaped on output); empty for the
  // default text of the status, in `language`.
  std::string_view detail;
  pages::Language language = pages::Language::kEnglish;
  // The status page linked (href, escaped): [site].status_page_url or the
  // built-in page.
  std::string_view status_link = pages::kBuiltinStatusPath;
  // Markup placed as is right after the HTML page's <body> (the banner in
  // force, StreamFilter::OnErrorReply); the JSON variant ignores it.
  std::string_view after_body_open;
};

// Builds the page for `status`.
ErrorPage MakeErrorPage(int status, bool json, const ErrorPageOptions& options = {});

}  // namespace tidegate::proxy
