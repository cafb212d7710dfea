// The admin API's Host check against DNS rebinding (issue 14).
//
// A web page on an attacker's domain can make a browser on an operator's
// machine send requests to the admin listener on 127.0.0.1 by re-pointing
// its name there; those requests carry the attacker's name in Host. The
// admin API answers only requests whose Host (port removed, case and a
// trailing dot ignored) is:
//   * an IP literal ("127.0.0.1", "[::1]", "10.0.0.5"): a browser sends an
//     IP only to a page loaded from that IP, never for a rebound name;
//   * "localhost" or a name under ".localhost";
//   * the host of `[admin].listen`;
//   * a name of `[admin].allowed_hosts`.
// Requests over the unix socket are not checked (no browser reaches it).
// Anything else, a missing Host included, gets 421 (docs/admin-api.md).
//
// Contract: pure functions, thread-safe, no I/O, no name resolution.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace tidegate::admin {

// The names AdminHostAllowed accepts besides IP literals and localhost:
// the listener's host and [admin].allowed_hosts, lower case.
std::vector<std::string> AllowedAdminHosts(const config::AdminConfig& admin);

// The host of a Host field value: without the port and the brackets of an
// IPv6 literal, lower case, without a trailing dot. "" when malformed.
std::string HostWithoutPort(std::string_view host_field);

// True when `host_field` (the Host header's value) may reach the admin API.
bool AdminHostAllowed(std::string_view host_field, const std::vector<std::string>& allowed);

}  // namespace tidegate::admin
