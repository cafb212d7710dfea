// Building the answers a queued visitor sees: the queue page (HTML, with its
// own Content-Security-Policy) or JSON, with the configured status and the
// cookies of the visit.
//
// Contract: pure functions of their arguments, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "proxy/http_message.h"
#include "queue/queue_page.h"
#include "queue/room_visit.h"

namespace tidegate::queue {

struct Reply {
  int status = 200;
  proxy::HeaderList headers;
  // The body: `page` when set (the queue page as served: written by the
  // proxy straight into its output, FilterCallbacks::SendLocalReplyBody;
  // views the room's compiled page; the page's constant headers, Content-
  // Type and Content-Security-Policy among them, come with it and are not
  // in `headers`), else `body`.
  std::string body;
  std::optional<PageBody> page;

  // The body as text, whichever holds it (tests, logs).
  std::string Text() const { return page ? page->ToString() : body; }
};

// The URL of the queue page's "check again" link for a request target:
// proxy::NormalizePath(target) (";params" kept, case kept), so it always
// starts with exactly one "/" and never with "//" or "/\\" (which a browser
// reads as another host), followed by the original query. Every byte that
// is not allowed unescaped in a path or query (RFC 3986 pchar / "/" / "?"),
// "\\" included, is percent-encoded; a fragment is dropped. Keeping the
// query is safe once the path is fixed: it cannot change the host the link
// points to, and the visitor comes back to the page they asked for
// (e.g. "/product?size=42").
std::string SelfUrl(std::string_view target);
// The same, reusing `normalized` (proxy::NormalizePath(target) with the
// default options, which the room gate has already computed) when the
// target's path holds no ";" (the two normalisations then agree): no second
// normalisation on the queued path.
std::string SelfUrl(std::string_view target, std::string_view normalized);
// The same without a copy when the link is the target itself up to its
// fragment (the usual shop link): `normalized` (as above) equal to the
// target's path, no ";" in that path, and every byte before the fragment
// allowed unescaped in a link ("%" included: an escape is left to SelfUrl).
// A view of `target`; nullopt otherwise (then SelfUrl gives the link).
std::optional<std::string_view> SelfUrlInPlace(std::string_view target,
                                               std::string_view normalized);

// The answer to a request held back by the room (kQueued, kClosed,
// kUnavailable), as a page or JSON.
// The visit is taken by value: its Set-Cookie values are moved into the
// reply (callers std::move a visit they are done with). `storage`: an empty
// header list whose capacity the reply's headers reuse
// (proxy::FilterCallbacks::TakeReplyHeaders).
Reply QueuedReply(const CompiledRoom& room, Visit visit, pages::Language language, bool json,
                  std::string_view self_url, int64_t now_ms, proxy::HeaderList storage = {});

// The JSON of /.tidegate/queue for any outcome (cookies moved, as above).
Reply StatusReply(const CompiledRoom* room, Visit visit, pages::Language language, int64_t now_ms,
                  proxy::HeaderList storage = {});

}  // namespace tidegate::queue
