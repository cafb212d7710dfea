// A small blocking HTTP/1.1 client for `tidegate ctl`, on libcurl: one curl
// easy handle, hence one connection, per request.
//
// Contract: blocking, for the CLI only (never on a proxy thread). Thread-safe
// (no shared state; libcurl's global init runs once, guarded). Proxy
// environment variables (http_proxy, https_proxy, ...) are ignored: the
// bearer token goes straight to the admin endpoint. Redirects are not
// followed.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace tidegate::ctl {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct HttpTarget {
  std::string host;  // "127.0.0.1", "::1", "localhost"; empty for unix
  uint16_t port = 0;
  std::string unix_path;  // for "unix:/path"
  std::string base_path;  // path prefix of the URL, without trailing '/'
  bool tls = false;       // https://
};

// "http://127.0.0.1:9901", "http://[::1]:9901/prefix", "https://127.0.0.1:9901",
// "unix:/run/tidegate-admin.sock".
bool ParseAdminUrl(const std::string& url, HttpTarget* target, std::string* error);

struct HttpRequestSpec {
  std::string method;
  std::string path_and_query;  // "/v1/audit?limit=5"
  std::optional<std::string> bearer_token;
  std::optional<std::string> json_body;
  // Bounds the connection (TCP and TLS handshake), and then how long the
  // transfer may go without progress (whole seconds, at least 1 s).
  std::chrono::milliseconds timeout{10'000};
  // https: the server certificate is verified against this PEM file of CA
  // certificates, or the system's default CAs when empty, and must name the
  // URL's host (DNS name or IP address). TLS 1.2 at least.
  std::string ca_file;
};

// kConnect: name resolution or connection failed, or timed out (nothing was
// sent). kTls: handshake, certificate verification or CA file. kIo: sending
// failed after connecting. kNoAnswer: the request went out and no complete
// answer came back (timed out waiting for it, the connection closed or was
// reset before it was complete): the server may have acted on the request.
// kProtocol: the answer is not an HTTP response, or is too large.
enum class HttpError { kNone, kConnect, kTls, kIo, kNoAnswer, kProtocol };

// Sends the request and reads the whole response (at most 64 MiB). Any HTTP
// status is a success here (the caller reads response->status). On failure
// returns false and sets *kind and *error (e.g. "Connection refused",
// "TLS: SSL certificate problem: self-signed certificate", "timed out
// waiting for the response"). A bearer token holding a control character
// (a line break would start another header) fails with kProtocol before
// anything is sent.
bool SendRequest(const HttpTarget& target, const HttpRequestSpec& spec, HttpResponse* response,
                 HttpError* kind, std::string* error);

}  // namespace tidegate::ctl
