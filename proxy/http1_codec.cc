// Adapter over llhttp 8.1 (Debian's node-llhttp sources, built by the
// top-level CMakeLists.txt). llhttp does the parsing; http1_callbacks.cc
// collects what it reports and runs the strict checks of http1_validate.h /
// http1_head.h; this file drives it and turns its callbacks into one message
// at a time (see http1_codec.h).
//
// How the pieces fit:
// * Every byte llhttp consumes that is not body data is fed to a
//   FramingCheck: body pieces come with pointers into the caller's buffer,
//   so the framing text is exactly the gaps between them (`cursor`).
// * on_headers_complete and on_message_complete pause llhttp (they return
//   HPE_PAUSED); the head and the completion are delivered from Execute()
//   after llhttp returned and the framing text before them was verified.
//   Nothing is delivered for a message whose framing text is bad.
// * llhttp_execute() returns an error code, not a count: on a pause or an
//   error the bytes consumed end at llhttp_get_error_pos(); otherwise it
//   consumed everything.
// * Only the HTTP version leniency is on (LENIENT_VERSION): llhttp would
//   refuse e.g. HTTP/1.2 as a syntax error (400) where the head checks
//   read a request of HTTP/1.2-1.9 as HTTP/1.1 (RFC 9110 §2.5) and answer
//   505 for any other well-formed version than 1.x (a response must be
//   1.0 or 1.1). Everything else is llhttp's strict default.
// * Where llhttp 8.1 is stricter than the answers kept from http_parser
//   (RFC 9112 chunk extensions with BWS, a mangled "HTTP/" read as
//   http_parser read it), the adapter consumes the bytes in question itself
//   and puts llhttp back into the state it would be in after them: that
//   state is learnt once from a probe parser (llhttp does not export its
//   state numbers). See RunLlhttp and http1_literal.cc.
#include "proxy/http1_codec.h"

#include "proxy/http1_parser_impl.h"

namespace tidegate::proxy {
namespace {

// llhttp's internal state "reading the digits of a chunk size". From there
// a CR ends the chunk-size line exactly as after the size's last digit.
void* ChunkSizeState() {
  static void* const state =
      LlhttpStateAfter(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5");
  return state;
}

}  // namespace

void* LlhttpStateAfter(llhttp_type_t type, std::string_view text) {
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  llhttp_t probe;
  llhttp_init(&probe, type, &settings);
  llhttp_execute(&probe, text.data(), text.size());
  return probe._current;
}

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
  llhttp_init(&parser, is_request() ? HTTP_REQUEST : HTTP_RESPONSE, &settings);
  parser.data = this;
  // No setter in 8.1; the flag is public. See the file comment.
  parser.lenient_flags |= LENIENT_VERSION;
  head_text = 0;
  method_len = 0;
  method_complete = false;
  in_chunk_ext = false;
  line_tail_len = 0;
  literal_skip = 0;
  version_seen = false;
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
        // llhttp paused right after the head's final LF, whose bytes all
        // passed the framing check; the start line is compared with what
        // llhttp reported before the head is delivered.
        if (!CheckStartLine()) return total;
        if (interim) {  // 1xx: never a body; go on with the final response
          if (response.status == 103) {
            callbacks->OnEarlyHints(response);
            if (generation != my_generation) return total;
          }
          ResetMessage();
          started = true;
          continue;
        }
        // Let llhttp decide the body (no input needed): a message without
        // one completes here.
        llhttp_resume(&parser);
        RunParser(begin + n, 0);
        if (error.status != 0) return total;
        const bool complete = stop == Stop::kMessageComplete;
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
        if (total < len) {  // llhttp stopped without telling why
          SetError(400, "parser stopped unexpectedly");
          return total;
        }
        break;
    }
  }
  return total;
}

// One llhttp_execute() over [begin, begin + len): verifies the framing text
// it consumed and turns its errors into ours. Sets `stop`.
size_t Http1Parser::Impl::RunParser(const char* begin, size_t len) {
  cursor = begin;
  stop = Stop::kNone;
  size_t n = 0;
  // A skip (chunk line tail, mangled protocol name) that the input ended in
  // goes on in the next call.
  while (true) {
    if (in_chunk_ext) {
      n += SkipChunkLineTail(begin + n, begin + len);
    } else if (literal_skip > 0) {
      n += SkipLiteral(begin + n, begin + len);
    }
    if (error.status != 0 || in_chunk_ext || literal_skip > 0) return n;
    n += RunLlhttp(begin + n, len - n);
    if ((!in_chunk_ext && literal_skip == 0) || error.status != 0) return n;
  }
}

size_t Http1Parser::Impl::RunLlhttp(const char* begin, size_t len) {
  exec_begin = begin;
  in_parser = true;
  const llhttp_errno_t err = llhttp_execute(&parser, begin, len);
  in_parser = false;
  const char* end = err == HPE_OK ? begin + len : llhttp_get_error_pos(&parser);
  const size_t n = static_cast<size_t>(end - begin);
  if (n > 0) started = true;
  if (reset_pending || error.status != 0) return n;
  if (cursor < end && !CheckFraming(cursor, end)) return n;
  const bool in_start_line = is_request() && !version_seen && header_count == 0;
  if (err == HPE_INVALID_CONSTANT && in_start_line && StartLiteralSkip(end)) return n;
  if (in_start_line) RememberLineTail(begin, end);
  if (err == HPE_PAUSED) {
    llhttp_resume(&parser);
  } else if ((err == HPE_INVALID_CHUNK_SIZE || err == HPE_STRICT) &&
             framing_check.in_chunk_line_tail() &&
             (framing_check.in_chunk_size() ? end < begin + len && *end == ' '
                                            : end == begin + len || *end != '\n')) {
    // llhttp 8.1 refuses BWS before ';' and anything but a bare token in
    // chunk extensions ("6 ; x", "6; x"), which RFC 9112 allows and the
    // framing check judges (as it did over http_parser): the adapter skips
    // the rest of the line itself (SkipChunkLineTail) and puts llhttp back
    // in its chunk-size state, where the CR ends the line. Right after the
    // size digits only a space is skipped (http_parser took a space or ';'
    // as the start of the extensions; anything else there, a tab too, is a
    // bad or overflowing size); in the extensions llhttp may stop after the byte
    // it refused, even at the end of the input; a bare LF is left to the
    // framing check, which refuses it.
    in_chunk_ext = true;
  } else if (err != HPE_OK) {
    // The byte llhttp refused goes to the framing check first: when the
    // check refuses it too (a bare LF, obs-fold, ...), its reason is the
    // one the http_parser adapter gave, which let such bytes through.
    if (err != HPE_INVALID_METHOD && end < begin + len && !CheckFraming(end, end + 1)) return n;
    MapParserError(err, end, begin + len);
  }
  return n;
}

// The chunk line after its size, up to (not including) the CR or LF:
// checked by the framing check only. Returns the bytes consumed.
size_t Http1Parser::Impl::SkipChunkLineTail(const char* begin, const char* end) {
  const char* p = begin;
  while (p < end && *p != '\r' && *p != '\n') ++p;
  if (p > begin) {
    started = true;
    if (!CheckFraming(begin, p)) return static_cast<size_t>(p - begin);
  }
  cursor = p;
  if (p < end) {
    in_chunk_ext = false;
    parser.error = HPE_OK;
    parser.reason = nullptr;
    parser._current = ChunkSizeState();
  }
  return static_cast<size_t>(p - begin);
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
    llhttp_finish(&s.parser);  // EOF ends the body: on_message_complete
    s.in_parser = false;
    if (s.stop == Impl::Stop::kMessageComplete) {
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

// From OnBody (inside llhttp), the body callback sees the flag and returns
// HPE_PAUSED; elsewhere llhttp is not running.
void Http1Parser::Pause() { impl_->user_paused = true; }

void Http1Parser::Resume() { impl_->user_paused = false; }

void Http1Parser::Reset() {
  if (impl_->in_parser) {         // from OnBody: finish once llhttp has unwound
    impl_->reset_pending = true;  // the body callback then returns HPE_PAUSED
    return;
  }
  impl_->Reset();
}

const ParseError& Http1Parser::error() const { return impl_->error; }

bool Http1Parser::in_body() const { return impl_->head_delivered && !impl_->message_done; }

bool Http1Parser::idle() const { return !impl_->started; }

}  // namespace tidegate::proxy
