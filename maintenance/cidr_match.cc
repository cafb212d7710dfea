#include "maintenance/cidr_match.h"

#include <arpa/inet.h>

#include <cstring>

namespace tidegate::maintenance {
namespace {

bool PrefixEquals(const uint8_t* a, const uint8_t* b, int bits) {
  int whole = bits / 8;
  if (std::memcmp(a, b, static_cast<size_t>(whole)) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

bool AddressInBlocks(std::string_view ip, const std::vector<config::CidrBlock>& blocks) {
  if (blocks.empty() || ip.empty() || ip.size() >= INET6_ADDRSTRLEN) return false;
  char text[INET6_ADDRSTRLEN];
  std::memcpy(text, ip.data(), ip.size());
  text[ip.size()] = '\0';
  uint8_t v4[4];
  uint8_t v6[16];
  bool is_v4 = inet_pton(AF_INET, text, v4) == 1;
  bool is_v6 = !is_v4 && inet_pton(AF_INET6, text, v6) == 1;
  if (!is_v4 && !is_v6) return false;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (is_v6 && std::memcmp(v6, kMapped, 12) == 0) {
    std::memcpy(v4, v6 + 12, 4);
    is_v4 = true;
  }
  for (const config::CidrBlock& block : blocks) {
    if (block.ipv6) {
      if (is_v6 && PrefixEquals(v6, block.bytes.data(), block.prefix_len)) return true;
    } else if (is_v4 && PrefixEquals(v4, block.bytes.data(), block.prefix_len)) {
      return true;
    }
  }
  return false;
}

}  // namespace tidegate::maintenance
