// Writing HTTP/1.1 body framing into an output buffer: chunked encoding
// (RFC 9112 §7.1, no chunk extensions, no trailers) and the interim
// "100 Continue" response. Used by Stream for both directions (request body
// to the origin, response body to the client).
//
// Contract: plain functions on a caller-owned evbuffer; no allocation beyond
// the buffer's own growth; any thread (the buffer must not be shared).
#pragma once

#include <event2/buffer.h>

#include <cstddef>

namespace tidegate::proxy {

// Appends `len` body bytes from `data` to `out`: as one chunk (size line,
// data, CRLF) when `chunked`, as they are otherwise. `len` must be > 0 (a
// zero-size chunk is the last chunk: use AddLastChunk()).
void AddBody(evbuffer* out, const char* data, size_t len, bool chunked);

// Moves every byte of `body` (non-empty) to the end of `out`, as one chunk
// when `chunked`. `body` is left empty.
void MoveBody(evbuffer* out, evbuffer* body, bool chunked);

// Appends the last chunk of a chunked body, without trailers: "0\r\n\r\n".
void AddLastChunk(evbuffer* out);

// Appends the interim response promised to an `Expect: 100-continue`
// request: "HTTP/1.1 100 Continue\r\n\r\n".
void AddContinue(evbuffer* out);

}  // namespace tidegate::proxy
