// The client's address and scheme as a trusted front reports them
// ([server].trusted_proxies, client_ip_header): behind a CDN or a load
// balancer every connection's peer is the front, so the per-address rules
// (the rooms' ticket cap and pass networks, the maintenance bypass
// networks) would see one client for everybody.
//
// Contract: pure functions on a request head, thread-safe; they run per
// request only when the connection's peer is in `trusted_proxies`
// (PeerIsTrusted), so a shop without a front pays one emptiness check.
//
// ResolveClientIp walks the addresses of `field` from the right (the one
// the nearest front added) to the left, as nginx's real_ip_recursive does:
// each address in `trusted_proxies` is a front that passed the request on,
// and the first one that is not is the client. When every address is
// trusted, the leftmost is the client. An element that is not an address
// (`unknown`, an obfuscated `_hidden`, garbage) stops the walk: the last
// address accepted stands (the peer when it is the first). The field's
// lines are read in order as one comma-separated list.
//   X-Forwarded-For (and any other field): elements are addresses, IPv4
//   ("192.0.2.7", "192.0.2.7:5150"), IPv6 ("2001:db8::7",
//   "[2001:db8::7]:443").
//   Forwarded (RFC 7239): the `for=` parameter of each element (quoted or
//   not); an element without `for=` is not an address.
// The result is the address in canonical text (inet_ntop: "2001:db8::7",
// an IPv4-mapped IPv6 address as its IPv4 form).
//
// ForwardedScheme: the scheme of X-Forwarded-Proto when the request carries
// exactly one such field holding one value, `https` or `http` (any case):
// what the front's client used. A list or anything else is ignored (the
// connection's own scheme stands).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/cidr.h"
#include "proxy/http_message.h"

namespace tidegate::proxy {

bool PeerIsTrusted(std::string_view peer_ip, std::span<const common::CidrBlock> trusted_proxies);

// `field` is the lower-case field name ([server].client_ip_header). Returns
// the client's address, or nullopt when the field is absent or names no
// address before a trusted one: the peer stands.
std::optional<std::string> ResolveClientIp(const HeaderList& headers, std::string_view field,
                                           std::span<const common::CidrBlock> trusted_proxies);

// True for https, false for http, nullopt otherwise (see above).
std::optional<bool> ForwardedSchemeIsHttps(const HeaderList& headers);

// The canonical text of one address element ("192.0.2.7:5150",
// "[2001:db8::7]:443", "\"[2001:db8::7]\""): nullopt when it is not one.
std::optional<std::string> CanonicalAddress(std::string_view element);

}  // namespace tidegate::proxy
