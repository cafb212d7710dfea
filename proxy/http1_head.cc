#include "proxy/http1_head.h"

#include <string_view>

#include "proxy/http1_validate.h"
#include "proxy/path_ambiguity.h"

namespace tidegate::proxy::http1 {
namespace {

using common::EqualsIgnoreCaseLiteral;

// The fields that decide framing and connection handling, found in one pass.
struct FramingFields {
  const std::string* content_length = nullptr;
  const std::string* transfer_encoding = nullptr;
  const std::string* host = nullptr;
  size_t content_length_count = 0;
  size_t transfer_encoding_count = 0;
  size_t host_count = 0;
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool expect_continue = false;
  bool date = false;        // responses: ResponseHead::has_date
  bool set_cookie = false;  // responses: ResponseHead::has_set_cookie
};

// HasToken(value, "close") and HasToken(value, "keep-alive") in one walk
// over the Connection value's comma-separated elements.
void ScanConnectionTokens(std::string_view value, FramingFields& f) {
  // The usual value is that one token alone.
  if (EqualsIgnoreCaseLiteral<"keep-alive">(value)) {
    f.connection_keep_alive = true;
    return;
  }
  if (EqualsIgnoreCaseLiteral<"close">(value)) {
    f.connection_close = true;
    return;
  }
  while (true) {
    size_t comma = value.find(',');
    std::string_view token = common::TrimOws(value.substr(0, comma));
    f.connection_close = f.connection_close || EqualsIgnoreCaseLiteral<"close">(token);
    f.connection_keep_alive =
        f.connection_keep_alive || EqualsIgnoreCaseLiteral<"keep-alive">(token);
    if (comma == std::string_view::npos) return;
    value.remove_prefix(comma + 1);
  }
}

FramingFields ScanFields(HeaderList& headers) {
  FramingFields f;
  for (Header& h : headers.mutable_fields()) {
    std::string& v = h.value;
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
    // Dispatch on length first: most fields are none of these.
    switch (h.name.size()) {
      case 4:
        if (EqualsIgnoreCaseLiteral<"host">(h.name)) {
          f.host = &v;
          ++f.host_count;
        } else if (EqualsIgnoreCaseLiteral<"date">(h.name)) {
          f.date = true;
        }
        break;
      case 6:
        if (EqualsIgnoreCaseLiteral<"expect">(h.name) &&
            EqualsIgnoreCaseLiteral<"100-continue">(v)) {
          f.expect_continue = true;
        }
        break;
      case 10:
        if (EqualsIgnoreCaseLiteral<"connection">(h.name)) {
          ScanConnectionTokens(v, f);
        } else if (EqualsIgnoreCaseLiteral<"set-cookie">(h.name)) {
          f.set_cookie = true;
        }
        break;
      case 14:
        if (EqualsIgnoreCaseLiteral<"content-length">(h.name)) {
          f.content_length = &v;
          ++f.content_length_count;
        }
        break;
      case 17:
        if (EqualsIgnoreCaseLiteral<"transfer-encoding">(h.name)) {
          f.transfer_encoding = &v;
          ++f.transfer_encoding_count;
        }
        break;
      default:
        break;
    }
  }
  return f;
}

ParseError Fail(int status, const char* reason) { return ParseError{status, reason}; }

// Shared Transfer-Encoding / Content-Length rules. Returns nullptr when fine.
const char* DecideFraming(const FramingFields& f, int version_minor, BodyFraming* framing,
                          uint64_t* content_length) {
  if (f.transfer_encoding_count > 0) {
    if (f.transfer_encoding_count > 1) return "multiple transfer-encoding fields";
    if (f.content_length_count > 0) return "content-length with transfer-encoding";
    if (version_minor == 0) return "transfer-encoding on HTTP/1.0";
    if (!EqualsIgnoreCaseLiteral<"chunked">(*f.transfer_encoding)) {
      return "transfer-encoding other than chunked";
    }
    *framing = BodyFraming::kChunked;
    return nullptr;
  }
  if (f.content_length_count > 1) return "multiple content-length fields";
  if (f.content_length_count == 1) {
    if (!ParseContentLength(*f.content_length, content_length)) return "invalid content-length";
    *framing = BodyFraming::kContentLength;
  }
  return nullptr;
}

// The parts of an absolute-form target "scheme://authority[/path][?query]"
// as offsets into it. The grammar is the one http_parser_parse_url applied
// (non-strict, not CONNECT), so the same targets pass as before: scheme
// ALPHA+; authority of userinfo characters and '[' ']' with at most one '@';
// host a name of ALNUM '.' '-' '_' or a bracketed IPv6 address (with an
// optional %zone), then an optional ":" port of 1*DIGIT <= 65535. The
// caller has already checked that the target is visible ASCII without '#'.
struct AbsoluteForm {
  size_t scheme_len = 0;
  size_t authority_begin = 0;
  size_t authority_end = 0;
  bool has_userinfo = false;
  bool has_path = false;
  bool has_query = false;  // a '?' followed by at least one byte
};

bool IsAlpha(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
bool IsHex(char c) { return IsDigit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
bool IsUserinfoChar(char c) {
  return IsAlnum(c) || std::string_view("-_.!~*'()%;:&=+$,").find(c) != std::string_view::npos;
}

// host [":" port], or "[" IPv6 ["%" zone] "]" [":" port].
bool IsValidUrlHost(std::string_view h) {
  size_t i = 0;
  if (!h.empty() && h[0] == '[') {
    i = 1;
    while (i < h.size() && (IsHex(h[i]) || h[i] == ':' || h[i] == '.')) ++i;
    if (i == 1) return false;
    if (i < h.size() && h[i] == '%') {
      size_t zone = ++i;
      while (i < h.size() &&
             (IsAlnum(h[i]) || std::string_view("%.-_~").find(h[i]) != std::string_view::npos)) {
        ++i;
      }
      if (i == zone) return false;
    }
    if (i >= h.size() || h[i] != ']') return false;
    ++i;
  } else {
    while (i < h.size() && (IsAlnum(h[i]) || h[i] == '.' || h[i] == '-' || h[i] == '_')) ++i;
    if (i == 0) return false;
  }
  if (i == h.size()) return true;
  if (h[i] != ':' || i + 1 == h.size()) return false;
  uint32_t port = 0;
  for (++i; i < h.size(); ++i) {
    if (!IsDigit(h[i])) return false;
    port = port * 10 + static_cast<uint32_t>(h[i] - '0');
    if (port > 0xffff) return false;
  }
  return true;
}

bool SplitAbsoluteForm(std::string_view t, AbsoluteForm* out) {
  size_t i = 0;
  while (i < t.size() && IsAlpha(t[i])) ++i;
  if (i == 0 || t.substr(i, 3) != "://") return false;
  out->scheme_len = i;
  out->authority_begin = i + 3;
  i = out->authority_begin;
  size_t at = std::string_view::npos;
  while (i < t.size() && t[i] != '/' && t[i] != '?') {
    if (t[i] == '@') {
      if (at != std::string_view::npos) return false;
      at = i;
    } else if (!IsUserinfoChar(t[i]) && t[i] != '[' && t[i] != ']') {
      return false;
    }
    ++i;
  }
  out->authority_end = i;
  std::string_view host = t.substr(out->authority_begin, i - out->authority_begin);
  if (host.empty()) return false;
  if (at != std::string_view::npos) {
    std::string_view userinfo = host.substr(0, at - out->authority_begin);
    for (char c : userinfo) {
      if (!IsUserinfoChar(c)) return false;
    }
    out->has_userinfo = true;
    host.remove_prefix(userinfo.size() + 1);
  }
  if (!IsValidUrlHost(host)) return false;
  size_t q = t.find('?', i);
  out->has_path = i < t.size() && t[i] == '/';
  out->has_query = q != std::string_view::npos && q + 1 < t.size();
  return true;
}

// absolute-form → origin-form, when its authority is the Host.
const char* NormalizeAbsoluteForm(std::string_view host, std::string& target) {
  // The limit of http_parser_url's 16-bit offsets, kept as it was.
  if (target.size() > 0xffff) return "request target too long";
  AbsoluteForm url;
  if (!SplitAbsoluteForm(target, &url)) return "invalid request target";
  std::string_view t(target);
  std::string_view scheme = t.substr(0, url.scheme_len);
  if (!EqualsIgnoreCase(scheme, "http") && !EqualsIgnoreCase(scheme, "https")) {
    return "unsupported scheme in request target";
  }
  if (url.has_userinfo) return "userinfo in request target";
  // Without a path, a bare '?' (no query after it) stays in the authority.
  size_t authority_end = url.has_path || url.has_query ? url.authority_end : t.size();
  std::string_view authority = t.substr(url.authority_begin, authority_end - url.authority_begin);
  if (!EqualsIgnoreCase(authority, host)) return "absolute-form authority differs from host";
  size_t q = t.find('?', url.authority_end);
  std::string_view path =
      url.has_path ? t.substr(url.authority_end, q - url.authority_end) : std::string_view("/");
  std::string_view query = url.has_query ? t.substr(q + 1) : std::string_view();
  std::string origin_form;
  origin_form.reserve(path.size() + 1 + query.size());
  origin_form.append(path);
  if (url.has_query) {
    origin_form.push_back('?');
    origin_form.append(query);
  }
  target = std::move(origin_form);
  return nullptr;
}

}  // namespace

bool IsHttpParserUrl(std::string_view t) {
  auto url_char = [](unsigned char c) {
    return (c > 0x20 && c < 0x7f && c != '#' && c != '?') || c == '\t' || c == '\f' || c >= 0x80;
  };
  size_t i = 0;
  if (t.empty()) return false;
  if (t[0] != '/' && t[0] != '*') {  // absolute-form: scheme "://" authority
    while (i < t.size() && IsAlpha(t[i])) ++i;
    if (i == 0 || t.substr(i, 3) != "://") return false;
    i += 3;
    size_t server = i;
    for (; i < t.size() && t[i] != '/' && t[i] != '?' && t[i] != '#'; ++i) {
      if (t[i] == '@') {
        if (i > server && t[i - 1] == '@') return false;  // only "@@" was refused here
      } else if (!IsUserinfoChar(t[i]) && t[i] != '[' && t[i] != ']') {
        return false;
      }
    }
    // An empty authority is refused when the target ends there, and '#'
    // right after the authority too (http_parser's server state had no way
    // to a fragment); "http:///x" and "http://?q" passed.
    if ((i == server && i == t.size()) || (i < t.size() && t[i] == '#')) return false;
  }
  for (; i < t.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(t[i]);
    if (!url_char(c) && c != '?' && c != '#') return false;
  }
  return true;
}

bool StatusHasNoBody(int status) { return status < 200 || status == 204 || status == 304; }

ParseError FinishRequestHead(int http_major, const ParseLimits& limits, RequestHead& head) {
  if (http_major != 1) return Fail(505, "unsupported HTTP version");
  // RFC 9110 §2.5: a higher minor version of a major version we implement
  // is processed as the highest minor version we implement.
  if (head.version_minor > 1) head.version_minor = 1;
  if (std::string_view(head.method) == "CONNECT") return Fail(400, "CONNECT is not supported");

  FramingFields f = ScanFields(head.headers);
  head.framing = BodyFraming::kNone;
  head.content_length = 0;
  if (const char* why = DecideFraming(f, head.version_minor, &head.framing, &head.content_length)) {
    return Fail(400, why);
  }

  if (f.host_count > 1) return Fail(400, "multiple host fields");
  if (f.host_count == 0) {
    if (head.version_minor == 1) return Fail(400, "missing host");
    head.host.clear();
  } else {
    if (!CopyValidHostLowered(*f.host, &head.host)) {
      head.host.clear();
      // '@' is outside the host characters: which refusal names it.
      return Fail(400,
                  f.host->find('@') != std::string::npos ? "host with userinfo" : "invalid host");
    }
  }

  std::string& target = head.target;
  if (target.empty()) return Fail(400, "empty request target");
  if (target[0] == '/') {
    if (!IsValidTargetChars(target)) return Fail(400, "invalid character in request target");
  } else if (target == "*") {
    if (std::string_view(head.method) != "OPTIONS")
      return Fail(400, "asterisk-form target without OPTIONS");
  } else {
    if (!IsValidTargetChars(target)) return Fail(400, "invalid character in request target");
    if (f.host_count == 0) {
      // HTTP/1.0 (1.1 without Host was refused above): the target's
      // authority is the host (RFC 9112 §3.2.2), checked as a Host field
      // and added as one for the origin, which gets HTTP/1.1.
      AbsoluteForm url;
      if (!SplitAbsoluteForm(target, &url)) return Fail(400, "invalid request target");
      if (url.has_userinfo) return Fail(400, "userinfo in request target");
      size_t end = url.has_path || url.has_query ? url.authority_end : target.size();
      std::string authority = target.substr(url.authority_begin, end - url.authority_begin);
      if (!CopyValidHostLowered(authority, &head.host)) {
        head.host.clear();
        return Fail(400, "invalid host in request target");
      }
      head.headers.Append("Host", authority);
    }
    if (const char* why = NormalizeAbsoluteForm(head.host, target)) return Fail(400, why);
  }
  // A path that starts with two slashes reads, to many origins' URL parsers,
  // as a network-path reference (RFC 3986 §4.2): "//x/checkout" is host x,
  // path /checkout — and so is "/\x/checkout" to parsers that read a
  // backslash as '/' (WHATWG) — while the gates, which merge slashes, judged
  // /x/checkout: a room or a maintenance rule on ^/checkout was passed by
  // (audit 14). The leading run of slashes and backslashes becomes one '/':
  // the origin gets the path the gates judged.
  if (target.size() > 1 && target[0] == '/' && (target[1] == '/' || target[1] == '\\')) {
    size_t rest = target.find_first_not_of("/\\");
    target.replace(0, rest == std::string::npos ? target.size() : rest, "/");
  }
  if (target[0] == '/') {
    if (const char* why = AmbiguousPathReason(target)) return Fail(400, why);
  }

  if (head.framing == BodyFraming::kContentLength && limits.max_body_bytes != 0 &&
      head.content_length > limits.max_body_bytes) {
    return Fail(413, "declared body larger than max_body_bytes");
  }

  head.keep_alive = !f.connection_close && (head.version_minor == 1 || f.connection_keep_alive);
  // RFC 9110 §10.1.1: an HTTP/1.0 request's 100-continue expectation is ignored.
  head.expect_continue = f.expect_continue && head.version_minor == 1;
  return ParseError{};
}

ParseError FinishResponseHead(int http_major, bool no_body, ResponseHead& head) {
  if (http_major != 1 || head.version_minor > 1) return Fail(502, "unsupported HTTP version");
  if (head.status < 100 || head.status > 599) return Fail(502, "invalid status code");
  if (head.status == 101) return Fail(502, "protocol upgrade not supported");
  if (!IsValidReason(head.reason)) return Fail(502, "control byte in reason phrase");

  FramingFields f = ScanFields(head.headers);
  BodyFraming framing = BodyFraming::kUntilClose;
  uint64_t content_length = 0;
  if (const char* why = DecideFraming(f, head.version_minor, &framing, &content_length)) {
    return Fail(502, why);
  }
  if (no_body || StatusHasNoBody(head.status)) {
    head.framing = BodyFraming::kNone;
    head.content_length = 0;
  } else {
    head.framing = framing;
    head.content_length = framing == BodyFraming::kContentLength ? content_length : 0;
  }
  head.keep_alive = !f.connection_close && (head.version_minor == 1 || f.connection_keep_alive) &&
                    head.framing != BodyFraming::kUntilClose;
  head.has_date = f.date;
  head.has_set_cookie = f.set_cookie;
  return ParseError{};
}

}  // namespace tidegate::proxy::http1
