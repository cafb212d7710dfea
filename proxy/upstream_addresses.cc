#include "proxy/upstream_addresses.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>

namespace tidegate::proxy {

bool IsIpLiteral(const std::string& host) {
  in6_addr v6;
  in_addr v4;
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

bool ResolveHost(const std::string& host, uint16_t port, sockaddr_storage* out, socklen_t* out_len,
                 std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  std::string port_text = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    *error = rc != 0 ? gai_strerror(rc) : "no address";
    return false;
  }
  // IPv4 first: "localhost" is both 127.0.0.1 and ::1, and origins that
  // listen on one family usually listen on IPv4.
  const addrinfo* chosen = result;
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      chosen = ai;
      break;
    }
  }
  memset(out, 0, sizeof(*out));
  memcpy(out, chosen->ai_addr, chosen->ai_addrlen);
  *out_len = chosen->ai_addrlen;
  freeaddrinfo(result);
  return true;
}

AddressBook::AddressBook(std::vector<config::Address> targets, std::vector<UpstreamServer> initial)
    : targets_(std::move(targets)), servers_(std::move(initial)), names_(targets_.size()) {
  for (size_t i = 0; i < targets_.size(); ++i) names_[i].is_name = !IsIpLiteral(targets_[i].host);
}

bool AddressBook::has_names() const {
  for (const NameState& name : names_) {
    if (name.is_name) return true;
  }
  return false;
}

bool AddressBook::Refresh(const ResolveFunction& resolve) {
  bool changed = false;
  for (size_t i = 0; i < targets_.size(); ++i) {
    if (!names_[i].is_name) continue;
    sockaddr_storage addr{};
    socklen_t len = 0;
    std::string error;
    if (!resolve(targets_[i].host, targets_[i].port, &addr, &len, &error)) {
      ++names_[i].resolve_failures;
      names_[i].last_error = error.empty() ? "lookup failed" : error;
      continue;  // the last good address stays
    }
    names_[i].last_error.clear();
    UpstreamServer& server = servers_[i];
    if (len == server.addr_len && memcmp(&addr, &server.addr, len) == 0) continue;
    server.addr = addr;
    server.addr_len = len;
    changed = true;
  }
  return changed;
}

}  // namespace tidegate::proxy
