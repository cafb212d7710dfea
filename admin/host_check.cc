#include "admin/host_check.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/ascii.h"

namespace tidegate::admin {
namespace {

bool IsIpLiteral(const std::string& host) {
  in_addr v4{};
  in6_addr v6{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

// An empty port ("host:") is allowed by RFC 9110's grammar (port = *DIGIT).
bool AllDigits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = common::AsciiLower(c);
  return out;
}

}  // namespace

std::vector<std::string> AllowedAdminHosts(const config::AdminConfig& admin) {
  std::vector<std::string> out;
  if (admin.listen.unix_path.empty() && !admin.listen.host.empty()) {
    out.push_back(Lower(admin.listen.host));
  }
  for (const std::string& name : admin.allowed_hosts) out.push_back(Lower(name));
  return out;
}

std::string HostWithoutPort(std::string_view field) {
  std::string_view host = common::TrimOws(field);
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return "";
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !AllDigits(rest.substr(1)))) return "";
    host = host.substr(1, close - 1);
  } else if (size_t colon = host.find(':'); colon != std::string_view::npos) {
    if (host.find(':', colon + 1) != std::string_view::npos) return "";  // bare IPv6: malformed
    // The port is digits only (RFC 9110 §4.2.1): "127.0.0.1:1@evil.com" is
    // not an IP literal with a port.
    if (!AllDigits(host.substr(colon + 1))) return "";
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  for (char c : host) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == '/' || c == '@' || c == '\\') return "";
  }
  return Lower(host);
}

bool AdminHostAllowed(std::string_view host_field, const std::vector<std::string>& allowed) {
  std::string host = HostWithoutPort(host_field);
  if (host.empty()) return false;
  if (IsIpLiteral(host)) return true;
  constexpr std::string_view kLocal = ".localhost";
  if (host == "localhost" ||
      (host.size() > kLocal.size() &&
       host.compare(host.size() - kLocal.size(), kLocal.size(), kLocal.data()) == 0)) {
    return true;
  }
  for (const std::string& name : allowed) {
    if (host == name) return true;
  }
  return false;
}

}  // namespace tidegate::admin
