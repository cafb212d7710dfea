// HTTP/1.x message heads as the proxy core and filters see them.
//
// Contract: produced by Http1Parser (proxy/http1_codec.h) only after the head
// passed every framing check; field names keep the case the peer sent, values
// have surrounding whitespace trimmed. Heads are plain values: a stream owns
// its request head and its response head; filters may edit headers before the
// head is serialized with SerializeRequestHead / SerializeResponseHead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ascii.h"

namespace tidegate::proxy {

struct Header {
  std::string name;
  std::string value;
};

// Ordered header list with case-insensitive lookup. Small (tens of entries):
// linear scans beat hashing here.
//
// Storage reuse (no allocation per message in steady state): a field's
// name or value longer than std::string's inline buffer (15 bytes: a Date,
// a Last-Modified, "X-Forwarded-Proto", a Set-Cookie) lives on the heap.
// When fields leave a list (clear(), Remove(), Set(), the hop-by-hop
// removal), such strings go to the thread's pool of spare strings (at most
// kMaxSpare per thread, most recently given first, like malloc's own
// per-thread cache, so a reused buffer is usually still in the CPU cache),
// and the next long name or value written through Append(), Set() or
// ExtendLastName/Value() on the same thread takes one
// instead of allocating. A reused string is always assigned or cleared
// before use: nothing of a previous message is ever visible. Fields added
// through mutable_fields() directly (or by Add(), whose strings are moved
// in) work as before, without taking from the pool (their long strings are
// given to it when they leave). Lists themselves are plain values, used by
// one thread at a time as before; the pool is per thread (no locking), and
// a string kept on one thread and taken on another is just heap memory.
class HeaderList {
 public:
  // At most this many spare strings are kept per thread (a few messages'
  // long names and values); more are freed as before.
  static constexpr size_t kMaxSpare = 64;

  void Add(std::string name, std::string value);
  // Add() from views: the field's strings are built in place, without the
  // temporaries Add()'s by-value arguments need for a literal. The views
  // must not point into this list's own fields (adding may move them).
  void Append(std::string_view name, std::string_view value);
  // For a parser that receives a field in pieces: AppendEmpty() starts a
  // field (empty name and value), ExtendLastName/ExtendLastValue() append
  // a piece to the last field's name or value, taking a spare string when
  // the piece makes it longer than its storage. The list must not be
  // empty for ExtendLast*().
  Header& AppendEmpty() { return fields_.emplace_back(); }
  void ExtendLastName(std::string_view piece) { Extend(fields_.back().name, piece); }
  void ExtendLastValue(std::string_view piece) { Extend(fields_.back().value, piece); }
  // First value of `name`, or nullptr.
  const std::string* Find(std::string_view name) const;
  // Number of fields named `name`.
  size_t Count(std::string_view name) const;
  // Removes every field named `name`; returns how many were removed.
  size_t Remove(std::string_view name);
  // Replaces every `name` field by one with `value` (appended if absent).
  void Set(std::string_view name, std::string value);

  const std::vector<Header>& fields() const { return fields_; }
  std::vector<Header>& mutable_fields() { return fields_; }
  size_t size() const { return fields_.size(); }
  // Removes every field (their long strings go to the thread's pool).
  void clear() {
    for (Header& h : fields_) {
      Keep(h.name);
      Keep(h.value);
    }
    fields_.clear();
  }
  // Gives `field`'s long strings to the thread's pool (leaving them empty):
  // for code that drops fields through mutable_fields() itself.
  static void ReleaseStorage(Header& field) {
    Keep(field.name);
    Keep(field.value);
  }

 private:
  static constexpr size_t kInlineChars = 15;  // libstdc++'s std::string inline buffer
  static void Keep(std::string& s) {
    if (s.capacity() > kInlineChars) KeepSlow(s);
  }
  static void KeepSlow(std::string& s);
  // `s` (a new field's empty string) = `text`, in a spare string when
  // `text` does not fit inline.
  static void Fill(std::string& s, std::string_view text) {
    if (text.size() > kInlineChars) {
      FillLong(s, text);
      return;
    }
    // append to a new empty string: libstdc++'s short path (assign goes
    // through the general _M_replace).
    s.append(text.data(), text.size());
  }
  static void FillLong(std::string& s, std::string_view text);
  static void Extend(std::string& s, std::string_view piece);

  std::vector<Header> fields_;
};

// The thread's pool of spare strings (HeaderList above): an empty string
// with the storage of one a header list on this thread gave up, or an empty
// new one when there is none. For a caller that builds a long value to add
// to a list with Add() (e.g. a Set-Cookie): its storage goes round.
std::string TakeSpareString();
// How many spare strings this thread holds (tests).
size_t SpareStringCount();

// The standard reason phrase of `status` ("Not Found"), or "" when unknown.
// The one table of phrases: the codec, error pages and the admin API use it.
std::string_view ReasonPhrase(int status);

// ASCII case-insensitive equality (header names, tokens): common/ascii.h.
using common::EqualsIgnoreCase;

// True when the comma-separated header `value` holds `token` (case-insensitive),
// e.g. HasToken("keep-alive, Upgrade", "upgrade").
bool HasToken(std::string_view value, std::string_view token);

struct RequestHead;
// True when `head` is a CORS preflight (Fetch standard, "CORS-preflight
// request"): method OPTIONS with an `Origin` field and a non-empty
// `Access-Control-Request-Method` field. A browser sends it without
// cookies or credentials; a plain OPTIONS (either field missing) is not one.
bool IsCorsPreflight(const RequestHead& head);

enum class BodyFraming {
  kNone,           // no body (GET without CL/TE, 204, 304, HEAD response, 1xx)
  kContentLength,  // exactly content_length bytes
  kChunked,        // chunked transfer coding
  kUntilClose,     // response only: body ends when the origin closes
};

// A member added to RequestHead or ResponseHead is reset in
// ClearHeadKeepingStorage below too.
struct RequestHead {
  std::string method;  // upper-case token, e.g. "GET"
  std::string target;  // request-target as sent (origin-form after normalisation of absolute-form)
  int version_minor = 1;  // HTTP/1.<minor>; 0 or 1
  HeaderList headers;
  // Derived by the parser:
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;   // valid when framing == kContentLength
  bool keep_alive = true;        // the client allows reuse after this exchange
  bool expect_continue = false;  // "Expect: 100-continue"
  std::string host;              // the Host value (authority), lower-cased
};

struct ResponseHead {
  int status = 0;
  std::string reason;
  int version_minor = 1;
  HeaderList headers;
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;  // the origin allows reuse after this exchange
  // The head holds a Date field: set by the parser in the same pass that
  // finds the framing fields (http1::FinishResponseHead), so the stream adds
  // its own Date only when the origin sent none, without a second scan. A
  // filter that adds or removes Date updates it.
  bool has_date = false;
  // The head holds a Set-Cookie field: set in the same pass, so the stream
  // looks for tidegate's own cookie names (proxy/origin_set_cookie.h) only
  // in a response that sets a cookie.
  bool has_set_cookie = false;
};

// Back to a default-constructed head (RequestHead{} / ResponseHead{}),
// member by member: the field vector and the strings keep their capacity,
// and no temporary head is built and moved from. A member added to the
// heads above is reset here too.
inline void ClearHeadKeepingStorage(RequestHead& head) {
  head.method.clear();
  head.target.clear();
  head.version_minor = 1;
  head.headers.clear();
  head.framing = BodyFraming::kNone;
  head.content_length = 0;
  head.keep_alive = true;
  head.expect_continue = false;
  head.host.clear();
}
inline void ClearHeadKeepingStorage(ResponseHead& head) {
  head.status = 0;
  head.reason.clear();
  head.version_minor = 1;
  head.headers.clear();
  head.framing = BodyFraming::kNone;
  head.content_length = 0;
  head.keep_alive = true;
  head.has_date = false;
  head.has_set_cookie = false;
}

// Header storage reuse (no allocation per head and exchange): a head taken
// from a parser hands the taker's former field vector back, cleared but
// with its capacity (its long field strings go to the thread's pool), so
// the parser's next message fills storage that already exists; a head
// reset between exchanges (ClearHeadKeepingStorage) keeps its storage too.
// `from`'s other members are left moved-from.
template <typename Head>
void TakeHeadReturningStorage(Head& into, Head&& from) {
  into.headers.clear();
  std::vector<Header> spare = std::move(into.headers.mutable_fields());
  into = std::move(from);
  from.headers.mutable_fields() = std::move(spare);
}

// True when `names` (may be null) holds `name`, compared without case.
bool IsListed(std::string_view name, const std::vector<std::string>* names);

// Hop-by-hop fields (RFC 9110 §7.6.1) plus every field named in `Connection`.
// Removes them from `headers` in place. `Connection` cannot remove the
// protected fields: Transfer-Encoding and Content-Length (framing is the
// core's job), Host, Forwarded, every X-Forwarded-*, X-Real-IP, Cookie,
// Authorization and Date (an origin's Date must reach the client, and
// ResponseHead::has_date stays true; names compared without regard to
// case), nor any field named
// in `also_protected` (lower-case names: [server].trusted_headers; may be
// null).
void RemoveHopByHopHeaders(HeaderList& headers,
                           const std::vector<std::string>* also_protected = nullptr);
// RemoveHopByHopHeaders (no also_protected) plus every Content-Length and
// Transfer-Encoding field, in one pass: a response head whose body the core
// frames itself (PrepareClientResponse).
void RemoveHopByHopAndFramingHeaders(HeaderList& headers);

// Appends "METHOD target HTTP/1.1\r\n" + fields + "\r\n" to `out`.
void SerializeRequestHead(const RequestHead& head, std::string& out);
// Appends "HTTP/1.1 status reason\r\n" + fields + `extra_lines` + "\r\n"
// to `out`; `extra_lines` are complete field lines ("Name: value\r\n"), e.g.
// the worker's Date line (proxy/http_date.h), written without a HeaderList
// entry of their own.
void SerializeResponseHead(const ResponseHead& head, std::string& out,
                           std::string_view extra_lines = {});
// The same in two steps, for a caller with its own memory (the local-reply
// writer serializes onto its stack): the exact size SerializeResponseHead
// appends, then the bytes written at `out`, which has that much room;
// returns the end.
size_t ResponseHeadSize(const ResponseHead& head, std::string_view extra_lines = {});
char* WriteResponseHead(const ResponseHead& head, std::string_view extra_lines, char* out);

}  // namespace tidegate::proxy
