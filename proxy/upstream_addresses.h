// The origin servers' socket addresses, and keeping them current when they
// are written as host names.
//
// Contract:
// * ResolveHost() is blocking (getaddrinfo): control thread or the upstream
//   monitor's thread (proxy/upstream_monitor.h) only, never a worker.
// * AddressBook is pure logic over an injected resolver function, used by
//   one thread at a time (the monitor's); unit-tested without DNS.
// * UpstreamAddresses is the immutable value workers read through
//   proxy::Published (proxy/published.h); `version` grows with every change.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "proxy/snapshot.h"

namespace tidegate::proxy {

struct UpstreamAddresses {
  uint64_t version = 0;
  std::vector<UpstreamServer> servers;  // index = position in [upstream].servers
};

// Resolves host:port to one address: the first IPv4 answer, else the first
// IPv6 one. False + *error (the resolver's message) when there is none.
using ResolveFunction =
    std::function<bool(const std::string& host, uint16_t port, sockaddr_storage* out,
                       socklen_t* out_len, std::string* error)>;
bool ResolveHost(const std::string& host, uint16_t port, sockaddr_storage* out, socklen_t* out_len,
                 std::string* error);

// True when `host` is an IP literal (nothing to resolve).
bool IsIpLiteral(const std::string& host);

class AddressBook {
 public:
  struct NameState {
    bool is_name = false;  // written as a host name: re-resolved
    uint64_t resolve_failures = 0;
    std::string last_error;  // of the latest failed lookup; "" after a success
  };

  // `targets` as configured; `initial` their addresses resolved at load
  // (same order and size).
  AddressBook(std::vector<config::Address> targets, std::vector<UpstreamServer> initial);

  // Re-resolves every host name. A name that fails keeps its last good
  // address. True when some address changed.
  bool Refresh(const ResolveFunction& resolve);

  bool has_names() const;
  const std::vector<UpstreamServer>& servers() const { return servers_; }
  const std::vector<NameState>& names() const { return names_; }

 private:
  std::vector<config::Address> targets_;
  std::vector<UpstreamServer> servers_;
  std::vector<NameState> names_;
};

}  // namespace tidegate::proxy
