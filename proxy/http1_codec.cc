// Adapter over Debian's libhttp-parser 2.9.4. http_parser does the parsing;
// http1_callbacks.cc collects what it reports and runs the strict checks of
// http1_validate.h / http1_head.h; this file drives it and turns its
// callbacks into one message at a time (see http1_codec.h).
//
// How the pieces fit:
// * Every byte http_parser consumes that is not body data is fed to a
//   FramingCheck: body pieces come with pointers into the caller's buffer,
//   so the framing text is exactly the gaps between them (`cursor`).
// * on_headers_complete and on_message_complete pause http_parser; the head
//   and the completion are delivered from Execute() after http_parser
//   returned and the framing text before them was verified. Nothing is
//   delivered for a message whose framing text is bad.
// * The pause at on_headers_complete leaves the head's last byte (its LF)
//   unconsumed; it is verified and fed to http_parser alone before the head
//   is delivered.
#include "proxy/http1_codec.h"

#include "proxy/http1_parser_impl.h"

namespace tidegate::proxy {

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
    SetParserPaused(&parser, false);
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
