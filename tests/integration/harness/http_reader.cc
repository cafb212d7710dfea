#include "tests/integration/harness/http_reader.h"

#include <http_parser.h>
#include <strings.h>

#include <cstdio>

namespace tidegate::itest {
namespace {

using Clock = std::chrono::steady_clock;

// Collects one message's fields from http_parser callbacks.
struct ParseState {
  HttpMessage* msg;
  bool head_request = false;
  bool complete = false;
  bool last_was_value = false;
};

ParseState* State(http_parser* p) { return static_cast<ParseState*>(p->data); }

int OnUrl(http_parser* p, const char* at, size_t len) {
  State(p)->msg->url.append(at, len);
  return 0;
}
int OnHeaderField(http_parser* p, const char* at, size_t len) {
  ParseState* s = State(p);
  if (s->last_was_value || s->msg->headers.empty()) s->msg->headers.emplace_back();
  s->msg->headers.back().first.append(at, len);
  s->last_was_value = false;
  return 0;
}
int OnHeaderValue(http_parser* p, const char* at, size_t len) {
  ParseState* s = State(p);
  s->msg->headers.back().second.append(at, len);
  s->last_was_value = true;
  return 0;
}
int OnHeadersComplete(http_parser* p) {
  ParseState* s = State(p);
  s->msg->chunked = (p->flags & F_CHUNKED) != 0;
  // 1 = "no body": a response to HEAD, and 1xx/204/304 even when they carry
  // a Content-Length (http_parser would otherwise wait for that body).
  if (p->type != HTTP_RESPONSE) return 0;
  unsigned status = p->status_code;
  return (s->head_request || status / 100 == 1 || status == 204 || status == 304) ? 1 : 0;
}
int OnBody(http_parser* p, const char* at, size_t len) {
  State(p)->msg->body.append(at, len);
  return 0;
}
int OnMessageComplete(http_parser* p) {
  ParseState* s = State(p);
  s->complete = true;
  s->msg->keep_alive = http_should_keep_alive(p) != 0;
  // Stop right after this message: a pipelined one stays in the buffer.
  http_parser_pause(p, 1);
  return 0;
}

http_parser_settings Settings() {
  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_url = OnUrl;
  settings.on_header_field = OnHeaderField;
  settings.on_header_value = OnHeaderValue;
  settings.on_headers_complete = OnHeadersComplete;
  settings.on_body = OnBody;
  settings.on_message_complete = OnMessageComplete;
  return settings;
}

HttpMessage ReadOne(Connection& conn, http_parser_type type, bool head_request,
                    Clock::time_point deadline) {
  HttpMessage msg;
  ParseState state{&msg, head_request};
  http_parser parser;
  http_parser_init(&parser, type);
  parser.data = &state;
  static const http_parser_settings settings = Settings();

  size_t fed = 0;  // bytes of conn.buffer() given to the parser
  auto fail = [&](const std::string& why) {
    msg.ok = false;
    msg.error = why + "; bytes received: \"" + Printable(conn.buffer()) + "\"";
    return msg;
  };
  for (;;) {
    std::string& buf = conn.buffer();
    if (fed < buf.size()) {
      size_t n = http_parser_execute(&parser, &settings, buf.data() + fed, buf.size() - fed);
      http_errno err = HTTP_PARSER_ERRNO(&parser);
      if (state.complete) {
        // When paused inside on_message_complete, http_parser reports the
        // byte that completed the message as consumed.
        fed += n;
        msg.raw = buf.substr(0, fed);
        buf.erase(0, fed);
        msg.ok = true;
        break;
      }
      if (err != HPE_OK) {
        return fail(std::string("http_parser: ") + http_errno_name(err) + " (" +
                    http_errno_description(err) + ")");
      }
      fed += n;
    }
    int left =
        static_cast<int>(std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count());
    ReadStatus s = conn.ReadMore(milliseconds(left < 0 ? 0 : left));
    if (s == ReadStatus::kData) continue;
    if (s == ReadStatus::kClosed || s == ReadStatus::kReset) {
      if (fed > 0) http_parser_execute(&parser, &settings, nullptr, 0);  // EOF
      if (state.complete) {
        msg.ended_by_close = true;
        msg.raw = conn.buffer().substr(0, fed);
        conn.buffer().erase(0, fed);
        msg.ok = true;
        break;
      }
      return fail(std::string("connection ") + ToString(s) + " before the message was complete");
    }
    return fail(std::string("read ") + ToString(s) + " before the message was complete");
  }
  msg.http_major = parser.http_major;
  msg.http_minor = parser.http_minor;
  if (type == HTTP_RESPONSE) {
    msg.status = static_cast<int>(parser.status_code);
  } else {
    msg.method = http_method_str(static_cast<http_method>(parser.method));
  }
  return msg;
}

}  // namespace

std::optional<std::string> HttpMessage::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return std::nullopt;
}

int HttpMessage::HeaderCount(std::string_view name) const {
  int count = 0;
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) ++count;
  }
  return count;
}

ReadOptions Within(milliseconds timeout) {
  ReadOptions options;
  options.timeout = timeout;
  return options;
}

ReadOptions KeepInterim() {
  ReadOptions options;
  options.skip_interim = false;
  return options;
}

HttpMessage FailedMessage(std::string error) {
  HttpMessage msg;
  msg.error = std::move(error);
  return msg;
}

HttpMessage ReadResponse(Connection& conn, const ReadOptions& options) {
  auto deadline = Clock::now() + options.timeout;
  for (;;) {
    HttpMessage msg = ReadOne(conn, HTTP_RESPONSE, options.head_request, deadline);
    if (msg.ok && options.skip_interim && msg.status >= 100 && msg.status < 200) continue;
    return msg;
  }
}

HttpMessage ReadRequest(Connection& conn, milliseconds timeout) {
  return ReadOne(conn, HTTP_REQUEST, false, Clock::now() + timeout);
}

std::string Printable(std::string_view bytes, size_t max) {
  std::string out;
  size_t n = bytes.size() < max ? bytes.size() : max;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c >= 0x7f) {
      char esc[8];
      snprintf(esc, sizeof(esc), "\\x%02x", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (bytes.size() > max) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

int CountOccurrences(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return 0;
  int count = 0;
  for (size_t pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

}  // namespace tidegate::itest
