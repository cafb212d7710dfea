// Small helpers around libevent's evhttp for the demo shop's handlers:
// query/form/cookie parsing and reply shortcuts.
//
// Thread: all functions run on the shop's single event-loop thread.
// Ownership: no function takes ownership of the evhttp_request passed in,
// except the Send* functions, which complete the request (evhttp frees it
// once the reply is written; callers must not touch it afterwards).
#ifndef TIDEGATE_DEMO_HTTP_UTIL_H_
#define TIDEGATE_DEMO_HTTP_UTIL_H_

#include <event2/http.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tidegate::demo {

// Decoded key/value pairs of an application/x-www-form-urlencoded string
// (query string or POST body). Later duplicates win.
using FormValues = std::map<std::string, std::string>;

// The decoded path of the request URI ("/" when absent).
std::string RequestPath(evhttp_request* req);

// Query parameters of the request URI.
FormValues QueryParams(evhttp_request* req);

// Parses a form-encoded POST body (copies it; the input buffer is untouched).
FormValues FormBody(evhttp_request* req);

// The whole request body as a string (copied; the input buffer is untouched).
std::string RequestBody(evhttp_request* req);

// Value of cookie `name` from the request's Cookie header(s), if any.
std::optional<std::string> CookieValue(evhttp_request* req, std::string_view name);

// True when the Accept-Encoding header lists gzip (or *) with a non-zero q.
bool AcceptsGzip(evhttp_request* req);

// Parses a non-negative decimal integer; nullopt on anything else or above max.
std::optional<long long> ParseCount(std::string_view text, long long max);

// Adds (appends) one response header.
void AddHeader(evhttp_request* req, const char* name, const std::string& value);

// True when the request method is in `methods` (an EVHTTP_REQ_* mask);
// otherwise sends 405 with `Allow: allow` and returns false.
bool AllowMethods(evhttp_request* req, int methods, const char* allow);

// Sends a complete response with the given status, content type and body.
void SendBody(evhttp_request* req, int code, const char* content_type, std::string_view body);

// Sends a 303 See Other to `location` with a tiny HTML body.
void SendRedirect(evhttp_request* req, const std::string& location);

// Sends an HTML error page (404, 405, 400, ...).
void SendErrorPage(evhttp_request* req, int code, std::string_view message);

}  // namespace tidegate::demo

#endif  // TIDEGATE_DEMO_HTTP_UTIL_H_
