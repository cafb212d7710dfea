// [maintenance]: settings shared by every feature's maintenance gate.
#include <arpa/inet.h>

#include <cstring>

#include "config/sections.h"
#include "config/table_reader.h"

namespace tidegate::config {
namespace {

// "10.0.0.0/8", "2001:db8::/32", "127.0.0.1" (/32), "::1" (/128). Host bits
// must be zero ("10.0.0.1/8" is most likely a typo of the network).
std::optional<CidrBlock> ParseCidr(const std::string& text, std::string* error) {
  CidrBlock block;
  block.text = text;
  std::string address = text;
  int max_len = 0;
  size_t slash = text.find('/');
  if (slash != std::string::npos) address = text.substr(0, slash);
  if (inet_pton(AF_INET, address.c_str(), block.bytes.data()) == 1) {
    max_len = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), block.bytes.data()) == 1) {
    block.ipv6 = true;
    max_len = 128;
  } else {
    *error =
        "\"" + text + "\" is not an IPv4 or IPv6 network such as \"10.0.0.0/8\" or \"::1/128\"";
    return std::nullopt;
  }
  block.prefix_len = max_len;
  if (slash != std::string::npos) {
    std::string len = text.substr(slash + 1);
    if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(len) > max_len) {
      *error = "\"" + text + "\": the prefix length must be 0-" + std::to_string(max_len);
      return std::nullopt;
    }
    block.prefix_len = std::stoi(len);
  }
  for (int bit = block.prefix_len; bit < max_len; ++bit) {
    if (block.bytes[bit / 8] & (0x80 >> (bit % 8))) {
      *error = "\"" + text + "\" has host bits set after /" + std::to_string(block.prefix_len) +
               "; write the network address";
      return std::nullopt;
    }
  }
  return block;
}

}  // namespace

void ReadMaintenanceSection(const toml::table* table, Diagnostics* diagnostics,
                            MaintenanceConfig* out) {
  TableReader maintenance(table, "maintenance", diagnostics);
  if (maintenance.ReadStringArray("api_prefixes", &out->api_prefixes)) {
    const toml::array& array = *table->get("api_prefixes")->as_array();
    for (size_t i = 0; i < out->api_prefixes.size(); ++i) {
      if (out->api_prefixes[i].empty() || out->api_prefixes[i].front() != '/') {
        diagnostics->Add(*array.get(i),
                         maintenance.KeyPath("api_prefixes") + "[" + std::to_string(i) + "]",
                         "\"" + out->api_prefixes[i] + "\" must be a path starting with '/'");
      }
    }
  }
  std::vector<std::string> cidrs;
  if (maintenance.ReadStringArray("bypass_cidrs", &cidrs)) {
    const toml::array& array = *table->get("bypass_cidrs")->as_array();
    for (size_t i = 0; i < cidrs.size(); ++i) {
      std::string error;
      auto block = ParseCidr(cidrs[i], &error);
      if (!block) {
        diagnostics->Add(*array.get(i),
                         maintenance.KeyPath("bypass_cidrs") + "[" + std::to_string(i) + "]",
                         error);
        continue;
      }
      out->bypass_cidrs.push_back(std::move(*block));
    }
  }
  maintenance.ReadDuration("bypass_cookie_max_ttl", Duration(60'000), Duration(7 * 86'400'000),
                           &out->bypass_cookie_max_ttl);
  uint64_t max_body = 0;
  if (maintenance.ReadSize("max_body_bytes", 1, 1 << 20, &max_body)) out->max_body_bytes = max_body;
  maintenance.ReportUnknownKeys();
}

}  // namespace tidegate::config
