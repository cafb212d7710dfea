// The proxy's own small response bodies: error pages for statuses the proxy
// answers itself (400/404/408/413/414/431/501/502/503/504…).
//
// Contract: pure functions, thread-safe. Pages link the public status page
// (/.tidegate/status). The JSON variant is chosen when the client asked for
// JSON (Accept contains "application/json").
#pragma once

#include <string>
#include <string_view>

#include "common/http_negotiation.h"
#include "proxy/http_message.h"  // ReasonPhrase

namespace tidegate::proxy {

struct ErrorPage {
  std::string content_type;  // "text/html; charset=utf-8" or "application/json"
  std::string body;
};

// True when an Accept header value prefers JSON (common/http_negotiation.h,
// the one negotiation every local answer uses).
using common::WantsJson;

// Builds the page for `status`. `detail` is a short plain-text explanation
// (escaped on output); empty for the default text. `after_body_open` is
// markup placed as is right after the HTML page's <body> (the banner in
// force, StreamFilter::AddToErrorPage); the JSON variant ignores it.
ErrorPage MakeErrorPage(int status, bool json, std::string_view detail = {},
                        std::string_view after_body_open = {});

}  // namespace tidegate::proxy
