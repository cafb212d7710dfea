// Internal state of Http1Parser (proxy/http1_codec.h): shared by
// http1_codec.cc (the Execute() loop and the public methods) and
// http1_callbacks.cc (what llhttp calls). Nothing outside proxy/http1_*
// includes this header.
//
// Thread: one Impl belongs to one Http1Parser and runs on its caller's
// thread; the static callbacks find it through llhttp_t::data.
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <string_view>

#include "proxy/http1_codec.h"
#include "proxy/http1_validate.h"
#include "proxy/http_message.h"

namespace tidegate::proxy {

using http1::FramingCheck;

// llhttp's internal state once a fresh parser of `type` has consumed `text`
// (http1_codec.cc): learnt from a probe parser, because llhttp does not
// export its state numbers. For the two places that put llhttp back into a
// state after the adapter consumed bytes itself (the tail of a chunk-size
// line, a mangled "HTTP/"); call once and keep the result.
void* LlhttpStateAfter(llhttp_type_t type, std::string_view text);

struct Http1Parser::Impl {
  enum class Stop { kNone, kHeadersComplete, kMessageComplete, kUser, kReset };

  Impl(Kind kind, const ParseLimits& limits, Callbacks* callbacks)
      : kind(kind), limits(limits), callbacks(callbacks) {
    llhttp_settings_init(&settings);
    settings.on_method = &Impl::OnMethod;
    settings.on_method_complete = &Impl::OnMethodComplete;
    settings.on_url = &Impl::OnUrl;
    settings.on_url_complete = &Impl::OnUrlComplete;
    settings.on_version = &Impl::OnVersion;
    settings.on_status = &Impl::OnStatus;
    settings.on_header_field = &Impl::OnHeaderField;
    settings.on_header_field_complete = &Impl::OnHeaderFieldComplete;
    settings.on_header_value = &Impl::OnHeaderValue;
    settings.on_headers_complete = &Impl::OnHeadersComplete;
    settings.on_body = &Impl::OnBodyData;
    settings.on_message_complete = &Impl::OnMessageComplete;
    settings.on_chunk_header = &Impl::OnChunkHeader;
    Reset();
  }

  bool is_request() const { return kind == Kind::kRequest; }
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
  void MapParserError(llhttp_errno_t err, const char* at, const char* end);
  bool FinishHead();
  bool CheckStartLine();
  size_t RunParser(const char* begin, size_t len);
  size_t RunLlhttp(const char* begin, size_t len);
  size_t SkipChunkLineTail(const char* begin, const char* end);
  void RememberLineTail(const char* begin, const char* end);
  size_t LookBack(const char* at, char* out, size_t want) const;
  bool StartLiteralSkip(const char* at);
  size_t SkipLiteral(const char* begin, const char* end);
  void DeliverComplete();

  static Impl* Self(llhttp_t* p) { return static_cast<Impl*>(p->data); }
  static int OnMethod(llhttp_t* p, const char* at, size_t len);
  static int OnMethodComplete(llhttp_t* p);
  static int OnVersion(llhttp_t* p, const char* at, size_t len);
  static int OnUrl(llhttp_t* p, const char* at, size_t len);
  static int OnUrlComplete(llhttp_t* p);
  static int OnStatus(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderField(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderFieldComplete(llhttp_t* p);
  static int OnHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int OnHeadersComplete(llhttp_t* p);
  static int OnBodyData(llhttp_t* p, const char* at, size_t len);
  static int OnMessageComplete(llhttp_t* p);
  static int OnChunkHeader(llhttp_t* p);

  const Kind kind;
  const ParseLimits limits;
  Callbacks* const callbacks;
  llhttp_t parser;
  llhttp_settings_t settings;
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
  uint64_t head_text = 0;          // framing bytes of the head so far (http_parser's cap)
  // Request: the method bytes llhttp reported so far (the longest method is
  // 13 bytes; more are not kept), to answer an unknown method as before.
  char method_seen[16] = {};
  uint8_t method_len = 0;
  bool method_complete = false;
  bool field_open = false;  // the last callback was a field name piece
  bool trailers = false;    // fields now are trailers: checked, then dropped
  bool interim = false;     // a 1xx response being skipped
  bool started = false;     // a byte of this message was consumed
  bool head_delivered = false;
  bool message_done = false;
  bool expect_no_body = false;

  // Per llhttp_execute() call.
  Stop stop = Stop::kNone;           // why llhttp paused
  const char* cursor = nullptr;      // first consumed byte not yet given to framing_check
  bool in_parser = false;            // inside llhttp_execute
  bool in_chunk_ext = false;         // skipping a chunk line's tail for llhttp (RunParser)
  const char* exec_begin = nullptr;  // start of the bytes given to llhttp_execute

  // Request line (http1_literal.cc): the last bytes llhttp consumed of an
  // unfinished start line, and how many bytes of a mangled "HTTP/" are
  // still to be skipped the way non-strict http_parser skipped them.
  char line_tail[5] = {};
  uint8_t line_tail_len = 0;
  uint8_t literal_skip = 0;
  bool version_seen = false;

  // Across calls.
  bool user_paused = false;    // Pause() until Resume()
  bool reset_pending = false;  // Reset() from OnBody, done once llhttp unwound
  uint64_t generation = 0;     // bumped by Reset(), to notice a Reset() in a callback
};

}  // namespace tidegate::proxy
