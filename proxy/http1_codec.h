// The one adapter between tidegate and the packaged HTTP/1.x parser
// (llhttp 8.1, built from Debian's node-llhttp sources; <llhttp.h>). Only
// the codec's files (proxy/http1_*) include llhttp.h. (The integration
// tests' reader uses Debian's http_parser: a parser independent of this one.)
//
// Contract:
// * Push parser. Execute() consumes bytes and calls the Callbacks
//   synchronously, on the caller's thread. It never buffers body bytes: each
//   body piece is handed to OnBody() and forgotten.
// * Strict: on top of the parser's own checks it enforces
//   ../shared/spec/reliability-cases.md cases 1–10 and 27 for requests and
//   15/17 for responses: CL+TE, duplicate/invalid Content-Length, any
//   Transfer-Encoding other than a single final "chunked", TE on HTTP/1.0,
//   obs-fold, control bytes, non-token field names, missing/duplicate Host,
//   Host with userinfo, bad chunk sizes and terminators, size limits. Any
//   violation stops the parser for good with error() set; the caller answers
//   error().status (400/413/414/431/501 for requests, 502 for responses) and
//   closes the connection, because framing is in doubt.
// * One message at a time: after OnMessageComplete() the parser stops
//   consuming (Execute returns the bytes up to the end of that message) until
//   Reset() is called, so pipelined bytes stay in the caller's buffer.
// * Callbacks may call Pause(); Execute then returns early and a later
//   Execute() continues where it left off.
//
// Choices made by the implementation (proxy/http1_codec.cc, http1_callbacks.cc,
// with the checks in http1_head.cc and http1_validate.cc):
// * Requests: every framing or syntax violation is 400 (unknown transfer
//   codings too, not 501); CONNECT is 400 (no tunnels); an unknown method
//   token is 501; a version other than HTTP/1.0 or 1.1 is 505; two
//   Content-Length fields are 400 even when equal; Content-Length above
//   2^63-1 is 400. Request targets must be visible ASCII without '#'.
//   Absolute-form is rewritten to origin-form when its authority equals Host.
// * Limits: max_request_line counts the request line without CRLF (414);
//   max_header_bytes counts the field lines with their CRLFs (431), and
//   trailers separately; a head or a trailer section above 80 KiB is
//   refused whatever the limits say (414 while no field name is complete,
//   else 431: the cap of http_parser, the parser used before llhttp, kept).
// * Responses: every violation is 502; 101 is 502 (no upgrades); other 1xx
//   responses are skipped silently and the final response is delivered;
//   Transfer-Encoding must be exactly "chunked" in responses too.
// * An origin that sends more than Content-Length bytes: the message
//   completes at Content-Length and Execute() returns fewer bytes than it
//   was given; the bytes left over are the caller's sign that the connection
//   must not be reused (case 15).
// * FinishOnEof() with nothing received sets error 502 and keeps idle()
//   true, so the caller can tell "closed before any byte" from truncation.
//   Feed every received byte first: a paused message counts as truncated.
// * Callbacks must not call Execute() or destroy the parser; Reset() from
//   OnBody() takes effect when Execute() returns (which it then does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "proxy/http_message.h"

namespace tidegate::proxy {

struct ParseLimits {
  uint32_t max_request_line = 8192;     // → 414
  uint32_t max_header_bytes = 32768;    // total header section → 431
  uint32_t max_headers = 100;           // → 431
  uint64_t max_body_bytes = 16u << 20;  // declared or streamed request body → 413 (0 = no limit)
};

struct ParseError {
  int status = 0;      // 0 = no error; else the HTTP status to answer with
  std::string reason;  // short, for logs: "content-length with transfer-encoding"
};

class Http1Parser {
 public:
  enum class Kind { kRequest, kResponse };

  class Callbacks {
   public:
    virtual ~Callbacks() = default;
    // The head is complete and valid. Ownership of `head` passes to the callee.
    virtual void OnRequestHead(RequestHead&& head) {}
    virtual void OnResponseHead(ResponseHead&& head) {}
    // A valid `103 Early Hints` interim response (other 1xx are skipped
    // unseen); `head` is only valid during the call. The final response
    // follows through OnResponseHead.
    virtual void OnEarlyHints(const ResponseHead& head) {}
    // A piece of de-framed body (chunk framing already removed).
    virtual void OnBody(const char* data, size_t len) = 0;
    // The whole message (including trailers, which are parsed and dropped) ended.
    virtual void OnMessageComplete() = 0;
  };

  Http1Parser(Kind kind, const ParseLimits& limits, Callbacks* callbacks);
  ~Http1Parser();
  Http1Parser(const Http1Parser&) = delete;
  Http1Parser& operator=(const Http1Parser&) = delete;

  // Feeds bytes. Returns how many were consumed; fewer than `len` when a
  // message completed, the parser was paused, or an error occurred.
  size_t Execute(const char* data, size_t len);

  // Response kind only: the origin closed the connection. Completes a
  // kUntilClose body (OnMessageComplete) or sets a 502 error when the message
  // was truncated. Returns true when the message is complete.
  bool FinishOnEof();

  // Response kind only: the request was HEAD (no body follows whatever the
  // headers say). Call before the response head is parsed.
  void ExpectNoBody(bool head_request);

  void Pause();
  void Resume();
  // Prepares for the next message on the same connection.
  void Reset();

  const ParseError& error() const;
  bool failed() const { return error().status != 0; }
  // True between the head and the end of the message.
  bool in_body() const;
  // True when no byte of a new message has been consumed since Reset().
  bool idle() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidegate::proxy
