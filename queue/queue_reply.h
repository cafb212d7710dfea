// Building the answers a queued visitor sees: the queue page (HTML, with its
// own Content-Security-Policy) or JSON, with the configured status and the
// cookies of the visit.
//
// Contract: pure functions of their arguments, thread-safe.
#pragma once

#include <string>

#include "proxy/http_message.h"
#include "queue/room_visit.h"

namespace tidegate::queue {

struct Reply {
  int status = 200;
  proxy::HeaderList headers;
  std::string body;
};

// The answer to a request held back by the room (kQueued, kClosed,
// kUnavailable), as a page or JSON.
Reply QueuedReply(const CompiledRoom& room, const Visit& visit, pages::Language language, bool json,
                  const std::string& self_url, int64_t now_ms);

// The JSON of /.tidegate/queue for any outcome.
Reply StatusReply(const CompiledRoom* room, const Visit& visit, pages::Language language,
                  int64_t now_ms);

}  // namespace tidegate::queue
