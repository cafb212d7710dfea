#include "proxy/forwarding_headers.h"

#include <string>

namespace tidegate::proxy {
namespace {

// Appends `item` to the list-valued field `name`, joining repeated fields
// into one (RFC 9110 §5.3: they are one comma-separated list).
void AppendToList(HeaderList& headers, std::string_view name, std::string_view item) {
  if (headers.Find(name) == nullptr) {
    headers.Add(std::string(name), std::string(item));
    return;
  }
  std::string joined;
  for (const Header& field : headers.fields()) {
    if (!EqualsIgnoreCase(field.name, name)) continue;
    if (!joined.empty()) joined += ", ";
    joined += field.value;
  }
  joined += ", ";
  joined += item;
  headers.Set(name, std::move(joined));
}

}  // namespace

void PrepareUpstreamRequest(RequestHead& head, const ForwardingInfo& info) {
  HeaderList& headers = head.headers;
  RemoveHopByHopHeaders(headers);
  headers.Remove("Expect");
  AppendToList(headers, "X-Forwarded-For", info.client_ip);
  headers.Set("X-Forwarded-Proto", info.tls ? "https" : "http");
  AppendToList(headers, "Via", "1.1 tidegate");
}

void PrepareClientResponse(ResponseHead& head) {
  RemoveHopByHopHeaders(head.headers);
  // Bodiless responses (HEAD, 204, 304) keep the origin's Content-Length: it
  // describes the representation, not this message.
  if (head.framing != BodyFraming::kNone) {
    head.headers.Remove("Transfer-Encoding");
    head.headers.Remove("Content-Length");
  }
}

bool IsIdempotentMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE" || method == "TRACE";
}

}  // namespace tidegate::proxy
