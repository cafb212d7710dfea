// Header rewriting between the client and the origin.
//
// Contract: pure functions on heads, thread-safe. Framing fields
// (Content-Length, Transfer-Encoding) are the stream's job and are set by it
// after these run.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "proxy/http_message.h"

namespace tidegate::proxy {

struct ForwardingInfo {
  // Textual address appended to X-Forwarded-For: the connection's peer
  // (behind a trusted front, the front; the client is then in the chain).
  std::string_view client_ip;
  bool tls = false;  // the client connection is TLS
  // [server].trusted_headers (lower-case): protected from `Connection` like
  // X-Forwarded-*. Borrowed; may be null.
  const std::vector<std::string>* trusted_headers = nullptr;
  // The Host for an HTTP/1.0 request that has none (it goes out as
  // HTTP/1.1, which requires one): the first [upstream] server's address as
  // written ("shop.internal:8080"; "localhost" for a unix socket), as
  // nginx sends its upstream's name. Borrowed.
  std::string_view origin_host;
};

// Request towards the origin: removes hop-by-hop fields (Connection and the
// fields it names except the protected ones of RemoveHopByHopHeaders, so a
// client cannot strip X-Forwarded-*, Forwarded, X-Real-IP, Cookie or
// Authorization, nor a field of info.trusted_headers; Keep-Alive, Upgrade, TE, Proxy-*; so
// `Upgrade: h2c` never reaches the origin) and Expect (the proxy answers 100-continue itself);
// appends the client to X-Forwarded-For; sets X-Forwarded-Proto; appends
// "1.1 tidegate" to Via; removes the staff bypass cookie (tg_bypass,
// __Host-tg_bypass: common/bypass_token.h) from Cookie, other cookies kept
// byte-identical; removes the fields some origins route on instead of the
// target (X-Original-URL, X-Rewrite-URL, X-Forwarded-Prefix and the like:
// the gates never judged their path) unless info.trusted_headers names
// them. Host is kept as sent; an HTTP/1.0 request without one gets
// info.origin_host.
void PrepareUpstreamRequest(RequestHead& head, const ForwardingInfo& info);

// Response towards the client: removes hop-by-hop fields, and the framing
// fields when the response has a body (head.framing != kNone); the stream
// adds its own framing and Connection fields. A bodiless response keeps the
// origin's Content-Length (HEAD, 304: it describes the representation) but
// never carries either framing field as a 1xx or 204, nor Transfer-Encoding
// to an HTTP/1.0 client (`client_version_minor` 0). A 426 keeps the
// origin's Upgrade fields (RFC 9110 §15.5.22: it MUST carry one), after the
// rest; every other response loses them.
void PrepareClientResponse(ResponseHead& head, int client_version_minor);

// Max-Forwards on TRACE and OPTIONS (RFC 9110 §7.6.2), checked when the
// request is about to be forwarded (a TRACE never gets here: the stream
// answers it first). kForward: any other method, or no field; a positive
// value is forwarded as the lesser of itself less one and kMaxForwardsCap.
// kAnswerHere: the value is 0; the request must not be forwarded and the
// proxy answers as its final recipient. kReject (400): the field is
// repeated or not one decimal number (a list, a sign, empty), so the hop
// limit cannot be honoured (docs/architecture.md says why not "absent").
enum class MaxForwardsStep { kForward, kAnswerHere, kReject };
inline constexpr uint64_t kMaxForwardsCap = 4294967295;  // 2^32 - 1
MaxForwardsStep ApplyMaxForwards(RequestHead& head);

// True for methods a proxy may replay after a failure of a reused connection.
bool IsIdempotentMethod(std::string_view method);

}  // namespace tidegate::proxy
