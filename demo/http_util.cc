#include "demo/http_util.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include <cctype>
#include <cstdlib>
#include <memory>

#include "demo/html.h"

namespace tidegate::demo {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

FormValues ParseForm(const std::string& encoded) {
  FormValues values;
  evkeyvalq pairs;
  pairs.tqh_first = nullptr;
  pairs.tqh_last = &pairs.tqh_first;
  // evhttp_parse_query_str decodes '+' as space and %XX escapes.
  if (evhttp_parse_query_str(encoded.c_str(), &pairs) == 0) {
    for (evkeyval* kv = pairs.tqh_first; kv != nullptr; kv = kv->next.tqe_next) {
      values[kv->key] = kv->value;
    }
  }
  evhttp_clear_headers(&pairs);
  return values;
}

}  // namespace

std::string RequestPath(evhttp_request* req) {
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  const char* path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
  if (path == nullptr || *path == '\0') return "/";
  std::unique_ptr<char, decltype(&free)> decoded(evhttp_uridecode(path, 0, nullptr), &free);
  return decoded ? std::string(decoded.get()) : std::string(path);
}

FormValues QueryParams(evhttp_request* req) {
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  const char* query = uri != nullptr ? evhttp_uri_get_query(uri) : nullptr;
  return query != nullptr ? ParseForm(query) : FormValues{};
}

std::string RequestBody(evhttp_request* req) {
  evbuffer* input = evhttp_request_get_input_buffer(req);
  std::string body(evbuffer_get_length(input), '\0');
  if (!body.empty()) evbuffer_copyout(input, body.data(), body.size());
  return body;
}

FormValues FormBody(evhttp_request* req) { return ParseForm(RequestBody(req)); }

std::optional<std::string> CookieValue(evhttp_request* req, std::string_view name) {
  evkeyvalq* headers = evhttp_request_get_input_headers(req);
  for (evkeyval* kv = headers->tqh_first; kv != nullptr; kv = kv->next.tqe_next) {
    if (evutil_ascii_strcasecmp(kv->key, "Cookie") != 0) continue;
    std::string_view rest(kv->value);
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view pair = Trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && Trim(pair.substr(0, eq)) == name) {
        return std::string(Trim(pair.substr(eq + 1)));
      }
    }
  }
  return std::nullopt;
}

bool AcceptsGzip(evhttp_request* req) {
  const char* header = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept-Encoding");
  if (header == nullptr) return false;
  std::string_view rest(header);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t semi = item.find(';');
    std::string coding = Lower(Trim(item.substr(0, semi)));
    if (coding != "gzip" && coding != "x-gzip" && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string params = Lower(item.substr(semi + 1));
    size_t q = params.find("q=");
    if (q == std::string::npos) return true;
    return std::strtod(params.c_str() + q + 2, nullptr) > 0.0;
  }
  return false;
}

std::optional<long long> ParseCount(std::string_view text, long long max) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  long long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

void AddHeader(evhttp_request* req, const char* name, const std::string& value) {
  evhttp_add_header(evhttp_request_get_output_headers(req), name, value.c_str());
}

bool AllowMethods(evhttp_request* req, int methods, const char* allow) {
  if ((evhttp_request_get_command(req) & methods) != 0) return true;
  AddHeader(req, "Allow", allow);
  SendErrorPage(req, 405, "This method is not allowed here.");
  return false;
}

void SendBody(evhttp_request* req, int code, const char* content_type, std::string_view body) {
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  evhttp_remove_header(out, "Content-Type");
  evhttp_add_header(out, "Content-Type", content_type);
  std::unique_ptr<evbuffer, decltype(&evbuffer_free)> buf(evbuffer_new(), &evbuffer_free);
  if (code == 204 || code == 304 || (code >= 100 && code < 200)) {
    // These responses end at the blank line (RFC 9110): no body, and evhttp
    // would otherwise write one anyway.
  } else if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
    // evhttp leaves Content-Length out of HEAD responses; a HEAD answer
    // should announce the length a GET would have.
    if (evhttp_find_header(out, "Content-Length") == nullptr) {
      evhttp_add_header(out, "Content-Length", std::to_string(body.size()).c_str());
    }
  } else {
    evbuffer_add(buf.get(), body.data(), body.size());
  }
  evhttp_send_reply(req, code, nullptr, buf.get());
}

void SendRedirect(evhttp_request* req, const std::string& location) {
  AddHeader(req, "Location", location);
  SendBody(req, 303, "text/html; charset=utf-8",
           "<!doctype html><html><head><title>See other</title></head><body><a href=\"" +
               EscapeHtml(location) + "\">Continue</a></body></html>\n");
}

void SendErrorPage(evhttp_request* req, int code, std::string_view message) {
  std::string body = "<h1>" + std::to_string(code) + "</h1><p>" + EscapeHtml(message) +
                     "</p><p><a href=\"/\">Back to the shop</a></p>";
  SendBody(req, code, "text/html; charset=utf-8",
           RenderPage("Error " + std::to_string(code), body));
}

}  // namespace tidegate::demo
