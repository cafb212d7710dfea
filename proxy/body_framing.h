// Writing HTTP/1.1 body framing into an output buffer: chunked encoding
// (RFC 9112 §7.1, no chunk extensions, no trailers) and the interim
// "100 Continue" response. Used by Stream for both directions (request body
// to the origin, response body to the client).
//
// Contract: plain functions on a caller-owned evbuffer; no allocation beyond
// the buffer's own growth; any thread (the buffer must not be shared).
#pragma once

#include <event2/buffer.h>
#include <sys/uio.h>

#include <cstddef>

namespace tidegate::proxy {

// Appends `len` body bytes from `data` to `out`: as one chunk (size line,
// data, CRLF) when `chunked`, as they are otherwise. `len` must be > 0 (a
// zero-size chunk is the last chunk: use AddLastChunk()). Returns the bytes
// appended (`len` plus the framing).
size_t AddBody(evbuffer* out, const char* data, size_t len, bool chunked);

// Room for a chunk size line: 16 hex digits and CRLF.
inline constexpr size_t kChunkLineMax = 18;

// Writes the size line of a chunk of `len` (> 0) bytes ("%zx\r\n") to
// `line` (kChunkLineMax bytes of room); returns its length.
size_t FormatChunkLine(size_t len, char* line);

// The same framed body as AddBody, as writev pieces that point at `data`
// (not copied): [size line in `line`], data, [CRLF] when `chunked`, data
// alone otherwise. `pieces` has room for 3; returns how many were filled.
// `line` (kChunkLineMax bytes) must live as long as the pieces.
int FrameBody(const char* data, size_t len, bool chunked, char* line, iovec* pieces);

// Moves every byte of `body` (non-empty) to the end of `out`, as one chunk
// when `chunked`. `body` is left empty. Returns the bytes appended.
size_t MoveBody(evbuffer* out, evbuffer* body, bool chunked);

// Appends the last chunk of a chunked body, without trailers: "0\r\n\r\n".
void AddLastChunk(evbuffer* out);

// Appends the interim response promised to an `Expect: 100-continue`
// request: "HTTP/1.1 100 Continue\r\n\r\n".
void AddContinue(evbuffer* out);

}  // namespace tidegate::proxy
