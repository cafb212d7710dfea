// Internal state of Http1Parser (proxy/http1_codec.h): shared by
// http1_codec.cc (the Execute() loop and the public methods) and
// http1_callbacks.cc (what http_parser calls). Nothing outside proxy/http1_*
// includes this header.
//
// Thread: one Impl belongs to one Http1Parser and runs on its caller's
// thread; the static callbacks find it through http_parser::data.
#pragma once

#include <http_parser.h>

#include <cstdint>

#include "proxy/http1_codec.h"
#include "proxy/http1_validate.h"
#include "proxy/http_message.h"

namespace tidegate::proxy {

using http1::FramingCheck;

// http_parser_pause(p, paused) without the library call, on the two hot
// paths (the pause at the end of every head and message, and the resume
// after it): a pause is the public field http_errno set to HPE_PAUSED
// (HPE_OK to resume), which is all the library function changes once it
// has checked that the parser is not in an error state. Only for callers
// that know it is not: a callback that is about to return success, or
// RunParser right after http_parser_execute stopped on a pause.
inline void SetParserPaused(http_parser* p, bool paused) {
  p->http_errno = paused ? HPE_PAUSED : HPE_OK;
}

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

  // Per http_parser_execute() call.
  Stop stop = Stop::kNone;       // why http_parser paused
  const char* cursor = nullptr;  // first consumed byte not yet given to framing_check
  bool in_parser = false;        // inside http_parser_execute

  // Across calls.
  bool user_paused = false;    // Pause() until Resume()
  bool reset_pending = false;  // Reset() from OnBody, done once http_parser unwound
  uint64_t generation = 0;     // bumped by Reset(), to notice a Reset() in a callback
};

}  // namespace tidegate::proxy
