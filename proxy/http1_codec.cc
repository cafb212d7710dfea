// Adapter over Debian's libhttp-parser 2.9.4. http_parser does the parsing;
// this file collects what it reports, runs the strict checks of
// http1_validate.h / http1_head.h and turns its callbacks into one message at
// a time (see http1_codec.h).
//
// How the pieces fit:
// * Every byte http_parser consumes that is not body data is fed to a
//   FramingCheck: body pieces come with pointers into the caller's buffer,
//   so the framing text is exactly the gaps between them ("cursor_").
// * on_headers_complete and on_message_complete pause http_parser; the head
//   and the completion are delivered from Execute() after http_parser
//   returned and the framing text before them was verified. Nothing is
//   delivered for a message whose framing text is bad.
// * The pause at on_headers_complete leaves the head's last byte (its LF)
//   unconsumed; it is verified and fed to http_parser alone before the head
//   is delivered.
#include "proxy/http1_codec.h"

#include <http_parser.h>

#include "proxy/http1_head.h"
#include "proxy/http1_validate.h"

namespace tidegate::proxy {

using http1::FramingCheck;

struct Http1Parser::Impl {
  enum class Stop { kNone, kHeadersComplete, kMessageComplete, kUser, kReset };

  Impl(Kind kind, const ParseLimits& limits, Callbacks* callbacks)
      : kind(kind), limits(limits), callbacks(callbacks) {
    http_parser_settings_init(&settings);
    settings.on_url = &Impl::OnUrl;
    settings.on_status = &Impl::OnStatus;
    settings.on_header_field = &Impl::OnHeaderField;
    settings.on_header_value = &Impl::OnHeaderValue;
    settings.on_headers_complete = &Impl::OnHeadersComplete;
    settings.on_body = &Impl::OnBodyData;
    settings.on_message_complete = &Impl::OnMessageComplete;
    settings.on_chunk_header = &Impl::OnChunkHeader;
    Reset();
  }

  bool is_request() const { return kind == Kind::kRequest; }
  int protocol_error_status() const { return is_request() ? 400 : 502; }
  HeaderList& headers() { return is_request() ? request.headers : response.headers; }

  void SetError(int status, const char* reason) {
    if (error.status != 0) return;  // the first error wins
    error.status = is_request() ? status : 502;
    error.reason = reason;
  }

  void Reset();
  void ResetMessage();
  size_t Execute(const char* data, size_t len);
  bool CheckFraming(const char* begin, const char* end);
  void MapParserError(http_errno err);
  bool FinishHead();
  bool CheckStartLine();
  size_t RunParser(const char* begin, size_t len);
  void DeliverComplete();

  static Impl* Self(http_parser* p) { return static_cast<Impl*>(p->data); }
  static int OnUrl(http_parser* p, const char* at, size_t len);
  static int OnStatus(http_parser* p, const char* at, size_t len);
  static int OnHeaderField(http_parser* p, const char* at, size_t len);
  static int OnHeaderValue(http_parser* p, const char* at, size_t len);
  static int OnHeadersComplete(http_parser* p);
  static int OnBodyData(http_parser* p, const char* at, size_t len);
  static int OnMessageComplete(http_parser* p);
  static int OnChunkHeader(http_parser* p);

  const Kind kind;
  const ParseLimits limits;
  Callbacks* const callbacks;
  http_parser parser;
  http_parser_settings settings;
  ParseError error;
  RequestHead request;
  ResponseHead response;
  FramingCheck framing_check;

  // Per message.
  BodyFraming framing = BodyFraming::kNone;
  uint64_t body_bytes = 0;
  size_t header_count = 0;
  size_t header_bytes = 0;
  size_t start_line_expected = 0;  // length of the start line implied by the parsed parts
  bool field_open = false;         // the last callback was a field name piece
  bool trailers = false;           // fields now are trailers: checked, then dropped
  bool interim = false;            // a 1xx response being skipped
  bool started = false;            // a byte of this message was consumed
  bool head_delivered = false;
  bool message_done = false;
  bool expect_no_body = false;

  // Per Execute() call.
  Stop stop = Stop::kNone;
  const char* cursor = nullptr;  // first consumed byte not yet given to framing_check
  bool in_parser = false;        // inside http_parser_execute
  bool user_paused = false;
  bool reset_pending = false;
  uint64_t generation = 0;  // bumped by Reset(), to notice a Reset() in a callback
};

void Http1Parser::Impl::Reset() {
  ++generation;
  error.status = 0;
  error.reason.clear();
  expect_no_body = false;
  user_paused = false;
  ResetMessage();
}

// Everything of one message; keeps the connection-level settings (expected
// HEAD response, pause) so a skipped 1xx does not lose them.
void Http1Parser::Impl::ResetMessage() {
  http_parser_init(&parser, is_request() ? HTTP_REQUEST : HTTP_RESPONSE);
  parser.data = this;
  framing_check.Reset(limits.max_request_line, limits.max_header_bytes);
  // Moved-from heads are empty; clear() keeps whatever capacity is left.
  request.method.clear();
  request.target.clear();
  request.headers.clear();
  request.host.clear();
  response.reason.clear();
  response.headers.clear();
  framing = BodyFraming::kNone;
  body_bytes = 0;
  header_count = 0;
  header_bytes = 0;
  field_open = false;
  trailers = false;
  interim = false;
  started = false;
  head_delivered = false;
  message_done = false;
}

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
      SetError(414, "request line too long");
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
    fields.emplace_back();
    fields.back().name.assign(at, len);
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
  http_parser_pause(p, 1);
  // 1 = "no body follows" (HEAD response, 1xx, 204, 304).
  return !self->is_request() && self->framing == BodyFraming::kNone ? 1 : 0;
}

bool Http1Parser::Impl::FinishHead() {
  ParseError result;
  if (is_request()) {
    request.method = http_method_str(static_cast<http_method>(parser.method));
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
  http_parser_pause(p, 1);
  return 0;
}

size_t Http1Parser::Impl::Execute(const char* data, size_t len) {
  if (error.status != 0 || message_done || user_paused) return 0;
  const uint64_t my_generation = generation;
  size_t total = 0;
  while (total < len) {
    const char* begin = data + total;
    size_t n = RunParser(begin, len - total);
    total += n;
    if (reset_pending) {
      reset_pending = false;
      Reset();
      return total;
    }
    if (error.status != 0) return total;
    switch (stop) {
      case Stop::kHeadersComplete: {
        // http_parser stopped on the head's final LF. Verify and consume it
        // before the head is delivered, so a head never reaches the core
        // before all of its bytes passed the check.
        if (!CheckStartLine()) return total;
        total += RunParser(begin + n, 1);
        if (error.status != 0) return total;
        const bool complete = stop == Stop::kMessageComplete;
        if (interim) {  // 1xx: never a body; go on with the final response
          ResetMessage();
          started = true;
          continue;
        }
        head_delivered = true;
        if (is_request()) {
          callbacks->OnRequestHead(std::move(request));
        } else {
          callbacks->OnResponseHead(std::move(response));
        }
        if (generation != my_generation) return total;
        if (complete) {
          DeliverComplete();
          return total;
        }
        if (user_paused) return total;
        continue;
      }
      case Stop::kMessageComplete:
        DeliverComplete();
        return total;
      case Stop::kUser:
      case Stop::kReset:
        return total;
      case Stop::kNone:
        if (total < len) {  // http_parser stopped without telling why
          SetError(400, "parser stopped unexpectedly");
          return total;
        }
        break;
    }
  }
  return total;
}

// One http_parser_execute() over [begin, begin + len): verifies the framing
// text it consumed and turns its errors into ours. Sets `stop`.
size_t Http1Parser::Impl::RunParser(const char* begin, size_t len) {
  cursor = begin;
  stop = Stop::kNone;
  in_parser = true;
  size_t n = http_parser_execute(&parser, &settings, begin, len);
  in_parser = false;
  if (n > 0) started = true;
  if (reset_pending || error.status != 0) return n;
  // The body callback may run ahead of the returned count by one byte
  // (identity body paused on its last byte), hence the `<`.
  if (cursor < begin + n && !CheckFraming(cursor, begin + n)) return n;
  http_errno err = HTTP_PARSER_ERRNO(&parser);
  if (err == HPE_PAUSED) {
    http_parser_pause(&parser, 0);
  } else if (err == HPE_INVALID_METHOD && n < len &&
             !http1::IsTokenChar(static_cast<unsigned char>(begin[n]))) {
    SetError(400, "malformed request line");  // not a method token at all
  } else if (err != HPE_OK) {
    MapParserError(err);
  }
  return n;
}

void Http1Parser::Impl::DeliverComplete() {
  message_done = true;
  head_delivered = false;
  callbacks->OnMessageComplete();
}

Http1Parser::Http1Parser(Kind kind, const ParseLimits& limits, Callbacks* callbacks)
    : impl_(std::make_unique<Impl>(kind, limits, callbacks)) {}

Http1Parser::~Http1Parser() = default;

size_t Http1Parser::Execute(const char* data, size_t len) { return impl_->Execute(data, len); }

bool Http1Parser::FinishOnEof() {
  Impl& s = *impl_;
  if (s.message_done) return true;
  if (s.error.status != 0 || s.in_parser) return false;
  if (s.head_delivered && s.framing == BodyFraming::kUntilClose && !s.user_paused) {
    s.stop = Impl::Stop::kNone;
    s.in_parser = true;
    http_parser_execute(&s.parser, &s.settings, nullptr, 0);  // EOF ends the body
    s.in_parser = false;
    if (s.stop == Impl::Stop::kMessageComplete) {
      http_parser_pause(&s.parser, 0);
      s.DeliverComplete();
      return true;
    }
  }
  if (s.started || !s.is_request()) {
    s.SetError(400, s.started ? "connection closed before the message was complete"
                              : "connection closed before a response");
  }
  return false;
}

void Http1Parser::ExpectNoBody(bool head_request) { impl_->expect_no_body = head_request; }

void Http1Parser::Pause() {
  impl_->user_paused = true;
  if (impl_->in_parser) http_parser_pause(&impl_->parser, 1);
}

void Http1Parser::Resume() { impl_->user_paused = false; }

void Http1Parser::Reset() {
  if (impl_->in_parser) {  // from OnBody: finish once http_parser has unwound
    impl_->reset_pending = true;
    http_parser_pause(&impl_->parser, 1);
    return;
  }
  impl_->Reset();
}

const ParseError& Http1Parser::error() const { return impl_->error; }

bool Http1Parser::in_body() const { return impl_->head_delivered && !impl_->message_done; }

bool Http1Parser::idle() const { return !impl_->started; }

}  // namespace tidegate::proxy
