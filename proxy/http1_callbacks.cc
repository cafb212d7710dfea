// What llhttp calls while Http1Parser::Impl::Execute() runs it: the
// fields are collected here, the per-piece checks (field-name tokens, sizes,
// counts, body limit) run at once, the head-level checks of http1_head.h run
// at on_headers_complete, and the framing text between body pieces is fed to
// the FramingCheck before each body piece is handed on.
#include <string_view>

#include "common/http_methods.h"
#include "proxy/http1_head.h"
#include "proxy/http1_parser_impl.h"

namespace tidegate::proxy {

// http_parser refused a head (start line and fields) or a trailer section
// longer than 80 KiB: 414 before the first field name was complete, else 431.
// llhttp has no such cap; kept so that limits configured above it behave as
// before. (Trailers count from the end of the last chunk's size line on:
// up to that line's length more than http_parser counted.)
constexpr uint64_t kMaxHeadText = 80 * 1024;

bool Http1Parser::Impl::CheckFraming(const char* begin, const char* end) {
  if (begin >= end) return true;
  const bool counted = !framing_check.head_done() || trailers;
  switch (framing_check.Feed(begin, static_cast<size_t>(end - begin))) {
    case FramingCheck::Result::kOk:
      // Head bytes reach the check only up to the pause after the head.
      if (counted && (head_text += static_cast<uint64_t>(end - begin)) > kMaxHeadText) {
        // http_parser answered 414 while no field name was complete: the
        // cap fell before the first field's ':' (or there was no field).
        const uint64_t line = framing_check.start_line_length();
        const std::vector<Header>& fields = headers().fields();
        const bool in_start_line =
            !trailers &&
            (line == 0 || fields.empty() || line + 2 + fields[0].name.size() + 1 > kMaxHeadText);
        SetError(in_start_line ? 414 : 431, "head larger than 80 KiB");
        return false;
      }
      return true;
    case FramingCheck::Result::kBadLineEnding:
      SetError(400, "bare CR or LF, or CR without LF");
      return false;
    case FramingCheck::Result::kObsFold:
      SetError(400, "obs-fold or whitespace before a field name");
      return false;
    case FramingCheck::Result::kStartLineTooLong:
      SetError(414, "start line too long");
      return false;
    case FramingCheck::Result::kHeadersTooLarge:
      SetError(431, "header section too large");
      return false;
    case FramingCheck::Result::kBadChunkLine:
      SetError(400, "bad chunk framing");
      return false;
    case FramingCheck::Result::kChunkLineTooLong:
      SetError(400, "chunk extension too long");
      return false;
    case FramingCheck::Result::kTrailersTooLarge:
      SetError(431, "trailer section too large");
      return false;
  }
  return false;
}

namespace {

// The methods http_parser 2.9 knew, which are llhttp's HTTP methods 0..33
// (same numbers): common/http_methods.h, the list the configuration checks
// rule methods against. llhttp also parses RTSP methods, PRI and others;
// those stay unknown (501), as they were.
using common::kLastKnownMethod;

// http_parser refused a method at the first byte that left its table of
// method names: a prefix of none of them.
bool IsKnownMethodPrefix(std::string_view prefix) {
  for (int m = 0; m <= kLastKnownMethod; ++m) {
    std::string_view name = llhttp_method_name(static_cast<llhttp_method_t>(m));
    if (name.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

}  // namespace

// `at` is where llhttp stopped, `end` the end of the bytes it was given.
void Http1Parser::Impl::MapParserError(llhttp_errno_t err, const char* at, const char* end) {
  if (err == HPE_INVALID_METHOD && is_request()) {
    // The method bytes llhttp had accepted (a span not yet reported ends at
    // `at`): if http_parser would have stopped on one of them, that byte
    // was a token character, hence 501; else the byte at `at` decides
    // between an unknown method token (501) and no method at all (400).
    // llhttp reports the method span (and completes it) before it checks
    // the byte after it; a span cut by the end of the input was reported
    // up to there and goes on at `cursor`.
    std::string prefix(method_seen, method_len);
    if (!method_complete) {
      const char* p = cursor;
      if (method_len == 0) {
        while (p < at && (*p == '\r' || *p == '\n')) ++p;
      }
      prefix.append(p, at);
    }
    if (IsKnownMethodPrefix(prefix) &&
        (at >= end || !http1::IsTokenChar(static_cast<unsigned char>(*at)))) {
      SetError(400, "malformed request line");  // not a method token at all
    } else {
      SetError(501, "unknown method");  // a token, but not a method we know
    }
    return;
  }
  const char* reason = llhttp_get_error_reason(&parser);
  SetError(400, reason != nullptr ? reason : llhttp_errno_name(err));
}

int Http1Parser::Impl::OnMethodComplete(llhttp_t* p) {
  Self(p)->method_complete = true;
  if (p->method <= kLastKnownMethod) return 0;
  Self(p)->SetError(501, "unknown method");  // see kLastKnownMethod
  return -1;
}

int Http1Parser::Impl::OnMethod(llhttp_t* p, const char* at, size_t len) {
  Impl* self = Self(p);
  for (size_t i = 0; i < len && self->method_len < sizeof(self->method_seen); ++i) {
    self->method_seen[self->method_len++] = at[i];
  }
  return 0;
}

int Http1Parser::Impl::OnUrl(llhttp_t* p, const char* at, size_t len) {
  Impl* self = Self(p);
  if (p->method == HTTP_CONNECT) {
    self->SetError(400, "CONNECT is not supported");
    return -1;
  }
  if (self->request.target.size() + len > self->limits.max_request_line) {
    self->SetError(414, "request target too long");
    return -1;
  }
  self->request.target.append(at, len);
  return 0;
}

int Http1Parser::Impl::OnUrlComplete(llhttp_t* p) {
  Impl* self = Self(p);
  if (http1::IsHttpParserUrl(self->request.target)) return 0;
  self->SetError(400, "invalid URL");
  return -1;
}

int Http1Parser::Impl::OnStatus(llhttp_t* p, const char* at, size_t len) {
  Impl* self = Self(p);
  if (self->response.reason.size() + len > self->limits.max_request_line) {
    self->SetError(502, "status line too long");
    return -1;
  }
  self->response.reason.append(at, len);
  return 0;
}

int Http1Parser::Impl::OnHeaderField(llhttp_t* p, const char* at, size_t len) {
  // llhttp reports a span that starts at the very end of the input as an
  // empty piece: nothing of a name yet.
  if (len == 0) return 0;
  Impl* self = Self(p);
  if (!http1::IsToken(std::string_view(at, len))) {
    self->SetError(400, "invalid character in field name");
    return -1;
  }
  self->header_bytes += len;
  if (self->header_bytes > self->limits.max_header_bytes) {
    self->SetError(431, self->trailers ? "trailer section too large" : "header section too large");
    return -1;
  }
  if (!self->field_open) {
    self->field_open = true;
    if (++self->header_count > self->limits.max_headers) {
      self->SetError(431, self->trailers ? "too many trailer fields" : "too many header fields");
      return -1;
    }
    if (self->trailers) return 0;
    // A request of a later HTTP/1 minor version is read as HTTP/1.1 (RFC 9110
    // §2.5); an origin must answer in a version it was asked in.
    if (self->header_count == 1 &&
        (p->http_major != 1 || (p->http_minor > 1 && !self->is_request()))) {
      self->SetError(505, "unsupported HTTP version");
      return -1;
    }
    HeaderList& headers = self->headers();
    if (headers.mutable_fields().capacity() == 0) headers.mutable_fields().reserve(16);
    // Pieces go through ExtendLast*: a name or value longer than the inline
    // buffer takes a spare string from the thread's pool, not malloc.
    headers.AppendEmpty();
    headers.ExtendLastName({at, len});
    return 0;
  }
  if (!self->trailers) self->headers().ExtendLastName({at, len});
  return 0;
}

// llhttp recognises Content-Length, Transfer-Encoding, Connection and
// Upgrade by name and checks and acts on their values with rules of its own
// (duplicates, CL with TE, TE in trailers, upgrades). The head checks
// (http1_head.h) decide all of that, in their order and with their answers,
// as they did over http_parser: every field is made a plain one for llhttp
// (header_state 0, "general") before its value is read.
// Also: llhttp accepts an empty field name (a line starting with ':'),
// which never reaches OnHeaderField; http_parser refused it, and so do we.
int Http1Parser::Impl::OnHeaderFieldComplete(llhttp_t* p) {
  Impl* self = Self(p);
  if (!self->field_open) {
    self->SetError(400, "invalid character in header");
    return -1;
  }
  p->header_state = 0;
  return 0;
}

int Http1Parser::Impl::OnHeaderValue(llhttp_t* p, const char* at, size_t len) {
  Impl* self = Self(p);
  self->field_open = false;
  self->header_bytes += len;
  if (self->header_bytes > self->limits.max_header_bytes) {
    self->SetError(431, self->trailers ? "trailer section too large" : "header section too large");
    return -1;
  }
  if (!self->trailers) self->headers().ExtendLastValue({at, len});
  return 0;
}

int Http1Parser::Impl::OnHeadersComplete(llhttp_t* p) {
  Impl* self = Self(p);
  if (!self->FinishHead()) return -1;
  self->stop = Stop::kHeadersComplete;
  // The framing is ours (FinishHead); llhttp learns it here, since it never
  // saw the framing fields as such (OnHeaderFieldComplete). "No body
  // follows" (HEAD response, 1xx, 204, 304) is what returning 1 does, but a
  // callback that pauses cannot return 1 too, so the flag it sets is set
  // here (llhttp's or_flags_1 node: F_SKIPBODY).
  switch (self->framing) {
    case BodyFraming::kChunked:
      p->flags |= F_CHUNKED;
      break;
    case BodyFraming::kContentLength:
      p->flags |= F_CONTENT_LENGTH;
      p->content_length =
          self->is_request() ? self->request.content_length : self->response.content_length;
      break;
    case BodyFraming::kNone:
      if (!self->is_request()) p->flags |= F_SKIPBODY;
      break;
    case BodyFraming::kUntilClose:
      break;  // no length: llhttp reads a response until EOF
  }
  return HPE_PAUSED;
}

bool Http1Parser::Impl::FinishHead() {
  ParseError result;
  if (is_request()) {
    std::string_view method = llhttp_method_name(static_cast<llhttp_method_t>(parser.method));
    request.method.clear();  // then append: the short path, not assign's _M_replace
    request.method.append(method.data(), method.size());
    request.version_minor = parser.http_minor;
    // method SP target SP "HTTP/x.y"
    start_line_expected = request.method.size() + request.target.size() + 10;
    result = http1::FinishRequestHead(parser.http_major, limits, request);
    framing = request.framing;
  } else {
    response.status = static_cast<int>(parser.status_code);
    response.version_minor = parser.http_minor;
    // "HTTP/x.y" SP 3DIGIT SP reason (the last SP may be missing with no reason)
    start_line_expected = 13 + response.reason.size();
    result = http1::FinishResponseHead(parser.http_major, expect_no_body, response);
    framing = response.framing;
    // An interim response (100 Continue, 103 Early Hints) is skipped: the
    // proxy answers Expect itself and sends the final response only.
    interim = result.status == 0 && response.status < 200;
  }
  if (result.status != 0) {
    error = std::move(result);
    return false;
  }
  framing_check.SetChunkedBody(framing == BodyFraming::kChunked);
  return true;
}

// The exact length and the literal edges of the start line, against what
// llhttp reported: they rule out several spaces between the parts and any
// byte llhttp might skip (checks kept from the http_parser days; cheap).
bool Http1Parser::Impl::CheckStartLine() {
  const size_t length = framing_check.start_line_length();
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  if (is_request()) {
    std::string_view tail = framing_check.start_line_suffix();
    if (length == start_line_expected && tail.size() == 9 && tail.substr(0, 6) == " HTTP/" &&
        is_digit(tail[6]) && tail[7] == '.' && is_digit(tail[8])) {
      return true;
    }
    SetError(400, "malformed request line");
    return false;
  }
  std::string_view head = framing_check.start_line_prefix();
  bool length_ok = length == start_line_expected ||
                   (response.reason.empty() && length + 1 == start_line_expected);
  if (length_ok && head.size() == 9 && head.substr(0, 5) == "HTTP/" && is_digit(head[5]) &&
      head[6] == '.' && is_digit(head[7]) && head[8] == ' ') {
    return true;
  }
  SetError(502, "malformed status line");
  return false;
}

int Http1Parser::Impl::OnChunkHeader(llhttp_t* p) {
  Impl* self = Self(p);
  // A chunk that would cross the limit is refused before its data arrives.
  if (self->is_request() && self->limits.max_body_bytes != 0 &&
      p->content_length > self->limits.max_body_bytes - self->body_bytes) {
    self->SetError(413, "chunked body larger than max_body_bytes");
    return -1;
  }
  if (p->content_length == 0) {
    self->trailers = true;
    self->head_text = 0;
  }
  self->field_open = false;
  self->header_count = 0;
  self->header_bytes = 0;
  return 0;
}

int Http1Parser::Impl::OnBodyData(llhttp_t* p, const char* at, size_t len) {
  if (len == 0) return 0;  // an empty piece at the end of the input
  Impl* self = Self(p);
  if (!self->CheckFraming(self->cursor, at)) return -1;
  self->cursor = at + len;
  if (self->is_request() && self->limits.max_body_bytes != 0 &&
      len > self->limits.max_body_bytes - self->body_bytes) {
    self->SetError(413, "body larger than max_body_bytes");
    return -1;
  }
  self->body_bytes += len;
  self->callbacks->OnBody(at, len);
  if (self->reset_pending) {
    self->stop = Stop::kReset;
    return HPE_PAUSED;
  }
  if (self->user_paused) {
    self->stop = Stop::kUser;
    return HPE_PAUSED;
  }
  return 0;
}

int Http1Parser::Impl::OnMessageComplete(llhttp_t* p) {
  Impl* self = Self(p);
  self->stop = Stop::kMessageComplete;
  return HPE_PAUSED;
}

}  // namespace tidegate::proxy
