#include "proxy/http_message.h"

#include <array>
#include <charconv>

namespace tidegate::proxy {
namespace {

constexpr std::array<unsigned char, 256> MakeLowerTable() {
  std::array<unsigned char, 256> table{};
  for (int i = 0; i < 256; ++i) {
    table[i] = static_cast<unsigned char>(i >= 'A' && i <= 'Z' ? i + ('a' - 'A') : i);
  }
  return table;
}
constexpr std::array<unsigned char, 256> kLower = MakeLowerTable();

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

// Hop-by-hop fields of RFC 9110 §7.6.1 plus the legacy ones proxies still see.
constexpr std::string_view kHopByHop[] = {
    "connection", "keep-alive", "proxy-connection",   "te",
    "trailer",    "upgrade",    "proxy-authenticate", "proxy-authorization",
};

// Fields a `Connection` header may not remove: framing stays the core's job,
// and an HTTP/1.1 request without Host is broken ("Connection: host" attack).
constexpr std::string_view kNeverRemovedByConnection[] = {"content-length", "transfer-encoding",
                                                          "host"};

bool IsHopByHopName(std::string_view name) {
  for (std::string_view h : kHopByHop) {
    if (EqualsIgnoreCase(name, h)) return true;
  }
  return false;
}

bool IsProtected(std::string_view name) {
  for (std::string_view p : kNeverRemovedByConnection) {
    if (EqualsIgnoreCase(name, p)) return true;
  }
  return false;
}

// Standard reason phrases for locally built responses that left `reason` empty.
std::string_view DefaultReason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
}

size_t FieldsSize(const HeaderList& headers) {
  size_t size = 2;  // final CRLF
  for (const Header& h : headers.fields()) size += h.name.size() + h.value.size() + 4;
  return size;
}

void AppendFields(const HeaderList& headers, std::string& out) {
  for (const Header& h : headers.fields()) {
    out.append(h.name);
    out.append(": ", 2);
    out.append(h.value);
    out.append("\r\n", 2);
  }
  out.append("\r\n", 2);
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (kLower[static_cast<unsigned char>(a[i])] != kLower[static_cast<unsigned char>(b[i])]) {
      return false;
    }
  }
  return true;
}

bool HasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view element = TrimOws(value.substr(0, comma));
    if (EqualsIgnoreCase(element, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

void HeaderList::Add(std::string name, std::string value) {
  fields_.push_back(Header{std::move(name), std::move(value)});
}

const std::string* HeaderList::Find(std::string_view name) const {
  for (const Header& h : fields_) {
    if (EqualsIgnoreCase(h.name, name)) return &h.value;
  }
  return nullptr;
}

size_t HeaderList::Count(std::string_view name) const {
  size_t n = 0;
  for (const Header& h : fields_) n += EqualsIgnoreCase(h.name, name) ? 1 : 0;
  return n;
}

size_t HeaderList::Remove(std::string_view name) {
  size_t kept = 0;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (EqualsIgnoreCase(fields_[i].name, name)) continue;
    if (kept != i) fields_[kept] = std::move(fields_[i]);
    ++kept;
  }
  size_t removed = fields_.size() - kept;
  fields_.resize(kept);
  return removed;
}

void HeaderList::Set(std::string_view name, std::string value) {
  size_t kept = 0;
  bool replaced = false;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (EqualsIgnoreCase(fields_[i].name, name)) {
      if (replaced) continue;
      fields_[i].value = std::move(value);
      replaced = true;
    }
    if (kept != i) fields_[kept] = std::move(fields_[i]);
    ++kept;
  }
  fields_.resize(kept);
  if (!replaced) fields_.push_back(Header{std::string(name), std::move(value)});
}

void RemoveHopByHopHeaders(HeaderList& headers) {
  std::vector<Header>& fields = headers.mutable_fields();
  // Decide first (the Connection values stay untouched while we look at
  // them), then compact in one pass.
  std::vector<bool> drop(fields.size(), false);
  bool any = false;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (!IsHopByHopName(fields[i].name)) continue;
    drop[i] = true;
    any = true;
    if (!EqualsIgnoreCase(fields[i].name, "connection")) continue;
    std::string_view value = fields[i].value;
    while (!value.empty()) {
      size_t comma = value.find(',');
      std::string_view token = TrimOws(value.substr(0, comma));
      if (!token.empty() && !IsProtected(token)) {
        for (size_t j = 0; j < fields.size(); ++j) {
          if (EqualsIgnoreCase(fields[j].name, token)) drop[j] = true;
        }
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  if (!any) return;
  size_t kept = 0;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (drop[i]) continue;
    if (kept != i) fields[kept] = std::move(fields[i]);
    ++kept;
  }
  fields.resize(kept);
}

void SerializeRequestHead(const RequestHead& head, std::string& out) {
  out.reserve(out.size() + head.method.size() + head.target.size() + 11 + FieldsSize(head.headers));
  out.append(head.method);
  out.push_back(' ');
  out.append(head.target);
  out.append(" HTTP/1.1\r\n", 11);
  AppendFields(head.headers, out);
}

void SerializeResponseHead(const ResponseHead& head, std::string& out) {
  std::string_view reason = head.reason.empty() ? DefaultReason(head.status) : head.reason;
  out.reserve(out.size() + 13 + reason.size() + 2 + FieldsSize(head.headers));
  out.append("HTTP/1.1 ", 9);
  char digits[16];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), head.status);
  out.append(digits, ec == std::errc() ? end : digits);
  out.push_back(' ');
  out.append(reason);
  out.append("\r\n", 2);
  AppendFields(head.headers, out);
}

}  // namespace tidegate::proxy
