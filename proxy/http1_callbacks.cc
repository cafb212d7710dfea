// What http_parser calls while Http1Parser::Impl::Execute() runs it: the
// fields are collected here, the per-piece checks (field-name tokens, sizes,
// counts, body limit) run at once, the head-level checks of http1_head.h run
// at on_headers_complete, and the framing text between body pieces is fed to
// the FramingCheck before each body piece is handed on.
#include <string_view>

#include "proxy/http1_head.h"
#include "proxy/http1_parser_impl.h"

namespace tidegate::proxy {

bool Http1Parser::Impl::CheckFraming(const char* begin, const char* end) {
  if (begin >= end) return true;
  switch (framing_check.Feed(begin, static_cast<size_t>(end - begin))) {
    case FramingCheck::Result::kOk:
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

void Http1Parser::Impl::MapParserError(http_errno err) {
  switch (err) {
    case HPE_HEADER_OVERFLOW:
      SetError(header_count == 0 && !trailers ? 414 : 431, "head larger than http_parser allows");
      break;
    case HPE_INVALID_METHOD:
      SetError(501, "unknown method");  // a token, but not one http_parser knows
      break;
    default:
      SetError(400, http_errno_description(err));
      break;
  }
}

int Http1Parser::Impl::OnUrl(http_parser* p, const char* at, size_t len) {
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

int Http1Parser::Impl::OnStatus(http_parser* p, const char* at, size_t len) {
  Impl* self = Self(p);
  if (self->response.reason.size() + len > self->limits.max_request_line) {
    self->SetError(502, "status line too long");
    return -1;
  }
  self->response.reason.append(at, len);
  return 0;
}

int Http1Parser::Impl::OnHeaderField(http_parser* p, const char* at, size_t len) {
  Impl* self = Self(p);
  if (len > 0 && !http1::IsToken(std::string_view(at, len))) {
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
    if (self->header_count == 1 && (p->http_major != 1 || p->http_minor > 1)) {
      self->SetError(505, "unsupported HTTP version");
      return -1;
    }
    std::vector<Header>& fields = self->headers().mutable_fields();
    if (fields.capacity() == 0) fields.reserve(16);
    // append, not assign, to the new empty name: libstdc++'s append is the
    // short path (assign goes through the general _M_replace).
    fields.emplace_back().name.append(at, len);
    return 0;
  }
  if (!self->trailers) self->headers().mutable_fields().back().name.append(at, len);
  return 0;
}

int Http1Parser::Impl::OnHeaderValue(http_parser* p, const char* at, size_t len) {
  Impl* self = Self(p);
  self->field_open = false;
  self->header_bytes += len;
  if (self->header_bytes > self->limits.max_header_bytes) {
    self->SetError(431, self->trailers ? "trailer section too large" : "header section too large");
    return -1;
  }
  if (!self->trailers) self->headers().mutable_fields().back().value.append(at, len);
  return 0;
}

int Http1Parser::Impl::OnHeadersComplete(http_parser* p) {
  Impl* self = Self(p);
  if (!self->FinishHead()) return -1;
  self->stop = Stop::kHeadersComplete;
  SetParserPaused(p, true);
  // 1 = "no body follows" (HEAD response, 1xx, 204, 304).
  return !self->is_request() && self->framing == BodyFraming::kNone ? 1 : 0;
}

bool Http1Parser::Impl::FinishHead() {
  ParseError result;
  if (is_request()) {
    std::string_view method = http_method_str(static_cast<http_method>(parser.method));
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

// Non-strict http_parser skips some literal bytes ("HTTQ/1.1" passes) and
// accepts several spaces between the parts; the exact length and the
// literal edges of the start line rule both out.
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

int Http1Parser::Impl::OnChunkHeader(http_parser* p) {
  Impl* self = Self(p);
  // A chunk that would cross the limit is refused before its data arrives.
  if (self->is_request() && self->limits.max_body_bytes != 0 &&
      p->content_length > self->limits.max_body_bytes - self->body_bytes) {
    self->SetError(413, "chunked body larger than max_body_bytes");
    return -1;
  }
  if (p->content_length == 0) self->trailers = true;
  self->field_open = false;
  self->header_count = 0;
  self->header_bytes = 0;
  return 0;
}

int Http1Parser::Impl::OnBodyData(http_parser* p, const char* at, size_t len) {
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
    http_parser_pause(p, 1);
  } else if (self->user_paused) {
    self->stop = Stop::kUser;
    http_parser_pause(p, 1);
  }
  return 0;
}

int Http1Parser::Impl::OnMessageComplete(http_parser* p) {
  Impl* self = Self(p);
  self->stop = Stop::kMessageComplete;
  SetParserPaused(p, true);
  return 0;
}

}  // namespace tidegate::proxy
