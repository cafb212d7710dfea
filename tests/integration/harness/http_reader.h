// Reads one HTTP/1.x message (response or request) from a Connection with
// Debian's http_parser, so tests never hand-parse framing.
//
// Contract:
// * ReadResponse()/ReadRequest() parse exactly one message from the front
//   of conn.buffer(), reading more bytes as needed until `timeout`. The
//   message's bytes are consumed; any following bytes (a pipelined message)
//   stay in conn.buffer().
// * A body delimited by connection close completes when the peer closes.
// * On failure (timeout, close before the end, parse error) ok = false and
//   `error` says why, with the bytes received so far (escaped) — good enough
//   to paste into a bug report.
// * Thread: whoever owns the Connection.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/harness/connection.h"

namespace tidegate::itest {

struct HttpMessage {
  bool ok = false;
  std::string error;
  // Request line (requests only).
  std::string method;
  std::string url;
  // Status (responses only).
  int status = 0;
  int http_major = 0;
  int http_minor = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, as received
  std::string body;                                          // de-chunked
  std::string raw;                                           // the exact bytes of this message
  bool keep_alive = false;                                   // http_should_keep_alive()
  bool chunked = false;                                      // the body was chunked on the wire
  bool ended_by_close = false;

  // First value of a header (case-insensitive name); nullopt when absent.
  std::optional<std::string> Header(std::string_view name) const;
  int HeaderCount(std::string_view name) const;
  bool HasHeader(std::string_view name) const { return HeaderCount(name) > 0; }
};

struct ReadOptions {
  milliseconds timeout{5000};
  bool head_request = false;  // the response answers a HEAD: no body
  bool skip_interim = true;   // responses: skip 1xx interim responses
};

// Shorthands: ReadResponse(conn, Within(milliseconds(2000))).
ReadOptions Within(milliseconds timeout);
ReadOptions KeepInterim();
HttpMessage FailedMessage(std::string error);

HttpMessage ReadResponse(Connection& conn, const ReadOptions& options = {});
HttpMessage ReadRequest(Connection& conn, milliseconds timeout = milliseconds(5000));

// Makes bytes printable for failure messages: \r \n \0 and non-ASCII escaped,
// truncated to `max` bytes.
std::string Printable(std::string_view bytes, size_t max = 2000);

// Counts non-overlapping occurrences of `needle` in `haystack`.
int CountOccurrences(std::string_view haystack, std::string_view needle);

}  // namespace tidegate::itest
