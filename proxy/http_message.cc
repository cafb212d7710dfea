#include "proxy/http_message.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace tidegate::proxy {
namespace {

using common::EqualsIgnoreCaseLiteral;

// What RemoveFields does with a field, from its name alone.
enum class NameClass { kOther, kFraming, kHopByHop, kConnection };

// Hop-by-hop fields of RFC 9110 §7.6.1 plus the legacy ones proxies still
// see (Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade,
// Proxy-Authenticate, Proxy-Authorization), and the framing fields
// (Content-Length, Transfer-Encoding). The length picks the one or two
// candidates; each is one compare of eight bytes at a time.
inline NameClass ClassifyName(std::string_view name) {
  switch (name.size()) {
    case 2:
      return EqualsIgnoreCaseLiteral<"te">(name) ? NameClass::kHopByHop : NameClass::kOther;
    case 7:
      return EqualsIgnoreCaseLiteral<"trailer">(name) || EqualsIgnoreCaseLiteral<"upgrade">(name)
                 ? NameClass::kHopByHop
                 : NameClass::kOther;
    case 10:
      if (EqualsIgnoreCaseLiteral<"connection">(name)) return NameClass::kConnection;
      return EqualsIgnoreCaseLiteral<"keep-alive">(name) ? NameClass::kHopByHop : NameClass::kOther;
    case 14:
      return EqualsIgnoreCaseLiteral<"content-length">(name) ? NameClass::kFraming
                                                             : NameClass::kOther;
    case 16:
      return EqualsIgnoreCaseLiteral<"proxy-connection">(name) ? NameClass::kHopByHop
                                                               : NameClass::kOther;
    case 17:
      return EqualsIgnoreCaseLiteral<"transfer-encoding">(name) ? NameClass::kFraming
                                                                : NameClass::kOther;
    case 18:
      return EqualsIgnoreCaseLiteral<"proxy-authenticate">(name) ? NameClass::kHopByHop
                                                                 : NameClass::kOther;
    case 19:
      return EqualsIgnoreCaseLiteral<"proxy-authorization">(name) ? NameClass::kHopByHop
                                                                  : NameClass::kOther;
    default:
      return NameClass::kOther;
  }
}

// Fields a `Connection` header may not remove: framing stays the core's job,
// an HTTP/1.1 request without Host is broken ("Connection: host" attack), and
// a client must not strip what a TLS terminator in front added (client
// address, scheme) or the shopper's credentials before the origin sees them.
// Every X-Forwarded-* field is protected too (IsProtected checks the prefix).
constexpr std::string_view kNeverRemovedByConnection[] = {
    "content-length", "transfer-encoding", "host", "forwarded", "x-real-ip",
    "cookie",         "authorization",     "date",
};
constexpr std::string_view kProtectedPrefix = "x-forwarded-";

bool IsProtected(std::string_view name) {
  if (name.size() >= kProtectedPrefix.size() &&
      EqualsIgnoreCase(name.substr(0, kProtectedPrefix.size()), kProtectedPrefix)) {
    return true;
  }
  for (std::string_view p : kNeverRemovedByConnection) {
    if (EqualsIgnoreCase(name, p)) return true;
  }
  return false;
}

// memcpy(p, s, n) for the short strings a head is made of (names, values,
// method, target), returning p + n: up to 32 bytes as two overlapping
// fixed-size copies, which compile to plain moves instead of a call per
// string. Reads exactly [s, s + n), writes exactly [p, p + n).
inline char* Put(char* p, const char* s, size_t n) {
  if (n >= 8) {
    if (n <= 16) {
      std::memcpy(p, s, 8);
      std::memcpy(p + n - 8, s + n - 8, 8);
    } else if (n <= 32) {
      std::memcpy(p, s, 16);
      std::memcpy(p + n - 16, s + n - 16, 16);
    } else {
      std::memcpy(p, s, n);
    }
  } else if (n >= 4) {
    std::memcpy(p, s, 4);
    std::memcpy(p + n - 4, s + n - 4, 4);
  } else if (n > 0) {  // 1 to 3 bytes: first, middle, last
    p[0] = s[0];
    p[n / 2] = s[n / 2];
    p[n - 1] = s[n - 1];
  }
  return p + n;
}

size_t FieldsSize(const HeaderList& headers) {
  size_t size = 2;  // final CRLF
  for (const Header& h : headers.fields()) size += h.name.size() + h.value.size() + 4;
  return size;
}

// Writes the fields and the final CRLF at `p`, which has FieldsSize() bytes
// of room; returns the end. One resize and plain copies: no per-append
// capacity checks.
char* WriteFields(const HeaderList& headers, char* p) {
  for (const Header& h : headers.fields()) {
    p = Put(p, h.name.data(), h.name.size());
    *p++ = ':';
    *p++ = ' ';
    p = Put(p, h.value.data(), h.value.size());
    *p++ = '\r';
    *p++ = '\n';
  }
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

}  // namespace

std::string_view ReasonPhrase(int status) {
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
    case 421:
      return "Misdirected Request";
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

bool HasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view element = common::TrimOws(value.substr(0, comma));
    if (EqualsIgnoreCase(element, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

bool IsCorsPreflight(const RequestHead& head) {
  if (head.method != "OPTIONS" || head.headers.Find("Origin") == nullptr) return false;
  const std::string* wanted = head.headers.Find("Access-Control-Request-Method");
  return wanted != nullptr && !common::TrimOws(*wanted).empty();
}

void HeaderList::Add(std::string name, std::string value) {
  // Each string moves once (a short one's move is a copy). Assigned, not
  // emplace_back(name, value): Header is an aggregate, and clang before 16
  // has no parenthesized aggregate initialization.
  Header& field = fields_.emplace_back();
  field.name = std::move(name);
  field.value = std::move(value);
}

namespace {

// The thread's spare strings, most recently kept last. `pool_gone` is set
// when the thread's pool is destroyed (a trivially destructible
// thread_local, so reading it during the thread's teardown is defined): a
// list cleared after that frees its strings as before.
struct SparePool {
  std::vector<std::string> strings;
  ~SparePool();
};
thread_local bool pool_gone = false;
SparePool::~SparePool() { pool_gone = true; }

SparePool* Pool() {
  if (pool_gone) return nullptr;
  thread_local SparePool pool;
  return &pool;
}

// A spare string with room for `size` bytes (the most recent one), or null.
std::string* SpareFor(size_t size) {
  SparePool* pool = Pool();
  if (pool == nullptr || pool->strings.empty()) return nullptr;
  std::string& spare = pool->strings.back();
  return spare.capacity() >= size ? &spare : nullptr;
}

void DropSpare() { Pool()->strings.pop_back(); }

}  // namespace

std::string TakeSpareString() {
  std::string s;  // one return object (no move of a temporary)
  SparePool* pool = Pool();
  if (pool != nullptr && !pool->strings.empty()) {
    s = std::move(pool->strings.back());
    pool->strings.pop_back();
    s.clear();  // nothing of the field that held it
  }
  return s;
}

size_t SpareStringCount() {
  SparePool* pool = Pool();
  return pool == nullptr ? 0 : pool->strings.size();
}

void HeaderList::KeepSlow(std::string& s) {
  SparePool* pool = Pool();
  if (pool == nullptr || pool->strings.size() == kMaxSpare) return;  // freed with its field
  // Room for the whole pool at once: its vector grows only once per thread.
  if (pool->strings.capacity() == 0) pool->strings.reserve(kMaxSpare);
  pool->strings.push_back(std::move(s));  // takes the buffer; `s` is left empty, inline
}

void HeaderList::FillLong(std::string& s, std::string_view text) {
  if (std::string* spare = SpareFor(text.size())) {
    s = std::move(*spare);  // `s` is a new field's empty inline string
    DropSpare();
    s.assign(text.data(), text.size());  // overwrites the previous owner's bytes
    return;
  }
  s.append(text.data(), text.size());
}

void HeaderList::Extend(std::string& s, std::string_view piece) {
  size_t size = s.size() + piece.size();
  if (size > s.capacity()) {
    if (std::string* spare = SpareFor(size)) {
      spare->assign(s);  // the piece(s) so far, over the previous owner's bytes
      s.swap(*spare);
      if (spare->capacity() > kInlineChars) {
        spare->clear();  // `s`'s old heap buffer stays in the pool
      } else {
        DropSpare();
      }
    }
  }
  s.append(piece.data(), piece.size());
}

void HeaderList::Append(std::string_view name, std::string_view value) {
  Header& field = fields_.emplace_back();
  Fill(field.name, name);
  Fill(field.value, value);
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
  // Most calls find nothing: look first, move only from the first match on.
  size_t kept = 0;
  while (kept < fields_.size() && !EqualsIgnoreCase(fields_[kept].name, name)) ++kept;
  if (kept == fields_.size()) return 0;
  ReleaseStorage(fields_[kept]);
  for (size_t i = kept + 1; i < fields_.size(); ++i) {
    if (EqualsIgnoreCase(fields_[i].name, name)) {
      ReleaseStorage(fields_[i]);  // its long strings to the pool, before a move overwrites it
      continue;
    }
    fields_[kept++] = std::move(fields_[i]);
  }
  size_t removed = fields_.size() - kept;
  fields_.resize(kept);  // moved-from or released: nothing left to keep
  return removed;
}

void HeaderList::Set(std::string_view name, std::string value) {
  size_t kept = 0;
  bool replaced = false;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (EqualsIgnoreCase(fields_[i].name, name)) {
      if (replaced) {
        ReleaseStorage(fields_[i]);  // before a move overwrites it
        continue;
      }
      Keep(fields_[i].value);  // the old value's buffer, before `value` replaces it
      fields_[i].value = std::move(value);
      replaced = true;
    }
    if (kept != i) fields_[kept] = std::move(fields_[i]);
    ++kept;
  }
  fields_.resize(kept);  // moved-from or released
  if (!replaced) {
    Header& field = fields_.emplace_back();
    Fill(field.name, name);
    field.value = std::move(value);
  }
}

namespace {

// RemoveHopByHopHeaders, and with `framing_too` the framing fields as well,
// in the same single compaction (each removal shifts the fields after it).
void RemoveFields(HeaderList& headers, const std::vector<std::string>* also_protected,
                  bool framing_too) {
  std::vector<Header>& fields = headers.mutable_fields();
  const size_t count = fields.size();  // fixed until the compaction
  // Decide first (the Connection values stay untouched while we look at
  // them), then compact in one pass. The marks live on the stack for any
  // ordinary head; only a huge one needs the heap.
  constexpr size_t kStackMarks = 64;
  bool stack_marks[kStackMarks];
  std::vector<bool> heap_marks;
  const bool on_stack = count <= kStackMarks;
  auto mark = [&](size_t i) {
    if (on_stack) {
      stack_marks[i] = true;
    } else {
      heap_marks[i] = true;
    }
  };
  auto marked = [&](size_t i) {
    return on_stack ? stack_marks[i] : static_cast<bool>(heap_marks[i]);
  };
  if (on_stack) {
    std::fill_n(stack_marks, count, false);
  } else {
    heap_marks.assign(count, false);
  }
  bool any = false;
  for (size_t i = 0; i < count; ++i) {
    NameClass name_class = ClassifyName(fields[i].name);
    if (name_class == NameClass::kOther) continue;
    if (name_class == NameClass::kFraming && !framing_too) continue;
    mark(i);
    any = true;
    if (name_class != NameClass::kConnection) continue;
    std::string_view value = fields[i].value;
    // The usual value, one hop-by-hop name ("keep-alive"), needs no walk.
    if (ClassifyName(value) != NameClass::kOther) continue;
    while (!value.empty()) {
      size_t comma = value.find(',');
      std::string_view token = common::TrimOws(value.substr(0, comma));
      // A token that names a hop-by-hop field (the usual "keep-alive") has
      // its fields marked by their own class already; a framing one is
      // protected: neither needs the search below.
      if (!token.empty() && ClassifyName(token) == NameClass::kOther && !IsProtected(token) &&
          !IsListed(token, also_protected)) {
        for (size_t j = 0; j < count; ++j) {
          if (EqualsIgnoreCase(fields[j].name, token)) mark(j);
        }
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  if (!any) return;
  size_t kept = 0;
  for (size_t i = 0; i < count; ++i) {
    if (marked(i)) {
      // Its long strings to the thread's pool, before a move overwrites it.
      HeaderList::ReleaseStorage(fields[i]);
      continue;
    }
    if (kept != i) fields[kept] = std::move(fields[i]);
    ++kept;
  }
  fields.resize(kept);  // moved-from or released
}

}  // namespace

bool IsListed(std::string_view name, const std::vector<std::string>* names) {
  if (names == nullptr) return false;
  for (const std::string& listed : *names) {
    if (EqualsIgnoreCase(name, listed)) return true;
  }
  return false;
}

void RemoveHopByHopHeaders(HeaderList& headers, const std::vector<std::string>* also_protected) {
  RemoveFields(headers, also_protected, false);
}

void RemoveHopByHopAndFramingHeaders(HeaderList& headers) { RemoveFields(headers, nullptr, true); }

void SerializeRequestHead(const RequestHead& head, std::string& out) {
  const size_t start = out.size();
  out.resize(start + head.method.size() + 1 + head.target.size() + 11 + FieldsSize(head.headers));
  char* p = out.data() + start;
  p = Put(p, head.method.data(), head.method.size());
  *p++ = ' ';
  p = Put(p, head.target.data(), head.target.size());
  std::memcpy(p, " HTTP/1.1\r\n", 11);
  p += 11;
  WriteFields(head.headers, p);
}

namespace {

std::string_view ReasonOf(const ResponseHead& head) {
  return head.reason.empty() ? ReasonPhrase(head.status) : head.reason;
}

// The status code's digits ("" for a status to_chars cannot write).
struct StatusDigits {
  char text[16];
  size_t size = 0;
  explicit StatusDigits(int status) {
    auto [end, ec] = std::to_chars(text, text + sizeof(text), status);
    size = ec == std::errc() ? static_cast<size_t>(end - text) : 0;
  }
};

size_t HeadSize(const ResponseHead& head, const StatusDigits& digits, std::string_view reason,
                std::string_view extra_lines) {
  return 9 + digits.size + 1 + reason.size() + 2 + FieldsSize(head.headers) + extra_lines.size();
}

char* WriteHead(const ResponseHead& head, const StatusDigits& digits, std::string_view reason,
                std::string_view extra_lines, char* p) {
  std::memcpy(p, "HTTP/1.1 ", 9);
  p += 9;
  p = Put(p, digits.text, digits.size);
  *p++ = ' ';
  p = Put(p, reason.data(), reason.size());
  *p++ = '\r';
  *p++ = '\n';
  p = WriteFields(head.headers, p) - 2;  // the extra lines go before the final CRLF
  if (!extra_lines.empty()) {
    std::memcpy(p, extra_lines.data(), extra_lines.size());
    p += extra_lines.size();
  }
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

}  // namespace

size_t ResponseHeadSize(const ResponseHead& head, std::string_view extra_lines) {
  return HeadSize(head, StatusDigits(head.status), ReasonOf(head), extra_lines);
}

char* WriteResponseHead(const ResponseHead& head, std::string_view extra_lines, char* out) {
  return WriteHead(head, StatusDigits(head.status), ReasonOf(head), extra_lines, out);
}

void SerializeResponseHead(const ResponseHead& head, std::string& out,
                           std::string_view extra_lines) {
  // One status formatting and one reason lookup for both steps.
  StatusDigits digits(head.status);
  std::string_view reason = ReasonOf(head);
  const size_t start = out.size();
  out.resize(start + HeadSize(head, digits, reason, extra_lines));
  WriteHead(head, digits, reason, extra_lines, out.data() + start);
}

}  // namespace tidegate::proxy
