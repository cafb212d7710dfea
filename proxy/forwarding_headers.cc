#include "proxy/forwarding_headers.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bypass_token.h"
#include "proxy/cookie_header.h"

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

// Expect, X-Forwarded-For, X-Forwarded-Proto or Via (any case): the
// fields PrepareUpstreamRequest adds to or drops. The length picks the one
// candidate.
bool IsForwardingName(std::string_view name) {
  using common::EqualsIgnoreCaseLiteral;
  switch (name.size()) {
    case 3:
      return EqualsIgnoreCaseLiteral<"via">(name);
    case 6:
      return EqualsIgnoreCaseLiteral<"expect">(name);
    case 15:
      return EqualsIgnoreCaseLiteral<"x-forwarded-for">(name);
    case 17:
      return EqualsIgnoreCaseLiteral<"x-forwarded-proto">(name);
    default:
      return false;
  }
}

// Request fields some origins route on instead of the request-target
// (Symfony before CVE-2018-14773, zend-http before ZF2018-01, IIS URL
// Rewrite, prefix-aware routers): a client's value would make the origin
// serve a path the gates never judged (audit 15). Lower-case.
constexpr std::string_view kUrlOverrideNames[] = {
    "x-original-url",        "x-rewrite-url",      "x-original-uri",        "x-forwarded-uri",
    "x-forwarded-path",      "x-forwarded-prefix", "x-envoy-original-path", "request-uri",
    "x-http-destinationurl", "x-proxy-url"};

bool IsUrlOverrideName(std::string_view name) {
  if (name.size() < 11 || name.size() > 21) return false;  // the names' lengths
  for (std::string_view candidate : kUrlOverrideNames) {
    if (EqualsIgnoreCase(name, candidate)) return true;
  }
  return false;
}

}  // namespace

void PrepareUpstreamRequest(RequestHead& head, const ForwardingInfo& info) {
  HeaderList& headers = head.headers;
  RemoveHopByHopHeaders(headers, info.trusted_headers);
  // Only HTTP/1.0 may come without Host (1.1 without one is refused); the
  // origin gets HTTP/1.1 and must see one (RFC 9112 §3.2).
  if (head.version_minor == 0 && head.host.empty() && headers.Count("Host") == 0) {
    headers.Append("Host",
                   info.origin_host.empty() ? std::string_view("localhost") : info.origin_host);
  }
  // One scan decides whether the general path is needed (a client that sent
  // none of the fields we add or drop, the usual case, just gets three
  // more) and whether there is a Cookie to look at.
  bool present = false;
  bool cookie = false;
  bool url_override = false;
  for (const Header& field : headers.fields()) {
    present = present || IsForwardingName(field.name);
    cookie = cookie || common::EqualsIgnoreCaseLiteral<"cookie">(field.name);
    url_override = url_override || IsUrlOverrideName(field.name);
  }
  if (url_override) {  // none of them is a field the scan above looked for
    for (std::string_view name : kUrlOverrideNames) {
      if (!IsListed(name, info.trusted_headers)) headers.Remove(name);
    }
  }
  // The staff bypass cookie is a secret the gates have read by now. (The
  // removal changes no field the scan above looked for but Cookie.)
  if (cookie) {
    RemoveCookie(&headers, common::kBypassCookie);
    RemoveCookie(&headers, common::kBypassCookieTls);
  }
  if (!present) {
    headers.Append("X-Forwarded-For", info.client_ip);
    headers.Append("X-Forwarded-Proto", info.tls ? std::string_view("https") : "http");
    headers.Append("Via", "1.1 tidegate");
    return;
  }
  headers.Remove("Expect");
  AppendToList(headers, "X-Forwarded-For", info.client_ip);
  headers.Set("X-Forwarded-Proto", info.tls ? "https" : "http");
  AppendToList(headers, "Via", "1.1 tidegate");
}

namespace {

// The hop-by-hop fields, and the framing ones where the core frames the body.
void StripForClient(ResponseHead& head, int client_version_minor) {
  // Bodiless responses (HEAD, 304) keep the origin's Content-Length: it
  // describes the representation, not this message. Otherwise both framing
  // fields go with the hop-by-hop ones, in one pass (the core frames the
  // body itself).
  if (head.framing != BodyFraming::kNone) {
    RemoveHopByHopAndFramingHeaders(head.headers);
    return;
  }
  RemoveHopByHopHeaders(head.headers);
  if (head.status < 200 || head.status == 204) {
    // RFC 9110 §8.6, RFC 9112 §6.1: neither field in a 1xx or 204.
    head.headers.Remove("Content-Length");
    head.headers.Remove("Transfer-Encoding");
  } else if (client_version_minor == 0) {
    head.headers.Remove("Transfer-Encoding");  // RFC 9112 §6.1: not to an HTTP/1.0 client
  }
}

}  // namespace

void PrepareClientResponse(ResponseHead& head, int client_version_minor) {
  // A 426 MUST carry Upgrade (RFC 9110 §15.5.22): the one response that
  // keeps the origin's (the stream names it in Connection). Rare: a copy.
  if (head.status == 426) {
    std::vector<std::string> upgrade;
    for (const Header& h : head.headers.fields()) {
      if (EqualsIgnoreCase(h.name, "Upgrade")) upgrade.push_back(h.value);
    }
    StripForClient(head, client_version_minor);
    for (std::string& value : upgrade) head.headers.Add("Upgrade", std::move(value));
    return;
  }
  StripForClient(head, client_version_minor);
}

MaxForwardsStep ApplyMaxForwards(RequestHead& head) {
  if (head.method != "OPTIONS" && head.method != "TRACE") return MaxForwardsStep::kForward;
  size_t fields = head.headers.Count("Max-Forwards");
  if (fields == 0) return MaxForwardsStep::kForward;
  // One field of 1*DIGIT (RFC 9110 §7.6.2). A repeated field, a list
  // ("1, 1"), a sign or anything else: the hop limit cannot be honoured,
  // so the request is refused rather than forwarded with a limit the
  // next hop may read otherwise (audit 19 F5).
  if (fields != 1) return MaxForwardsStep::kReject;
  const std::string& value = *head.headers.Find("Max-Forwards");
  if (value.empty()) return MaxForwardsStep::kReject;
  uint64_t hops = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return MaxForwardsStep::kReject;
    // Saturates above the cap: the value is only compared with it.
    if (hops <= kMaxForwardsCap) hops = hops * 10 + static_cast<uint64_t>(c - '0');
  }
  if (hops == 0) return MaxForwardsStep::kAnswerHere;
  // The lesser of the value less one and the largest one supported.
  head.headers.Set("Max-Forwards",
                   std::to_string(hops - 1 < kMaxForwardsCap ? hops - 1 : kMaxForwardsCap));
  return MaxForwardsStep::kForward;
}

bool IsIdempotentMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE" || method == "TRACE";
}

}  // namespace tidegate::proxy
