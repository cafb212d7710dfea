#include "proxy/client_address.h"

#include <arpa/inet.h>

#include <cstring>
#include <vector>

#include "common/ascii.h"

namespace tidegate::proxy {
namespace {

// The elements of every `field` line, in order (comma-separated; empty
// elements skipped, as RFC 9110 §5.6.1 asks of a recipient).
std::vector<std::string_view> ListElements(const HeaderList& headers, std::string_view field) {
  std::vector<std::string_view> out;
  for (const Header& h : headers.fields()) {
    if (!common::EqualsIgnoreCase(h.name, field)) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view element = common::TrimOws(rest.substr(0, comma));
      if (!element.empty()) out.push_back(element);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

// RFC 7239: the value of `for=` in one forwarded-element ("for=192.0.2.60;
// proto=http;by=203.0.113.43"); empty when there is none.
std::string_view ForParameter(std::string_view element) {
  while (!element.empty()) {
    size_t semi = element.find(';');
    std::string_view pair = common::TrimOws(element.substr(0, semi));
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos &&
        common::EqualsIgnoreCase(common::TrimOws(pair.substr(0, eq)), "for")) {
      return common::TrimOws(pair.substr(eq + 1));
    }
    if (semi == std::string_view::npos) break;
    element.remove_prefix(semi + 1);
  }
  return {};
}

std::optional<std::string> Canonical(int family, std::string_view text) {
  char buffer[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof buffer) return std::nullopt;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  unsigned char bytes[16];
  if (inet_pton(family, buffer, bytes) != 1) return std::nullopt;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (family == AF_INET6 && std::memcmp(bytes, kMapped, sizeof kMapped) == 0) {
    family = AF_INET;
    std::memmove(bytes, bytes + 12, 4);
  }
  char shown[INET6_ADDRSTRLEN];
  if (inet_ntop(family, bytes, shown, sizeof shown) == nullptr) return std::nullopt;
  return std::string(shown);
}

}  // namespace

std::optional<std::string> CanonicalAddress(std::string_view element) {
  if (element.size() >= 2 && element.front() == '"' && element.back() == '"') {
    element = element.substr(1, element.size() - 2);
  }
  if (!element.empty() && element.front() == '[') {  // "[v6]" or "[v6]:port"
    size_t close = element.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view after = element.substr(close + 1);
    if (!after.empty() && after.front() != ':') return std::nullopt;
    return Canonical(AF_INET6, element.substr(1, close - 1));
  }
  size_t colon = element.find(':');
  if (colon == std::string_view::npos) return Canonical(AF_INET, element);
  if (element.find(':', colon + 1) == std::string_view::npos) {  // "v4:port"
    return Canonical(AF_INET, element.substr(0, colon));
  }
  return Canonical(AF_INET6, element);  // a bare IPv6 address (no port without brackets)
}

bool PeerIsTrusted(std::string_view peer_ip, std::span<const common::CidrBlock> trusted_proxies) {
  return common::InAnyBlock(peer_ip, trusted_proxies);
}

std::optional<std::string> ResolveClientIp(const HeaderList& headers, std::string_view field,
                                           std::span<const common::CidrBlock> trusted_proxies) {
  std::vector<std::string_view> elements = ListElements(headers, field);
  bool forwarded = common::EqualsIgnoreCase(field, "forwarded");
  std::optional<std::string> client;
  for (auto it = elements.rbegin(); it != elements.rend(); ++it) {
    std::optional<std::string> address = CanonicalAddress(forwarded ? ForParameter(*it) : *it);
    if (!address) break;  // not an address: the last one accepted stands
    client = std::move(address);
    if (!common::InAnyBlock(*client, trusted_proxies)) break;  // the client
  }
  return client;
}

std::optional<bool> ForwardedSchemeIsHttps(const HeaderList& headers) {
  if (headers.Count("X-Forwarded-Proto") != 1) return std::nullopt;
  std::string_view value = common::TrimOws(*headers.Find("X-Forwarded-Proto"));
  if (common::EqualsIgnoreCase(value, "https")) return true;
  if (common::EqualsIgnoreCase(value, "http")) return false;
  return std::nullopt;
}

}  // namespace tidegate::proxy
